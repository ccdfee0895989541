"""What can go wrong with a member's files, and the byte budget of a copy: plain types, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


class UnsafePath(Exception):
    """A path of the member's leads somewhere it may not (a symbolic link, or not
    the kind of file expected). The message names the path as the member sees it."""


class OverBudget(Exception):
    """A copy would take more bytes than the member has left."""


@dataclass
class Budget:
    """Bytes a copy may still write (None: no limit). Every entry costs its header."""

    left: int | None

    def take(self, size: int, name: str) -> None:
        if self.left is None:
            return
        if size > self.left:
            raise OverBudget(name)
        self.left -= size


class BadArchive(Exception):
    """The archive is not one tree we can take (absolute or `..` names, two tops)."""
