"""The sections of booking.yaml about running the service (core/domain/config.py): the
scheduler, the containers, idle GPUs, and the chat channels."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from core.domain.config_values import Int, NonNeg, Real, StrictSection


class SchedulerSection(StrictSection):
    """When and how `booking serve` starts and ends containers."""

    reconcile_seconds: Annotated[Real, Field(gt=0)] = 30
    reminder_minutes: NonNeg = 30
    start_deadline_minutes: Annotated[Real, Field(gt=0)] = 10
    stop_grace_seconds: NonNeg = 30
    ssh_wait_seconds: Annotated[Real, Field(gt=0)] = 60
    ssh_check_host: str = "127.0.0.1"
    workers: Annotated[Int, Field(gt=0, le=256)] = 8


class ContainerSection(StrictSection):
    """Where a member's folders appear inside the container, and who logs in."""

    user: str = "root"
    # The old system's mount points: members' scripts and dotfiles use them.
    work_mount: str = "/root/Work"
    dataset_mount: str = "/root/Dataset"
    backup_mount: str = "/root/Backup"
    pids_limit: Annotated[int, Field(ge=64)] = 4096  # processes and threads per container
    # Cap of the container's writable layer in GB (docker's `storage_opt size`): only
    # overlay2 on xfs with pquota, btrfs and zfs support it; leave unset elsewhere.
    disk_gb: Annotated[int, Field(gt=0)] | None = None


class IdleSection(StrictSection):
    """Running bookings whose GPUs all sit below `threshold_percent` use: the member is
    asked after `notify_hours` (null: never), the booking ended after `release_hours`
    of idleness with no answer (null, the default: never)."""

    notify_hours: Annotated[Real, Field(gt=0)] | None = 4
    release_hours: Annotated[Real, Field(gt=0)] | None = None
    threshold_percent: Annotated[Real, Field(gt=0, le=100)] = 5

    @model_validator(mode="after")
    def _asked_before_ended(self) -> IdleSection:
        if self.release_hours is not None and (
            self.notify_hours is None or self.release_hours <= self.notify_hours
        ):
            raise ValueError("release_hours must be more than notify_hours: members are asked "
                             "first (set notify_hours, or leave release_hours out)")
        return self


class SlackSection(StrictSection):
    # A channel (id, e.g. C0123456) that gets a line when a booking starts or ends.
    announce_channel: str | None = None


class DiscordSection(StrictSection):
    # A channel (its id) where the bot keeps one message up to date: what is free, what
    # runs and what comes (bot/discord/board.py).
    board_channel: Annotated[int, Field(gt=0)] | None = None
