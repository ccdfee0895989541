"""What the lifecycle runner needs from outside the services: the member-facing
words (core/chat/lifecycle_messages.py) and the member's folders on the host
(core/runtime/host_files.py). bot/ injects both; tests may fake them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.domain.backup_plan import BackupItem
from core.domain.config import Config
from core.domain.files import Budget
from core.domain.model import Account, Booking
from core.domain.quota import QuotaProblem
from core.services.notifier import Message


class LifecycleWords(Protocol):
    """Every sentence the lifecycle tells a member or the admins."""

    def start_problem(self, error: str, image: str) -> str: ...

    def ready(self, config: Config, booking: Booking, account: Account, notes: list[str]) -> Message: ...

    def restarted(self, config: Config, booking: Booking, account: Account, notes: list[str],
                  restarts: int = 1) -> Message: ...

    def restart_failed(self, booking: Booking, reason: str, restarts: int = 1) -> Message: ...

    def reminder(self, config: Config, booking: Booking, account: Account, minutes: int) -> Message: ...

    def ended(self, config: Config, booking: Booking, saved: list[str], missing: list[str],
              not_saved: Sequence[str] = (), notes: Sequence[str] = ()) -> Message: ...

    def backup_failed(self) -> str: ...

    def backup_folder_unusable(self, why: str) -> str: ...

    def plan_not_understood(self, problem: str) -> str: ...

    def failed(self, booking: Booking, reason: str) -> Message: ...

    def admin_failed(self, booking: Booking, reason: str) -> Message: ...

    def over_quota(self, config: Config, booking: Booking, problems: list[QuotaProblem],
                   admins: list[str]) -> Message: ...

    def quota_reason(self, booking: Booking, problems: list[QuotaProblem]) -> str: ...

    def restored(self, config: Config, booking: Booking, account: Account, now: datetime) -> Message: ...

    def recovery_given_up(self, booking: Booking, times: int, minutes: int) -> Message: ...

    def admin_recovery_given_up(self, booking: Booking, times: int, minutes: int) -> Message: ...

    def admin_end_stuck(self, booking: Booking, reason: str, since: datetime) -> Message: ...


class MemberFiles(Protocol):
    """The member's work and backup folders on the host. Paths that lead elsewhere
    raise core.domain.files.UnsafePath; a copy over its budget raises OverBudget."""

    def member_folders(self, config: Config, account: str) -> tuple[Path, Path]:
        """(work, backup), made when missing."""

    def load_plan(self, backup_dir: Path) -> list[BackupItem]:
        """The member's backup.yaml (BackupPlanError when it is not understood)."""

    def entry_kind(self, root: Path | str, relative: str) -> str | None: ...

    def tree_bytes(self, root: Path | str, relative: str = "") -> int: ...

    def staging_folder(self, backup_root: Path | str) -> Path: ...

    def remove_staging(self, path: Path) -> None: ...

    def extract(self, chunks: Iterable[bytes], staging: Path, budget: Budget) -> str: ...

    def move_into_place(self, staging: Path, top: str, root: Path | str, relative: str) -> None: ...

    def over_quota(self, folders: dict[str, tuple[Path, float | None]]) -> list[QuotaProblem]: ...
