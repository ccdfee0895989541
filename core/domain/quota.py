"""Disk quotas for a member's work and backup folders (limits work_space, backup_space)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.domain.config import Config
from core.domain.model import Account

GB = 1024**3
# The quota limits, in GB: set by an admin (`booking users limit --work-space`) or the config.
QUOTA_KEYS = ("work_space", "backup_space")


def quota_gb(account: Account, key: str, config: Config) -> float | None:
    """The member's quota in GB (None: no limit): the admin-set value, then
    `limits.users` in the config, then `limits.default` (as limits_of)."""
    value = account.limits.get(key)
    own = config.limits.users.get(account.name)
    if value is None and own is not None:
        value = getattr(own, key)
    if value is None:
        value = getattr(config.limits.default, key)
    return None if value in (None, "max") else float(value)


def quota_folders(
    config: Config, account: Account, work: Path, backup: Path
) -> dict[str, tuple[Path, float | None]]:
    """The member's folders by their name in the container, each with its quota."""
    return {
        "work": (work, quota_gb(account, "work_space", config)),
        "backup": (backup, quota_gb(account, "backup_space", config)),
    }


@dataclass(frozen=True)
class QuotaProblem:
    """A folder over its quota."""

    folder: str  # "work" or "backup": the folder's name
    path: Path  # on the host
    used_bytes: int
    limit_gb: float

    @property
    def used_gb(self) -> float:
        return self.used_bytes / GB

    @property
    def to_free_gb(self) -> float:
        return (self.used_bytes - int(self.limit_gb * GB)) / GB
