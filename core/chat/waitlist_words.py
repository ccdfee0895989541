"""What a member is told about their waitlist (core.services.waitlist.WaitlistWords, and the
engine's replies to `notify me` and `waitlist`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from core.chat.actions import Action, booking_actions, offer_action, seed_time, stored
from core.chat.messages import booking_line, describe_resources
from core.domain.model import Booking, Resources, Window
from core.domain.waitlist_match import WaitlistEntry
from core.domain.zones import local_time
from core.services.notifier import Message, MessageKind


def _length(length: timedelta) -> str:
    days, seconds = length.days, length.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    parts = [f"{days} day{'s' if days != 1 else ''}" if days else "",
             f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p) or "0 min"


def _what(entry: WaitlistEntry) -> str:
    return f"{describe_resources(entry.resources)} for {_length(entry.length)}"


def _span(entry: WaitlistEntry, zone: tzinfo) -> str:
    return (f"starting from {local_time(entry.window.start, zone)} and before "
            f"{local_time(entry.window.end, zone)}")


def book_it(entry: WaitlistEntry, start: datetime, zone: tzinfo,
            server: str | None = None) -> Action:
    """The button that books exactly the request from `start` (the whole request in it;
    `server`: on that server of a pool)."""
    action = offer_action(entry.resources, start, start + entry.length, zone,
                          image=entry.image, command=entry.command, server=server)
    return replace(action, label="Book it")


# ----- direct messages (the outbox) --------------------------------------------------

def offer(entry: WaitlistEntry, start: datetime, zone: tzinfo,
          server: str | None = None) -> Message:
    """Room for `entry` from `start`; `server`: the pool's server it is on (its *Book it*
    books there, `on gpu2`), None for one server alone."""
    where = f" on {server}" if server else ""
    text = (f"Room freed up for what you wait for: {_what(entry)} fits{where} from "
            f"{local_time(start, zone)} to {local_time(start + entry.length, zone)}. "
            "Everyone waiting for it is told; the first to press *Book it* gets it. "
            "`waitlist clear` stops these messages.")
    return Message(MessageKind.INFO, text, None, stored([book_it(entry, start, zone, server)]))


def booked_for_you(booking: Booking, zone: tzinfo, max_days: int) -> Message:
    text = f"Booked for you from your waitlist: {booking_line(booking, zone)}"
    return Message(MessageKind.INFO, text, booking.id,
                   stored(booking_actions(booking, zone, max_days)))


def dropped(entry: WaitlistEntry, why: str, zone: tzinfo) -> Message:
    text = (f"I could not book {_what(entry)} ({_span(entry, zone)}) for you, so I stopped "
            f"waiting for it: {why}")
    return Message(MessageKind.INFO, text)


# ----- replies in the conversation ----------------------------------------------------

def notify_command(
    resources: Resources, start: str, window: Window, zone: tzinfo, *, auto: bool = False,
    image: str | None = None, command: str | None = None, server: str | None = None,
) -> str:
    """`notify me [auto] <the whole request>`: what a Notify me button sends. `start` stays
    `now` for a request that starts now; otherwise the window's start, as the member's;
    `server`: wait on that server of a pool (`on gpu2`)."""
    begin = "now" if start == "now" else seed_time(window.start, zone)
    text = (f"notify me {'auto ' if auto else ''}{resources.cpus:g} cpus {resources.memory}g "
            f"{resources.gpus} gpus {begin} to {seed_time(window.end, zone)}")
    text += f" on {server}" if server else ""
    text += f" image {image}" if image else ""
    return text + (f" command {command}" if command else "")


def notify_action(request: str) -> Action:
    """The refusal's button: be told when the request fits (`notify me auto`, typed, has it
    booked instead)."""
    return Action("Notify me", f"notify me {request}", "", "notify")


NOTIFY_HINT = " Or say `notify me` and I tell you when it fits (`notify me auto`: I book it)."


def joined(entry: WaitlistEntry, zone: tzinfo, server: str | None = None) -> str:
    """`server`: in a pool, the server the entry waits on."""
    then = "book it for you and tell you" if entry.auto else "message you"
    other = ("" if entry.auto else
             " (`notify me auto` instead: I book it for you as soon as it fits.)")
    where = f" on {server}" if server else ""
    return (f"OK: I will {then} when {_what(entry)} fits{where}, {_span(entry, zone)}.{other} "
            "`waitlist` shows what you wait for.")


def fits_now(entry: WaitlistEntry, start: datetime, zone: tzinfo) -> str:
    return (f"It fits now: {_what(entry)} from {local_time(start, zone)}. "
            "Press *Book it* (or say `book` again).")


def listing(entries: Sequence[WaitlistEntry], zone: tzinfo,
            servers: Sequence[str] = ()) -> str:
    """`servers`: in a pool, the server each entry waits on (in the same order)."""
    if not entries:
        return ("You wait for nothing. When a request is refused for lack of room, say "
                "`notify me` and I tell you when it fits.")
    where = [f" on {name}" for name in servers] or [""] * len(entries)
    lines = [f"{n}. {_what(e)}{on}, {_span(e, zone)}" + (" (I book it for you)" if e.auto else "")
             for n, (e, on) in enumerate(zip(entries, where, strict=True), 1)]
    return "You wait for:\n" + "\n".join(lines) + "\n`waitlist clear` drops them."


def entry_line(entry: WaitlistEntry, zone: tzinfo, server: str | None = None) -> str:
    """One waiting request on a line (the terminal's `booking waitlist`); `server`: in a
    pool, the server it waits on."""
    on = f" on {server}" if server else ""
    return (f"#{entry.id} {entry.account}: {_what(entry)}{on}, {_span(entry, zone)}"
            + (" (booked for them when it fits)" if entry.auto else " (told when it fits)"))


def cleared(count: int) -> str:
    if not count:
        return "You waited for nothing; nothing to drop."
    return f"Dropped {count} waiting request{'s' if count != 1 else ''}."
