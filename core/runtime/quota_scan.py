"""How much of their quota a member's folders use: walking the folders on the host."""

from __future__ import annotations

from pathlib import Path

from core.domain.quota import GB, QuotaProblem
from core.runtime.member_files import tree_bytes


def over_quota(folders: dict[str, tuple[Path, float | None]]) -> list[QuotaProblem]:
    """The folders over their limit (GB; None = no limit)."""
    problems = []
    for label, (path, limit_gb) in folders.items():
        if limit_gb is None:
            continue
        used = tree_bytes(path)  # each folder opened without following a link
        if used > int(limit_gb * GB):
            problems.append(QuotaProblem(label, path, used, limit_gb))
    return problems
