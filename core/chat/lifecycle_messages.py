"""What the scheduler tells members and admins."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from core.chat.actions import booking_actions, restart_action, stored
from core.chat.messages import Action
from core.domain.config import Config
from core.domain.model import Account, Booking, Status
from core.domain.passwords import PASSWORD_PLACEHOLDER
from core.domain.quota import QuotaProblem
from core.domain.zones import local_time, member_zone
from core.services.notifier import Message, MessageKind

_IMAGE_MISSING = re.compile(r"image .*(is not on the|not found)|no such image", re.IGNORECASE)


def start_problem(error: str, image: str) -> str:
    """What a member is told when the engine refused their container; the raw
    `error` goes to the admins and the event log."""
    lowered = error.lower()
    if "could not select device driver" in lowered:
        return ("the server cannot give containers GPUs right now "
                "(its NVIDIA container runtime is missing)")
    if "engine unreachable" in lowered:
        return "the server's container engine is not answering"
    if _IMAGE_MISSING.search(error):
        return f"the image {image} is not on the server"
    return "the container could not be started"


def ready(config: Config, booking: Booking, account: Account, notes: list[str]) -> Message:
    host, port, user = config.server.public_host, booking.port, config.container.user
    inside = config.container
    text = "\n".join([
        f"Your booking #{booking.id} is ready until "
        f"{local_time(booking.end, member_zone(account, config))}.",
        f"  host:     {host}",
        f"  port:     {port}",
        f"  user:     {user}",
        f"  password: {PASSWORD_PLACEHOLDER}",
        f"  ssh -p {port} {user}@{host}",
        f"Work folder {inside.work_mount}, backup folder {inside.backup_mount}, "
        f"datasets (read-only) {inside.dataset_mount}.",
        *notes,
    ])
    return Message(MessageKind.READY, text, booking.id, stored(_actions(config, booking, account)))


def _actions(config: Config, booking: Booking, account: Account, restarts: int = 0,
             verbs: Sequence[str] = ()) -> tuple[Action, ...]:
    """The running booking's own buttons, as the chat layer makes them (each names the
    booking; extend states its new end in the owner's zone, restart the restarts asked
    before it; destructive ones ask first), `verbs` only when given."""
    running = replace(booking, status=Status.RUNNING)
    made = booking_actions(running, member_zone(account, config), config.booking.max_days,
                           restarts)
    return tuple(a for a in made if not verbs or a.verb in verbs)


def restarted(config: Config, booking: Booking, account: Account, notes: list[str],
              restarts: int = 1) -> Message:
    """`restarts`: how many restarts were asked so far (this one included)."""
    host, port, user = config.server.public_host, booking.port, config.container.user
    text = "\n".join([
        f"The container of booking #{booking.id} was restarted, as you asked. "
        "Log in as before, with the same password:",
        f"  ssh -p {port} {user}@{host}",
        f"Your files in {config.container.work_mount} and {config.container.backup_mount} are "
        f"as you left them; it still ends at {local_time(booking.end, member_zone(account, config))}.",
        *notes,
    ])
    return Message(MessageKind.INFO, text, booking.id,
                   stored(_actions(config, booking, account, restarts)))


def restart_failed(booking: Booking, reason: str, restarts: int = 1) -> Message:
    """`restarts`: how many restarts were asked so far (the failed one included)."""
    text = (
        f"The container of booking #{booking.id} could not be restarted: {reason}. "
        f"Try `restart {booking.id}` again in a minute; if it keeps failing, ask an admin."
    )
    actions = () if booking.id is None else (restart_action(booking.id, restarts),)
    return Message(MessageKind.INFO, text, booking.id, stored(actions))


def reminder(config: Config, booking: Booking, account: Account, minutes: int) -> Message:
    actions = _actions(config, booking, account, verbs=("extend", "end"))
    extend = next((a for a in actions if a.verb == "extend"), None)
    later = (f"To keep it longer: `extend {booking.id} 1-day`." if extend is not None else
             f"It is as long as a booking may be ({config.booking.max_days} days).")
    text = (
        f"Booking #{booking.id} ends at {local_time(booking.end, member_zone(account, config))} "
        f"(in about {minutes} minutes). Your backup paths are saved at the end. {later}"
    )
    return Message(MessageKind.REMINDER, text, booking.id, stored(actions))


def ended(config: Config, booking: Booking, saved: list[str], missing: list[str],
          not_saved: Sequence[str] = (), notes: Sequence[str] = ()) -> Message:
    """`saved`: backup paths; `missing`: container paths not found that were backed up
    before; `not_saved`: container paths that could not be copied, each with why."""
    inside = config.container.backup_mount
    text = f"Booking #{booking.id} has ended; its container is removed."
    if saved:
        text += f" Backed up to {inside}: {', '.join(saved)}."
    if missing:
        text += (f" Not found in the container, so not backed up (the earlier copy in {inside} "
                 f"is kept): {', '.join(missing)}.")
    if not_saved:
        text += (f" Could not be backed up (any earlier copy in {inside} is kept): "
                 f"{'; '.join(not_saved)}.")
    for note in notes:
        text += f" {note}"
    return Message(MessageKind.ENDED, text, booking.id)


def backup_failed() -> str:
    return ("The backup could not be made this time; the copies already in your backup "
            "folder are kept (the admins can see why in the log).")


def backup_folder_unusable(why: str) -> str:
    return f"Your backup folder could not be used ({why}), so nothing was backed up."


def plan_not_understood(problem: str) -> str:
    return (f"Your backup.yaml was not understood ({problem}), so nothing was backed up; "
            "the copies already in your backup folder are kept.")


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


def _size(gb: float, *, up: bool = False) -> str:
    """1.2 GB, 1 GB, 3 MB: at most one decimal; `up` rounds up (freeing that much is enough)."""
    value, unit = (gb, "GB") if gb >= 0.1 else (gb * 1024, "MB")
    if up:
        value = math.ceil(round(value * 10, 6)) / 10
    return f"{round(value, 1):g} {unit}"


def over_quota(
    config: Config, booking: Booking, problems: list[QuotaProblem], admins: list[str]
) -> Message:
    """For the member: which folder (by its name in the container), how much to
    free, and that an admin must help, since nothing runs to free it from."""
    mounts = {"work": config.container.work_mount, "backup": config.container.backup_mount}
    folders = "; ".join(
        f"your `{p.folder}` folder ({mounts.get(p.folder, p.folder)} in the container) holds "
        f"{_size(p.used_gb)} of its {_size(p.limit_gb)} quota, so at least "
        f"{_size(p.to_free_gb, up=True)} must be freed"
        for p in problems
    )
    who = ", ".join(a for a in admins if a != booking.account) or "the server's administrator"
    text = (
        f"Booking #{booking.id} could not start: {folders}. You cannot reach your folders "
        f"without a running booking: ask an admin ({who}) to raise your quota or to make that "
        "space, then book anew. Its resources are free again."
    )
    return Message(MessageKind.FAILED, text, booking.id)


def quota_reason(booking: Booking, problems: list[QuotaProblem]) -> str:
    """For the admins and the event log: the host paths, and how to raise the quota."""
    return "over quota: " + "; ".join(
        f"their {p.folder} folder {p.path} holds {_size(p.used_gb)} of {_size(p.limit_gb)}; "
        f"free at least {_size(p.to_free_gb, up=True)} or raise it with "
        f"`booking users limit {booking.account} --{p.folder}-space GB`"
        for p in problems
    )


def restored(config: Config, booking: Booking, account: Account, now: datetime) -> Message:
    return Message(
        MessageKind.INFO,
        f"The container of booking #{booking.id} had stopped and was started again at "
        f"{local_time(now, member_zone(account, config))}; log in with the same password.",
        booking.id,
    )


def recovery_given_up(booking: Booking, times: int, minutes: int) -> Message:
    return Message(
        MessageKind.INFO,
        f"The container of booking #{booking.id} keeps stopping: it was started again "
        f"{times} times within {minutes} minutes and stopped once more, so it is left "
        "stopped (the admins have been told). Your work and backup folders are kept. "
        f"To start it again: `restart {booking.id}`.",
        booking.id,
    )


def admin_recovery_given_up(booking: Booking, times: int, minutes: int) -> Message:
    return Message(
        MessageKind.ADMIN,
        f"Booking #{booking.id} of {booking.account}: its container stopped again after "
        f"{times} automatic restarts within {minutes} minutes; it is left stopped.",
        booking.id,
    )


def admin_end_stuck(booking: Booking, reason: str, since: datetime) -> Message:
    return Message(
        MessageKind.ADMIN,
        f"Booking #{booking.id} of {booking.account} could not be ended since "
        f"{since:%Y-%m-%d %H:%M} UTC: {reason}. Still retrying; its resources stay "
        "held until it ends.",
        booking.id,
    )
