"""From a booking to the ContainerSpec of its container (the old `docker run` settings)."""

from __future__ import annotations

import math
import re
from pathlib import Path

from core.domain.backup_plan import BackupItem
from core.domain.config import Config
from core.domain.container import (
    ACCOUNT_LABEL,
    BOOKING_LABEL,
    MANAGED_LABEL,
    SERVER_LABEL,
    ContainerSpec,
    Mount,
    RestoreCopy,
)
from core.domain.model import Account, Booking

# The member's extra command runs as the old `docker run ... IMAGE bash -c CMD` did:
# through bash inside their own container (sh where the image has no bash), so `&&`,
# pipes and redirections work. It is one argument here, never seen by a host shell.
_RUN_IN_SHELL = 'if command -v bash >/dev/null 2>&1; then exec bash -c "$1"; fi; exec sh -c "$1"'


def shell_command(command: str) -> tuple[str, ...]:
    """The container's command for a member's extra command."""
    return ("/bin/sh", "-c", _RUN_IN_SHELL, "extra-command", command)


def container_name(booking: Booking) -> str:
    account = re.sub(r"[^a-zA-Z0-9_.-]", "-", booking.account) or "member"
    return f"booking-{account}-{booking.id}"


def memory_split(memory_gb: int, ram_gb: int, swap_gb: int) -> tuple[int, int]:
    """(RAM part, shm) of a booking's memory, split as the host's RAM and swap are."""
    ram_part = min(memory_gb, math.ceil(memory_gb * ram_gb / (ram_gb + swap_gb)))
    return ram_part, memory_gb - ram_part


def member_paths(config: Config, account: str) -> tuple[Path, Path]:
    """(work, backup) folder paths of a member; nothing is made or checked on disk."""
    return Path(config.volumes.work) / account, Path(config.volumes.backup) / account


def build_spec(
    config: Config, booking: Booking, account: Account, *, password: str,
    restore: list[BackupItem],
) -> ContainerSpec:
    assert booking.id is not None
    work, backup = member_paths(config, booking.account)
    inside = config.container
    mounts = [
        Mount(str(work), inside.work_mount),
        Mount(str(backup), inside.backup_mount),
        Mount(config.volumes.dataset, inside.dataset_mount, read_only=True),
    ]
    # Restored paths are copied in before the start, not bind-mounted: a single-file
    # mount cannot be replaced (`sed -i`, `rm`, editors that save by rename fail).
    copies = tuple(RestoreCopy(str(backup), item.backup_path, item.container_path)
                   for item in restore)
    ram_part, shm = memory_split(
        booking.resources.memory, config.capacity.ram, config.capacity.swap
    )
    # PASSWORD is what the old images read to set the login password.
    environment = {"PASSWORD": password}
    return ContainerSpec(
        name=container_name(booking),
        image=booking.image,
        labels={
            MANAGED_LABEL: "true",
            BOOKING_LABEL: str(booking.id),
            ACCOUNT_LABEL: booking.account,
            SERVER_LABEL: config.server.name,
        },
        cpus=booking.resources.cpus,
        ram_gb=ram_part,
        memory_gb=booking.resources.memory,
        shm_gb=shm,
        gpu_ids=booking.gpu_ids,
        ssh_port=booking.port,
        mounts=tuple(mounts),
        restore=copies,
        environment=environment,
        command=shell_command(booking.command) if booking.command else (),
        authorized_keys=account.ssh_keys.strip(),
        login_user=inside.user,
        pids_limit=inside.pids_limit,
        disk_gb=inside.disk_gb,
    )
