"""Every refusal the booking service gives, by name. The service passes the facts;
each builder says why, and what would work, in the words members and admins read
(the chat layer shows `message` as it is, the CLI prints it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from core.domain import restart_requests as restarts
from core.domain.maintenance import MaintenanceWindow
from core.domain.model import Booking, ErrorCode, Event, LinkConflict, Refusal, Resources, Status
from core.domain.zones import local_time


def who_to_ask(admins: Sequence[str]) -> str:
    """The admins a refusal names (`alice, bob`), or who they are when none is known."""
    return ", ".join(admins) or "the server's administrator"


# Accounts: who may book, links to chat users, limits and settings.


def no_account(name: str, admins: Sequence[str]) -> Refusal:
    return Refusal(ErrorCode.UNKNOWN_USER,
                   f"`{name}` has no account here. Ask an admin ({who_to_ask(admins)}) to add you "
                   f"(`booking users add {name}`).")


def not_registered(admins: Sequence[str]) -> Refusal:
    return Refusal(ErrorCode.UNKNOWN_USER,
                   f"You have no booking account yet. Ask an admin ({who_to_ask(admins)}) to link "
                   "you to your lab id.")


def link_conflict(
    name: str, platform: str, chat_id: str, replaced: str | None, moved_from: str | None,
) -> LinkConflict:
    """Linking `name` to a chat user would unlink `replaced` (the chat user it has now) or
    take the chat user away from the account `moved_from`."""
    words = []
    if replaced is not None:
        words.append(f"`{name}` is linked to {platform} user {replaced} now; linking it to "
                     f"{platform} user {chat_id} unlinks {replaced}")
    if moved_from is not None:
        words.append(f"{platform} user {chat_id} is linked to `{moved_from}` now; "
                     f"linking it to `{name}` unlinks it from `{moved_from}`")
    return LinkConflict(
        "; ".join(words) + ". Both are told when you confirm.",
        account=name, platform=platform, chat_id=chat_id, current_chat_id=replaced,
        current_account=moved_from,
    )


def unknown_limit(key: str) -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT,
                   f"Unknown limit `{key}`; use cpus, memory, gpus, work_space or backup_space.")


def limit_not_a_number(key: str, text: str) -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT, f"`{key}={text}` is not a number; use a number or `max`.")


def limit_not_finite(key: str, text: str) -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT,
                   f"`{key}={text}` is not a finite number; use a number or `max`.")


def limit_negative(key: str) -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT, f"`{key}` cannot be negative.")


def image_not_allowed(image: str, allowed: Sequence[str]) -> Refusal:
    shown = image if len(image) <= 80 else f"{image[:80]}..."  # a member's text, echoed short
    return Refusal(ErrorCode.BAD_IMAGE,
                   f"Image `{shown}` is not allowed; choose one of: {', '.join(allowed)}.")


def owner_or_admin_only() -> Refusal:
    return Refusal(ErrorCode.NOT_OWNER, "Only the owner or an admin may change that booking.")


def port_outside(port: int, low: int, high: int) -> Refusal:
    return Refusal(ErrorCode.PORT_TAKEN, f"Port {port} is outside {low}-{high}.")


def port_of_another_member(port: int) -> Refusal:
    return Refusal(ErrorCode.PORT_TAKEN, f"Port {port} belongs to another member.")


# Windows and resources: what a request asks for, checked before anything is booked.


def bad_time(problem: Exception) -> Refusal:
    """A start, end or length not understood; the reader's own words say what works."""
    return Refusal(ErrorCode.BAD_TIME, str(problem))


def start_in_past() -> Refusal:
    return Refusal(ErrorCode.BAD_TIME, "The start is in the past; use `now` or a later time.")


def start_too_far(max_days: int) -> Refusal:
    return Refusal(ErrorCode.BAD_TIME,
                   f"The start is more than {max_days} days ahead; pick an earlier day.")


def end_not_after_start(*, suggest: bool = True) -> Refusal:
    return Refusal(ErrorCode.BAD_TIME, "The end must be after the start"
                   + ("; try `3-day`." if suggest else "."))


def too_long(max_days: int, latest_end: datetime) -> Refusal:
    return Refusal(ErrorCode.BAD_TIME,
                   f"A booking lasts at most {max_days} days; end it by "
                   f"{latest_end.isoformat(timespec='minutes')}.")


def too_little() -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT,
                   "cpus must be at least 1, memory at least 1 GB, gpus at least 0.")


def over_maximum(maximum: Resources) -> Refusal:
    return Refusal(ErrorCode.OVER_LIMIT,
                   f"Over your maximum: you may book up to {maximum.describe()}.")


def holds_already(own_id: int | None) -> Refusal:
    return Refusal(ErrorCode.OVERLAP, f"You already hold booking #{own_id} at that time.")


def not_enough_free(short: Sequence[str]) -> Refusal:
    """`short`: what is short, as core.domain.allocation.shortages says it."""
    return Refusal(ErrorCode.NO_CAPACITY, "Not enough free for that window: " + ", ".join(short) + ".")


def port_taken_then(port: int) -> Refusal:
    return Refusal(ErrorCode.PORT_TAKEN, f"Port {port} is taken at that time.")


def no_port_free(low: int, high: int) -> Refusal:
    return Refusal(ErrorCode.NO_CAPACITY, f"No SSH port in {low}-{high} is free at that time.")


def with_offer(problem: Refusal, earliest: datetime | None, zone: tzinfo) -> Refusal:
    """`problem`, followed by the earliest start that fits (None: nothing within the horizon)."""
    if earliest is None:
        offer = " Nothing of that size fits within the booking horizon; try fewer resources."
    else:
        local = earliest.astimezone(zone)
        offer = f" The earliest start that fits is {local:%Y %m %d %H %M} ({local.tzname()})."
    return Refusal(problem.code, problem.message + offer, earliest_start=earliest,
                   reason=problem.message)


# Changes to a booking: cancel, extend, restart.


def not_yours(booking_id: int) -> Refusal:
    """Someone else's booking is answered like one that does not exist."""
    return Refusal(ErrorCode.NOT_FOUND,
                   f"There is no booking #{booking_id} of yours; `list` shows yours.")


def _gone(booking: Booking, zone: tzinfo, instead: str) -> Refusal:
    why = (f"ended at {local_time(booking.end, zone)}" if booking.holds_resources
           else f"is {booking.status.value}")
    return Refusal(ErrorCode.NOT_FOUND, f"Booking #{booking.id} {why}; {instead}.")


def too_late_to_cancel(booking: Booking, zone: tzinfo) -> Refusal:
    """The booking no longer holds its window (it ended, or was cancelled)."""
    return _gone(booking, zone, "book anew with `book`")


def too_late_to_extend(booking: Booking, zone: tzinfo) -> Refusal:
    return _gone(booking, zone, "book a new window with `book`")


def new_end_not_later() -> Refusal:
    return Refusal(ErrorCode.BAD_TIME, "The new end must be after the current end; try `1-day`.")


def extended_too_long(max_days: int, latest_end: datetime, zone: tzinfo) -> Refusal:
    limit = latest_end.astimezone(zone)
    return Refusal(ErrorCode.BAD_TIME,
                   f"A booking lasts at most {max_days} days; it can end at "
                   f"{limit:%Y %m %d %H %M} latest.")


def over_maximum_now(booking_id: int | None, held: Resources, maximum: Resources) -> Refusal:
    """An admin lowered the member's maxima below what the booking holds."""
    return Refusal(ErrorCode.OVER_LIMIT,
                   f"Booking #{booking_id} holds {held.describe()}, more than your maximum now "
                   f"({maximum.describe()}), so it cannot be extended; when it ends, book again "
                   "within your maximum.")


def own_booking_in_the_way(own_id: int | None) -> Refusal:
    return Refusal(ErrorCode.OVERLAP, f"Your booking #{own_id} starts before the new end.")


def longer_window_short(short: Sequence[str], taken_gpus: Sequence[int], port: int | None) -> Refusal:
    """What the extra time lacks: `short` (as allocation.shortages says it), the booking's
    GPUs someone else booked then, and its port when that is taken then."""
    parts = list(short)
    if taken_gpus:
        parts.append("GPU " + ", ".join(map(str, taken_gpus)) + " (booked by someone else)")
    if port is not None:
        parts.append(f"port {port}")
    return Refusal(ErrorCode.NO_CAPACITY,
                   "The longer window does not fit: " + ", ".join(parts) + " is short. "
                   "Try a shorter extension.")


def not_running(booking: Booking, now: datetime, zone: tzinfo) -> Refusal:
    """Why a booking's container cannot be restarted now."""
    number = f"Booking #{booking.id}"
    if booking.status == Status.BOOKED:
        why = (f"{number} is booked; it starts at {local_time(booking.start, zone)}. "
               "Its container can be restarted once it runs.")
    elif booking.status == Status.STARTING:
        why = f"{number} is starting; I will message you when it is ready, then it can be restarted."
    elif booking.status == Status.ENDING or booking.end <= now:
        why = f"{number} is ending; its container is being backed up and removed."
    else:
        why = f"{number} is {booking.status.value}; it has no container to restart."
    return Refusal(ErrorCode.NOT_RUNNING, why)


def restart_pending(booking_id: int | None) -> Refusal:
    return Refusal(ErrorCode.PENDING,
                   f"A restart of booking #{booking_id} is already on its way; "
                   "I will message you when it is done.")


def restart_overtaken(booking: Booking, events: Sequence[Event], zone: tzinfo) -> Refusal:
    """A restart asked for after fewer restarts than were asked since (an old button):
    how the latest restart went, and how to restart again."""
    last = restarts.last_outcome(events)
    if last is None or last.kind == restarts.REQUESTED:
        return restart_pending(booking.id)
    until = f"it runs until {local_time(booking.end, zone)}"
    again = f"say `restart {booking.id}` to restart it again."
    if last.kind == restarts.RESTARTED:
        at = local_time(restarts.requested_at(last), zone)
        return Refusal(ErrorCode.OVERTAKEN,
                       f"Booking #{booking.id} was restarted already, at {at}; {until}; {again}")
    return Refusal(ErrorCode.OVERTAKEN,
                   f"The last restart of booking #{booking.id} failed (my message says why); "
                   f"{until}; {again}")


# Maintenance windows (core/domain/maintenance.py).


def maintenance_words(window: MaintenanceWindow, zone: tzinfo) -> str:
    """`maintenance of GPU 0, 1 from ... to ...: new fans`, as every surface says it."""
    what = ("the whole server" if window.whole_server
            else "GPU " + ", ".join(map(str, window.gpu_ids)))
    return (f"maintenance of {what} from {local_time(window.start, zone)} to "
            f"{local_time(window.end, zone)}: {window.reason}")


def in_maintenance(windows: Sequence[MaintenanceWindow], zone: tzinfo) -> Refusal:
    """A request refused because maintenance windows hold what it needs then."""
    said = "; ".join(maintenance_words(window, zone) for window in windows)
    return Refusal(ErrorCode.NO_CAPACITY, f"That window overlaps {said}.")


def bad_gpu_list(problem: Exception) -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT, str(problem))


def maintenance_needs_reason() -> Refusal:
    return Refusal(ErrorCode.BAD_INPUT,
                   "Say why, in at most 500 characters (`--reason \"new fans\"`); members read it.")


def maintenance_admins_only(admins: Sequence[str]) -> Refusal:
    return Refusal(ErrorCode.NOT_OWNER,
                   f"Only an admin ({who_to_ask(admins)}) adds or removes maintenance windows.")


def no_maintenance(window_id: int) -> Refusal:
    return Refusal(ErrorCode.NOT_FOUND,
                   f"There is no maintenance window #{window_id}; `booking maintenance ls` "
                   "lists them.")

