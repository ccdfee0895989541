"""What a chat reply offers to do next: one list of verbs, and actions that name their booking.

An action is a command for the conversation engine (`command`, sent back as if the member
typed it) plus what an adapter needs to render it without deciding anything: the verb, the
booking it acts on, a label that names that booking (`Cancel #12`), and, for every
destructive verb, the question to ask first (`confirm`).

Every action states its target, so pressing it twice, or pressing an old message's
button, acts once: extend carries the new end (`extend 12 to 2026 12 04 02 00 UTC`), restart
the number of restarts asked before it (`restart 12 after 1`), an offer the whole request
(resources, window, image, command). The command alone is enough to
rebuild the action's verb, booking and question (`parse_press`), so a button whose
platform keeps only a string (a Slack value, a Discord custom id) still works after a
restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from core.domain.model import Booking, Resources, Status


@dataclass(frozen=True)
class Verb:
    name: str
    usage: str
    summary: str
    destructive: bool = False  # asks first, on every surface
    aliases: tuple[str, ...] = ()
    needs_booking: bool = False  # `verb N ...`


# The one list of verbs: the conversation engine reads these, adapters offer them
# (slash options, pass-through words), and the help text is made from them.
VERBS: tuple[Verb, ...] = (
    Verb("book", "book 1 gpu 8 cpus 32g now 3-day",
         "book in one line (I ask for what is missing); `image X`, `command ...` last"),
    Verb("list", "list", "your upcoming and running bookings, each with its buttons",
         aliases=("ls",)),
    Verb("cancel", "cancel N", "cancel booking N (ends it if it is running; `because ...`: why)",
         destructive=True, needs_booking=True),
    Verb("end", "end N", "end booking N now; its files are backed up first",
         destructive=True, needs_booking=True),
    Verb("extend", "extend N 2-day", "make booking N two days longer (or `extend N to` a new end)",
         needs_booking=True),
    Verb("restart", "restart N", "restart the container of running booking N (same login)",
         destructive=True, needs_booking=True),
    Verb("login", "login N", "show the login of your running booking N again (only to you)",
         needs_booking=True),
    Verb("keep", "keep N", "keep running booking N after I asked about its idle GPUs",
         needs_booking=True),
    Verb("key", "key ssh-ed25519 AAAA... me@laptop",
         "add an SSH public key for logging in (`keys` lists them)"),
    Verb("keys", "keys", "your SSH keys (`keys clear` removes them)"),
    Verb("timezone", "timezone Europe/Berlin", "show your times in another zone"),
    Verb("notify", "notify me", "after a refusal: tell me when it fits (`notify me auto`: book it)"),
    Verb("waitlist", "waitlist", "what you wait for (`waitlist clear` drops it)"),
    Verb("calendar", "calendar", "the link of your bookings as a calendar feed (only to you)"),
    Verb("help", "help", "this text"),
)
_BY_WORD = {word: verb for verb in VERBS for word in (verb.name, *verb.aliases)}
VERB_WORDS: tuple[str, ...] = tuple(_BY_WORD)
DESTRUCTIVE: frozenset[str] = frozenset(v.name for v in VERBS if v.destructive)


def verb_of(word: str) -> Verb | None:
    """The verb a first word names (`ls` names `list`), or None."""
    return _BY_WORD.get(word.lower())


@dataclass(frozen=True)
class Action:
    """Something the member can do next.

    Adapters render it as a button (or a menu entry) labelled `label`; a press sends
    `command` to the engine's `press`. When `confirm` is set, the adapter asks that
    question first (a Slack confirm dialog, a Discord confirm view) and sends nothing on
    "no". `style` is looks only ("primary", "danger"); never decide anything by it.
    """

    label: str
    command: str
    style: str = ""
    verb: str = ""
    booking_id: int | None = None
    confirm: str = ""  # the question to ask before acting; "" acts at once
    # Offers: the whole request, as strings (cpus, memory, gpus, start, end, image, command).
    request: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    def to_dict(self) -> dict[str, str]:
        """Strings only, as the outbox stores actions."""
        data = {"label": self.label, "command": self.command, "style": self.style}
        extras = {"verb": self.verb, "confirm": self.confirm,
                  "booking_id": "" if self.booking_id is None else str(self.booking_id)}
        return data | {k: v for k, v in extras.items() if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Action:
        """An action stored by `to_dict`, or an older one with only label, command, style."""
        pressed = parse_press(data["command"])
        label = data.get("label", "")
        if "verb" not in data and pressed.booking_id is not None:
            # Stored before actions named their booking ("End now"): named now ("End #12 now").
            label = pressed.label + (" now" if pressed.verb == "end" else "")
        return cls(label or pressed.label, data["command"],
                   data.get("style", ""), pressed.verb, pressed.booking_id,
                   pressed.confirm, pressed.request)


def stored(actions: Sequence[Action]) -> tuple[dict[str, str], ...]:
    """Actions as a message carries them through the outbox (strings only)."""
    return tuple(action.to_dict() for action in actions)


def restored(data: Sequence[Mapping[str, str]]) -> tuple[Action, ...]:
    """A message's stored actions, ready to render (older rows are named as today's)."""
    return tuple(Action.from_dict(item) for item in data)


@dataclass(frozen=True)
class Card:
    """One booking in a reply that shows several: its line and its own actions."""

    booking_id: int
    text: str
    actions: tuple[Action, ...] = ()


def confirm_question(verb: str, booking_id: int | None) -> str:
    """What to ask before a destructive verb acts; "" for the others."""
    number = f"booking #{booking_id}" if booking_id is not None else "this booking"
    if verb == "cancel":
        return (f"Cancel {number}? If it is already running it ends now: its files are "
                "backed up, then its container is removed.")
    if verb == "end":
        return (f"End {number} now? Its files are backed up, then its container is "
                "removed; the rest of its time is given up.")
    if verb == "restart":
        return (f"Restart the container of {number}? Programs running in it are stopped; "
                "your files and password stay.")
    return ""


_ID = re.compile(r"^#?(\d{1,18})$")
_OFFER_KEYS = ("cpus", "memory", "gpus", "start", "end", "image", "command", "server")


def parse_press(command: str) -> Action:
    """The action a command stands for, rebuilt from the command alone.

    Adapters whose buttons keep only a string use this to know, at press time, the verb,
    the booking and whether to ask first; the label is a plain one.
    """
    words = command.split()
    verb = verb_of(words[0]) if words else None
    if verb is None:
        return Action(command[:75], command)
    booking_id = None
    if verb.needs_booking and len(words) > 1 and _ID.match(words[1]):
        booking_id = int(_ID.match(words[1]).group(1))  # type: ignore[union-attr]
    request: dict[str, str] = {}
    if verb.name == "book":
        _rest, image, extra = split_extras(command.split(None, 1)[1] if len(words) > 1 else "")
        request = {k: v for k, v in (("image", image), ("command", extra)) if v}
    label = verb.name.capitalize() + (f" #{booking_id}" if booking_id is not None else "")
    return Action(label, command, "danger" if verb.destructive else "", verb.name, booking_id,
                  confirm_question(verb.name, booking_id), request)


_EXTRA_COMMAND = re.compile(r"(?:^|\s)command\s+(.*)$", re.DOTALL)
_IMAGE = re.compile(r"(?:^|\s)image\s+(\S+)")


def split_extras(text: str) -> tuple[str, str | None, str | None]:
    """`1 gpu now 1-day image NAME command jupyter lab` -> the rest, the image, the command.

    `command` comes last: everything after it is the command, exactly as written."""
    extra = None
    found = _EXTRA_COMMAND.search(text)
    if found:
        extra, text = found.group(1).strip() or None, text[:found.start()]
    image = None
    found = _IMAGE.search(text)
    if found:
        image, text = found.group(1), text[:found.start()] + text[found.end():]
    return text.strip(), image, extra


def normalise(text: str) -> str:
    """Runs of spaces made one, except in an extra command, which is kept as written."""
    found = _EXTRA_COMMAND.search(text.strip())
    if not found:
        return " ".join(text.split())
    head = " ".join(text.strip()[:found.start()].split())
    return f"{head} command {found.group(1).strip()}"


# ----- the actions a booking offers ------------------------------------------

_SEED_TIME = "%Y %m %d %H %M"  # the old CLI's form, read back in the member's zone


def seed_time(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):{_SEED_TIME}}"


def _short(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%a %d %b %H:%M}"


def extend_target(booking: Booking, max_days: int) -> datetime | None:
    """The end an Extend button asks for: a day later, within the longest booking."""
    latest = booking.start + timedelta(days=max_days)
    target = min(booking.end + timedelta(days=1), latest)
    return target if target > booking.end else None


def extend_action(booking: Booking, zone: tzinfo, max_days: int) -> Action | None:
    target = extend_target(booking, max_days)
    if target is None or booking.id is None:
        return None
    # The label in the owner's zone; the command in UTC, so a press means the same end
    # after the owner's zone changed (Slack sets it from the profile on their first press).
    return Action(f"Extend #{booking.id} to {_short(target, zone)}",
                  f"extend {booking.id} to {seed_time(target, UTC)} UTC", "primary", "extend",
                  booking.id)


def restart_action(booking_id: int, restarts: int) -> Action:
    """Restart, stating the restart it asks for: the one after the `restarts` already asked.

    `restart 12 after 1` pressed once a second restart was asked (by this press or any
    other) answers with the booking's state instead of restarting again."""
    return Action(f"Restart #{booking_id}", f"restart {booking_id} after {restarts}", "",
                  "restart", booking_id, confirm_question("restart", booking_id))


def booking_actions(
    booking: Booking, zone: tzinfo, max_days: int, restarts: int = 0,
) -> tuple[Action, ...]:
    """What can be done with a booking now, each action naming it; none once it is over.

    `zone` is the owner's: the extend target is written in it and read back in it.
    `restarts`: how many restarts of it were asked so far (its Restart asks for the next)."""
    number = booking.id
    if number is None or booking.status not in (Status.BOOKED, Status.STARTING, Status.RUNNING):
        return ()
    extend = extend_action(booking, zone, max_days)
    if booking.status == Status.BOOKED:
        stop = Action(f"Cancel #{number}", f"cancel {number}", "danger", "cancel", number,
                      confirm_question("cancel", number))
        return tuple(a for a in (stop, extend) if a is not None)
    end = Action(f"End #{number} now", f"end {number}", "danger", "end", number,
                 confirm_question("end", number))
    if booking.status == Status.STARTING:
        return tuple(a for a in (end, extend) if a is not None)
    restart = restart_action(number, restarts)
    login = Action(f"Login #{number}", f"login {number}", "", "login", number)
    return tuple(a for a in (login, extend, restart, end) if a is not None)


def offer_action(
    resources: Resources, start: datetime, end: datetime, zone: tzinfo, *,
    image: str | None = None, command: str | None = None, server: str | None = None,
) -> Action:
    """A button that books exactly the offered request, after a restart too (`server`: on
    that server of a pool, `on gpu2`)."""
    request = {"cpus": f"{resources.cpus:g}", "memory": str(resources.memory),
               "gpus": str(resources.gpus), "start": seed_time(start, zone),
               "end": seed_time(end, zone), "image": image or "", "command": command or ""}
    if server:
        request["server"] = server
    text = (f"book {request['cpus']} cpus {request['memory']}g {request['gpus']} gpus "
            f"{request['start']} to {request['end']}")
    if server:
        text += f" on {server}"
    if image:
        text += f" image {image}"
    if command:
        text += f" command {command}"
    return Action(f"Book from {_short(start, zone)}", text, "primary", "book", None, "",
                  {k: v for k, v in request.items() if k in _OFFER_KEYS})
