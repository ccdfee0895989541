"""The member's backup.yaml (the old system's format).

    Dir:
      - [conda, /root/.conda]        # [path under the backup folder, path in the container]
    File:
      - [bashrc, /root/.bashrc]

At the end of a booking each container path is copied out to its backup path;
at the next start each backup path that exists is copied back to its
container path before the container starts (a copy, not a mount, so the member
may edit, replace or delete it), and copied out again at the end.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

import yaml

PLAN_FILE = "backup.yaml"

TEMPLATE = """\
# Paths kept between your bookings. At the end of a booking each path in the
# container is copied to your backup folder; at the next start it is put back.
# Each entry is [path under your backup folder, absolute path in the container].
Dir:
  - [ssh, /root/.ssh]
File:
  - [bashrc, /root/.bashrc]
"""


class BackupPlanError(ValueError):
    pass


@dataclass(frozen=True)
class BackupItem:
    backup_path: str  # relative to the member's backup folder
    container_path: str
    is_dir: bool


def parse_plan(text: str) -> list[BackupItem]:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise BackupPlanError("expected `Dir:` and `File:` lists")
    unknown = set(data) - {"Dir", "File"}
    if unknown:
        raise BackupPlanError(f"unknown key(s) {sorted(unknown)}; use Dir and File")
    items: list[BackupItem] = []
    for key in ("Dir", "File"):
        for entry in data.get(key) or []:
            if not (isinstance(entry, list) and len(entry) == 2):
                raise BackupPlanError(f"{key}: each entry is [backup path, container path]")
            backup, inside = (str(part) for part in entry)
            items.append(
                BackupItem(_safe_relative(backup), _safe_absolute(inside), is_dir=key == "Dir")
            )
    return items


def load_plan(backup_dir: Path) -> list[BackupItem]:
    """The member's plan; the template is copied in on first use."""
    path = backup_dir / PLAN_FILE
    if not path.exists():
        backup_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE, encoding="utf-8")
    return parse_plan(path.read_text(encoding="utf-8"))


def _safe_relative(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    if not path.strip() or normal.startswith(("/", "..")) or normal in (".", PLAN_FILE):
        raise BackupPlanError(f"backup path {path!r} must stay inside your backup folder")
    return normal


def _safe_absolute(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    if not normal.startswith("/") or normal == "/":
        raise BackupPlanError(f"container path {path!r} must be an absolute path below /")
    return normal
