"""Disk quotas for a member's work and backup folders (limits work_space, backup_space)."""

from __future__ import annotations

import os
from pathlib import Path

GB = 1024**3


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


def over_quota(folders: dict[str, tuple[Path, float | None]]) -> list[str]:
    """One line per folder over its limit (GB; None = no limit), saying how much to free."""
    problems = []
    for label, (path, limit_gb) in folders.items():
        if limit_gb is None:
            continue
        used = folder_bytes(path)
        limit = int(limit_gb * GB)
        if used > limit:
            problems.append(
                f"your {label} folder {path} uses {used / GB:.1f} GB of {limit_gb:g} GB; "
                f"free at least {(used - limit) / GB:.1f} GB"
            )
    return problems
