"""Reading the member's backup.yaml from their backup folder (written from the template on first use)."""

from __future__ import annotations

from pathlib import Path

from core.domain.backup_plan import (
    MAX_PLAN_BYTES,
    PLAN_FILE,
    TEMPLATE,
    BackupItem,
    BackupPlanError,
    parse_plan,
)
from core.domain.files import UnsafePath
from core.runtime.member_files import create_file, read_file


def load_plan(backup_dir: Path) -> list[BackupItem]:
    """The member's plan; the template is written on first use (never through a link)."""
    try:
        data = read_file(backup_dir, PLAN_FILE, limit=MAX_PLAN_BYTES)
        if data is None:
            create_file(backup_dir, PLAN_FILE, TEMPLATE.encode())
            data = read_file(backup_dir, PLAN_FILE, limit=MAX_PLAN_BYTES) or b""
    except UnsafePath as exc:
        raise BackupPlanError(str(exc)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BackupPlanError(f"line {line}: not UTF-8 text") from None
    return parse_plan(text)
