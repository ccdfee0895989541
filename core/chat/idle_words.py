"""What members and admins are told about idle GPUs (core/services/idle_watch.py), and the
answers to *Keep it*."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from core.chat.actions import Action, confirm_question, stored
from core.domain.config import Config
from core.domain.idle import KeepOutcome
from core.domain.model import Account, Booking
from core.domain.zones import local_time, member_zone
from core.services.notifier import Message, MessageKind


def _hours(value: float) -> str:
    return f"{value:g} hour" + ("" if value == 1 else "s")


def _gpus(booking: Booking) -> str:
    ids = ", ".join(str(g) for g in booking.gpu_ids)
    return f"GPU {ids}" if len(booking.gpu_ids) == 1 else f"GPUs {ids}"


def keep_action(booking_id: int, nudge: int) -> Action:
    """Keep it, naming the message it answers: a second press acts no more."""
    return Action(f"Keep #{booking_id}", f"keep {booking_id} nudge {nudge}", "primary", "keep",
                  booking_id)


def end_action(booking_id: int) -> Action:
    return Action(f"End #{booking_id} now", f"end {booking_id}", "danger", "end", booking_id,
                  confirm_question("end", booking_id))


def idle_nudge(config: Config, booking: Booking, account: Account, since: datetime,
               nudge: int) -> Message:
    assert booking.id is not None
    settings, zone = config.idle, member_zone(account, config)
    text = (f"The {_gpus(booking)} of booking #{booking.id} have been idle (below "
            f"{settings.threshold_percent:g}% use) since {local_time(since, zone)}. If you still "
            f"need them, press Keep #{booking.id} (or say `keep {booking.id}`); if not, End "
            f"#{booking.id} now frees them for others (your files are backed up first).")
    if settings.release_hours is not None:
        release = since + timedelta(hours=settings.release_hours)
        text += (f" With no answer it ends at {local_time(release, zone)}, after "
                 f"{_hours(settings.release_hours)} idle.")
    actions = (keep_action(booking.id, nudge), end_action(booking.id))
    return Message(MessageKind.INFO, text, booking.id, stored(actions))


def idle_released(config: Config, booking: Booking, account: Account,
                  since: datetime) -> Message:
    zone = member_zone(account, config)
    return Message(MessageKind.INFO,
                   f"Booking #{booking.id} is being ended: its {_gpus(booking)} sat idle since "
                   f"{local_time(since, zone)} and my question got no answer. Your files are "
                   "backed up first; I will message you when it is done. Book again any time.",
                   booking.id)


def admin_idle_released(config: Config, booking: Booking, since: datetime) -> Message:
    return Message(MessageKind.ADMIN,
                   f"Booking #{booking.id} of {booking.account} was ended: its {_gpus(booking)} "
                   f"sat idle (below {config.idle.threshold_percent:g}%) since "
                   f"{since:%Y-%m-%d %H:%M} UTC and {booking.account} did not answer "
                   f"(idle.release_hours: {config.idle.release_hours or 0:g}).", booking.id)


def kept(outcome: KeepOutcome, booking: Booking, zone: tzinfo, notify_hours: float | None) -> str:
    """The answer to Keep it."""
    number = f"booking #{booking.id}"
    if outcome == KeepOutcome.KEPT:
        again = (f" I ask again only after another {_hours(notify_hours)} idle."
                 if notify_hours is not None else "")
        return f"Kept: {number} runs on until {local_time(booking.end, zone)}.{again}"
    if outcome == KeepOutcome.ALREADY:
        return f"Already kept: {number} runs on until {local_time(booking.end, zone)}."
    if outcome == KeepOutcome.OLD:
        return (f"That question about {number} is an old one; my latest message about it has "
                f"its own Keep button (or say `keep {booking.id}`).")
    if outcome == KeepOutcome.RELEASED:
        return (f"Too late: {number} was ended because its GPUs sat idle; its files are backed "
                "up. Book again any time.")
    every = f" (I ask when its GPUs sit idle for {_hours(notify_hours)})" if notify_hours else ""
    return f"Nothing to keep: I have not asked about {number}{every}."
