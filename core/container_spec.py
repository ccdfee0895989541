"""From a booking to the ContainerSpec of its container (the old `docker run` settings)."""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

from core.backup_plan import BackupItem
from core.config import Config
from core.domain import Account, Booking
from core.runtime import (
    ACCOUNT_LABEL,
    BOOKING_LABEL,
    MANAGED_LABEL,
    SERVER_LABEL,
    ContainerSpec,
    Mount,
)


def container_name(booking: Booking) -> str:
    account = re.sub(r"[^a-zA-Z0-9_.-]", "-", booking.account) or "member"
    return f"booking-{account}-{booking.id}"


def memory_split(memory_gb: int, ram_gb: int, swap_gb: int) -> tuple[int, int]:
    """(RAM part, shm) of a booking's memory, split as the host's RAM and swap are."""
    ram_part = min(memory_gb, math.ceil(memory_gb * ram_gb / (ram_gb + swap_gb)))
    return ram_part, memory_gb - ram_part


def member_folders(config: Config, account: str) -> tuple[Path, Path]:
    """(work, backup) folders of a member on the host."""
    return Path(config.volumes.work) / account, Path(config.volumes.backup) / account


def build_spec(
    config: Config, booking: Booking, account: Account, *, password: str,
    restore: list[BackupItem],
) -> ContainerSpec:
    assert booking.id is not None
    work, backup = member_folders(config, booking.account)
    inside = config.container
    mounts = [
        Mount(str(work), inside.work_mount),
        Mount(str(backup), inside.backup_mount),
        Mount(config.volumes.dataset, inside.dataset_mount, read_only=True),
    ]
    # Restored paths are copied in before the start, not bind-mounted: a single-file
    # mount cannot be replaced (`sed -i`, `rm`, editors that save by rename fail).
    copies = tuple(Mount(str(backup / item.backup_path), item.container_path)
                   for item in restore)
    ram_part, shm = memory_split(
        booking.resources.memory, config.capacity.ram, config.capacity.swap
    )
    environment = {"PASSWORD": password}
    if account.ssh_keys.strip():
        environment["SSH_AUTHORIZED_KEYS"] = account.ssh_keys.strip()
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
        # The member's extra command is split like a shell would, but never run by one.
        command=tuple(shlex.split(booking.command)) if booking.command else (),
    )
