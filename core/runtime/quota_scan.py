"""How much of their quota a member's folders use: walking the folders on the host."""

from __future__ import annotations

import os
from pathlib import Path

from core.domain.quota import GB, QuotaProblem


def folder_bytes(path: Path) -> int:
    """Bytes used by the files under `path` (symlinks are not followed)."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:
                continue
    return total


def over_quota(folders: dict[str, tuple[Path, float | None]]) -> list[QuotaProblem]:
    """The folders over their limit (GB; None = no limit)."""
    problems = []
    for label, (path, limit_gb) in folders.items():
        if limit_gb is None:
            continue
        used = folder_bytes(path)
        if used > int(limit_gb * GB):
            problems.append(QuotaProblem(label, path, used, limit_gb))
    return problems
