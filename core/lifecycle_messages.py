"""What the scheduler tells members and admins."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import tzlocal

from core.config import Config
from core.domain import Account, Booking
from core.messages import Action, local_time
from core.notifier import Message, MessageKind
from core.passwords import PASSWORD_PLACEHOLDER


def zone_of(config: Config, account: Account | None) -> tzinfo:
    name = (account.timezone if account else None) or config.server.timezone
    return ZoneInfo(name) if name else tzlocal.get_localzone()


def ready(config: Config, booking: Booking, account: Account, notes: list[str]) -> Message:
    host, port, user = config.server.public_host, booking.port, config.container.user
    inside = config.container
    text = "\n".join([
        f"Your booking #{booking.id} is ready until "
        f"{local_time(booking.end, zone_of(config, account))}.",
        f"  host:     {host}",
        f"  port:     {port}",
        f"  user:     {user}",
        f"  password: {PASSWORD_PLACEHOLDER}",
        f"  ssh -p {port} {user}@{host}",
        f"Work folder {inside.work_mount}, backup folder {inside.backup_mount}, "
        f"datasets (read-only) {inside.dataset_mount}.",
        *notes,
    ])
    return Message(MessageKind.READY, text, booking.id, (
        Action("Extend 1 day", f"extend {booking.id} 1-day"),
        Action("End now", f"end {booking.id}", "danger"),
        Action("Restart", f"restart {booking.id}"),
    ))


def restarted(config: Config, booking: Booking, account: Account, notes: list[str]) -> Message:
    host, port, user = config.server.public_host, booking.port, config.container.user
    text = "\n".join([
        f"The container of booking #{booking.id} was restarted, as you asked. "
        "Log in as before, with the same password:",
        f"  ssh -p {port} {user}@{host}",
        f"Your files in {config.container.work_mount} and {config.container.backup_mount} are "
        f"as you left them; it still ends at {local_time(booking.end, zone_of(config, account))}.",
        *notes,
    ])
    return Message(MessageKind.INFO, text, booking.id)


def restart_failed(booking: Booking, reason: str) -> Message:
    text = (
        f"The container of booking #{booking.id} could not be restarted: {reason}. "
        f"Try `restart {booking.id}` again in a minute; if it keeps failing, ask an admin."
    )
    return Message(MessageKind.INFO, text, booking.id)


def reminder(config: Config, booking: Booking, account: Account, minutes: int) -> Message:
    text = (
        f"Booking #{booking.id} ends at {local_time(booking.end, zone_of(config, account))} "
        f"(in about {minutes} minutes). Your backup paths are saved at the end. "
        f"To keep it longer: `extend {booking.id} 1-day`."
    )
    return Message(MessageKind.REMINDER, text, booking.id, (
        Action("Extend 1 day", f"extend {booking.id} 1-day", "primary"),
    ))


def ended(booking: Booking, saved: list[str], missing: list[str], backup_dir: str) -> Message:
    text = f"Booking #{booking.id} has ended; its container is removed."
    if saved:
        text += f" Backed up to {backup_dir}: {', '.join(saved)}."
    if missing:
        text += f" Not found in the container, so not backed up: {', '.join(missing)}."
    return Message(MessageKind.ENDED, text, booking.id)


def failed(booking: Booking, reason: str) -> Message:
    text = (
        f"Booking #{booking.id} could not start: {reason}. Its resources are free again; "
        "book anew once that is fixed (the admins have been told)."
    )
    return Message(MessageKind.FAILED, text, booking.id)


def admin_failed(booking: Booking, reason: str) -> Message:
    return Message(
        MessageKind.ADMIN, f"Booking #{booking.id} of {booking.account} failed: {reason}",
        booking.id,
    )


def restored(booking: Booking, now: datetime) -> Message:
    return Message(
        MessageKind.INFO,
        f"The container of booking #{booking.id} had stopped and was started again "
        f"({now:%H:%M} UTC); log in with the same password.",
        booking.id,
    )
