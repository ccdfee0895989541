"""The conversation engine every chat adapter shares.

`handle(account, text)` returns replies. Its state lives in the database
(the unit of work's conversation store), so a restart in the middle of a
conversation loses nothing. A booking request is completed one question at a
time in the old CLI's order: capability, then start, then end.

Replies may carry actions: each is a command the member could type; adapters
render them as buttons whose click sends that command back here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.chat.messages import HELP, Reply, booked, booking_line
from core.domain import restart_requests as restarts
from core.domain.actions import (
    VERB_WORDS,
    Action,
    Card,
    confirm_question,
    normalise,
    offer_action,
    parse_press,
    seed_time,
    split_extras,
    verb_of,
)
from core.domain.actions import booking_actions as actions_for
from core.domain.model import Account, Booking, ErrorCode, Event, Refusal, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.domain.request_text import ParsedRequest, parse_request, parse_resources
from core.domain.timeparse import FORMATS_HELP
from core.domain.zones import local_time
from core.services.booking import BookingService
from core.services.capacity import BookingRequest

log = logging.getLogger(__name__)

_ABANDON = {"abort", "stop", "quit", "exit", "never mind", "nevermind", "reset", "forget it"}
_YES = {"yes", "y", "ok", "okay", "sure", "take it", "book it"}
# The words the engine knows first on a line (core.domain.actions.VERBS, and the words that
# drop a request); adapters that pass text through (Slack's `/book ...`) use this list too.
VERBS = (*VERB_WORDS, *sorted(_ABANDON))
_COMMAND = re.compile(
    r"^(" + "|".join(re.escape(w) for w in VERB_WORDS) + r")\b\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_BOOKING_ID = re.compile(r"^#?(\d{1,18})\b\s*(.*)$")
_RESTART_AFTER = re.compile(r"^after\s+(\d{1,6})$", re.IGNORECASE)
# A button's absolute end: in UTC when it says so, else in the owner's zone (older buttons).
_EXTEND_TO = re.compile(r"^(?:to|until)\s+(\d{4} \d{1,2} \d{1,2} \d{1,2} \d{2})(\s+UTC)?$",
                        re.IGNORECASE)
# Verbs whose press changes a booking, so the message that carried the button is redrawn.
_CHANGES = frozenset({"cancel", "end", "extend", "restart", "book"})


def booking_actions(booking_id: int, running: bool = False) -> tuple[Action, ...]:
    """Deprecated (for adapters not yet moved): use core.domain.actions.booking_actions,
    which names the booking's end and offers login. These still name their booking."""
    if running:
        stop = Action(f"End #{booking_id} now", f"end {booking_id}", "danger", "end", booking_id,
                      confirm_question("end", booking_id))
    else:
        stop = Action(f"Cancel #{booking_id}", f"cancel {booking_id}", "danger", "cancel",
                      booking_id, confirm_question("cancel", booking_id))
    extend = Action(f"Extend #{booking_id} 1 day", f"extend {booking_id} 1-day", "", "extend",
                    booking_id)
    if running:
        return (stop, extend, Action(f"Restart #{booking_id}", f"restart {booking_id}", "",
                                     "restart", booking_id, confirm_question("restart", booking_id)))
    return (stop, extend)


@dataclass(frozen=True)
class Pressed:
    """The outcome of a button press.

    `update`: what the message that carried the button shows now (the outcome, and the
    actions that are possible now), to replace it in place; None leaves it as it is.
    `replies`: answers to the member besides (a private login, a refusal)."""

    update: Reply | None
    replies: list[Reply]


@dataclass(frozen=True)
class FormRequest:
    """A request filled in a form (Discord's slash options, Slack's modal); resources left
    out (None) take the configured default request, capped at the member's maximum."""

    start: str
    end: str
    cpus: float | None = None
    memory: int | None = None
    gpus: int | None = None
    image: str | None = None
    command: str | None = None


class ConversationEngine:
    def __init__(
        self, service: BookingService, *,
        passwords: Callable[[], PasswordDeriver] | None = None,
    ) -> None:
        self._service = service
        # Called on the first `login N` only: the secret is read when a login is shown.
        self._passwords = passwords

    def handle(self, account: Account, text: str) -> list[Reply]:
        text = normalise(text)
        state = self._load(account)
        try:
            replies, state = self._dispatch(account, text, state)
        except Refusal as refusal:
            replies = [Reply(refusal.message)]
        except Exception:
            # The member gets an answer whatever broke; the admins get the trace.
            log.exception("conversation with %s failed on %r", account.name, text)
            return [Reply("Something went wrong on our side; nothing was booked or changed. "
                          "The admins can see the details in the service log.")]
        self._save(account, state)
        return replies

    # ----- state ----------------------------------------------------------

    def _load(self, account: Account) -> dict[str, Any]:
        with self._service.unit() as uow:
            return uow.conversations.load(account.name)

    def _save(self, account: Account, state: dict[str, Any]) -> None:
        with self._service.unit() as uow:
            uow.conversations.save(account.name, state)
            uow.commit()

    # ----- routing --------------------------------------------------------

    def _dispatch(
        self, account: Account, text: str, state: dict[str, Any]
    ) -> tuple[list[Reply], dict[str, Any]]:
        lowered = text.lower().rstrip(".!")
        if not text:
            return [Reply("Say `help` to see what I understand.")], state
        if lowered in _ABANDON or (lowered == "cancel" and state.get("step")):
            return [Reply("OK, I forgot that request. Say `book` to start again.")], {}
        command = _COMMAND.match(text)
        if state.get("step") and (command is None or self._is_answer(command)):
            return self._answer(account, text, state)
        if command is None:
            return [Reply(f"I did not understand `{text[:80]}`.\n{HELP}")], state
        verb = verb_of(command.group(1))
        name, rest = (verb.name if verb else "book"), command.group(2).strip()
        if name == "help":
            return [Reply(HELP)], state
        if name == "list":
            return [self._list(account)], state
        if name in ("cancel", "end"):
            return [self._cancel(account, rest)], state
        if name in ("key", "keys", "timezone"):
            return [self._settings(account, name, rest)], state
        if name == "extend":
            return [self._extend(account, rest)], state
        if name == "restart":
            return [self._restart(account, rest)], state
        if name == "login":
            return [self._login(account, rest)], state
        return self._start_request(account, rest)

    # ----- bookings and their buttons --------------------------------------

    def press(self, account: Account, command: str, *, in_list: bool = False) -> Pressed:
        """A button press: `command` is the action's, `in_list` when the message that carried
        the button showed several bookings (the update then shows them all again).

        A press acts on the current state, once: a press whose target is reached, or whose
        booking is over, answers with the booking's state and changes nothing."""
        action = parse_press(command)
        if action.verb == "restart" and re.fullmatch(r"\s*\S+\s+#?\d{1,18}\s*", command):
            # A Restart button from before buttons stated their target: it asked for the
            # first restart, so it restarts only a container never restarted yet.
            command = f"{command.strip()} after 0"
        replies = self.handle(account, command)
        if action.verb not in _CHANGES or not replies or self._refused_target(replies[0]):
            return Pressed(None, replies)
        head, rest = replies[0], replies[1:]
        if action.booking_id is not None and not in_list:
            head = Reply(head.text, self._actions_now(account, action.booking_id), head.private)
        if in_list:
            listing = self._list(account)
            head = Reply(f"{head.text}\n\n{listing.text}", (), cards=listing.cards)
        return Pressed(head, rest)

    @staticmethod
    def _refused_target(reply: Reply) -> bool:
        """Someone else's booking (answered as a missing one): their message stays as it is."""
        return reply.text.startswith("There is no booking #")

    def card(self, account: Account, booking: Booking) -> Card:
        """One booking's line and the actions it offers now."""
        zone = self._service.zone_of(account)
        return Card(booking.id or 0, booking_line(booking, zone), self._actions(booking))

    def _actions(self, booking: Booking) -> tuple[Action, ...]:
        """The booking's actions, in its owner's zone (the extend target is read back in it);
        a running booking's Restart asks for the restart after those already asked."""
        owner = self._service.account(booking.account)
        asked = (restarts.requests_made(self._events(booking.id))
                 if booking.status == Status.RUNNING and booking.id is not None else 0)
        return actions_for(booking, self._service.zone_of(owner),
                           self._service.config.booking.max_days, asked)

    def _events(self, booking_id: int) -> list[Event]:
        with self._service.unit() as uow:
            return uow.bookings.events(booking_id)

    def _actions_now(self, account: Account, booking_id: int) -> tuple[Action, ...]:
        try:
            booking = self._service.get(booking_id, actor=account.name)
        except Refusal:
            return ()
        return self._actions(booking) if self._current(booking) else ()

    def _list(self, account: Account) -> Reply:
        mine = self._service.bookings(account.name)
        if not mine:
            return Reply("You have no upcoming or running bookings. Say `book` to make one.")
        cards = tuple(self.card(account, b) for b in mine)
        # The text keeps every line for surfaces that show text only (the terminal, a log).
        return Reply("Your bookings:\n" + "\n".join(c.text for c in cards), cards=cards)

    def _current(self, booking: Booking) -> bool:
        return booking.holds_resources and booking.end > self._service.now()

    def _state(self, account: Account, booking: Booking, lead: str = "") -> Reply:
        """The booking as it is now, when a command has nothing (more) to do."""
        zone = self._service.zone_of(account)
        number = f"Booking #{booking.id}"
        if booking.status == Status.CANCELLED:
            text = f"{number} is cancelled."
        elif booking.status in (Status.FINISHED, Status.FAILED):
            text = f"{number} is {booking.status.value}; it ended at {local_time(booking.end, zone)}."
        elif booking.status == Status.ENDING or booking.end <= self._service.now():
            text = f"{number} is ending; its files are being backed up and its container removed."
        else:
            text = booking_line(booking, zone)
        text = f"{lead} {text}".strip() if lead else text
        return Reply(text, self._actions(booking) if self._current(booking) else ())

    @staticmethod
    def _is_answer(command: re.Match[str]) -> bool:
        """`end 3-day` while a question waits answers it; it does not end booking 3."""
        verb, rest = command.group(1).lower(), command.group(2).strip()
        return verb in ("end", "cancel") and not re.fullmatch(r"#?\d{1,18}", rest)

    @staticmethod
    def _booking_id(text: str, usage: str, *, more: bool = False) -> tuple[int, str]:
        """`12` or `#12` (and, with `more`, what follows it)."""
        match = _BOOKING_ID.match(text)
        if not match or (match.group(2) and not more):
            raise Refusal(ErrorCode.BAD_INPUT, f"Which booking? Say `{usage}`; `list` shows the numbers.")
        return int(match.group(1)), match.group(2)

    def _cancel(self, account: Account, rest: str) -> Reply:
        booking_id, _ = self._booking_id(rest, "cancel N")
        booking = self._service.get(booking_id, actor=account.name)
        if not self._current(booking):
            return self._state(account, booking, "Nothing to do:")
        try:
            booking = self._service.cancel(booking_id, actor=account.name)
        except Refusal as refusal:  # it ended in the meantime
            if refusal.code != ErrorCode.NOT_FOUND:
                raise
            return self._state(account, self._service.get(booking_id, actor=account.name),
                               "Nothing to do:")
        if booking.status == "cancelled":
            return Reply(f"Booking #{booking_id} is cancelled.")
        return Reply(f"Booking #{booking_id} ends now; its files are backed up first.")

    def _extend(self, account: Account, rest: str) -> Reply:
        booking_id, end_text = self._booking_id(rest, "extend N 2-day", more=True)
        if not end_text:
            raise Refusal(ErrorCode.BAD_INPUT, "Extend by how much? e.g. `extend 12 2-day`.")
        booking = self._service.get(booking_id, actor=account.name)
        if not self._current(booking):
            return self._state(account, booking, "Nothing to do:")
        target = _EXTEND_TO.match(end_text)
        if target:  # a button's target: reached already means done already
            owner_zone = self._service.zone_of(self._service.account(booking.account))
            wanted = datetime.strptime(target.group(1), "%Y %m %d %H %M").replace(
                tzinfo=UTC if target.group(2) else owner_zone)
            end_text = seed_time(wanted, owner_zone)  # the service reads it in that zone
            if booking.end >= wanted:
                return self._state(account, booking, "Already extended:")
        try:
            booking = self._service.extend(booking_id, end_text, actor=account.name)
        except Refusal:
            if target:  # a press at the same moment may have reached it first
                booking = self._service.get(booking_id, actor=account.name)
                if booking.end >= wanted:
                    return self._state(account, booking, "Already extended:")
            raise
        zone = self._service.zone_of(account)
        return Reply(f"Extended: {booking_line(booking, zone)}", self._actions(booking))

    def _restart(self, account: Account, rest: str) -> Reply:
        """`restart N`, or a button's `restart N after K`: only while no more than K restarts
        were asked, so an old button pressed after a newer restart restarts nothing."""
        booking_id, more = self._booking_id(rest, "restart N", more=True)
        after = _RESTART_AFTER.match(more)
        if more and after is None:
            raise Refusal(ErrorCode.BAD_INPUT, "Which booking? Say `restart N`; `list` shows the numbers.")
        booking = self._service.get(booking_id, actor=account.name)
        if not self._current(booking):
            return self._state(account, booking, "Nothing to do:")
        if after is not None:
            events = self._events(booking_id)
            if restarts.requests_made(events) > int(after.group(1)):
                return self._restart_state(account, booking, events)
        try:
            booking = self._service.restart(booking_id, actor=account.name)
        except Refusal as refusal:  # one is on its way (a press at the same moment, say)
            if refusal.code != ErrorCode.PENDING:
                raise
            return self._restart_state(account, booking, self._events(booking_id))
        return Reply(f"Restarting the container of booking #{booking_id}; I will message you "
                     "when it is back. Log in again with the same password.",
                     self._actions(booking))

    def _restart_state(self, account: Account, booking: Booking, events: list[Event]) -> Reply:
        """A running booking whose restart was asked already: how that restart went."""
        last = restarts.last_outcome(events)
        if last is None or last.kind == restarts.REQUESTED:
            lead = (f"A restart of booking #{booking.id} is already on its way; I will message "
                    "you when it is done.")
        elif last.kind == restarts.RESTARTED:
            at = local_time(restarts.requested_at(last), self._service.zone_of(account))
            lead = f"Already restarted at {at}:"
        else:
            lead = "Its last restart failed (my message says why); Restart tries again:"
        return self._state(account, booking, lead)

    def _login(self, account: Account, rest: str) -> Reply:
        """How to log in to a running booking of one's own: only ever a private answer."""
        booking_id, _ = self._booking_id(rest, "login N")
        booking = self._service.get(booking_id, actor=account.name)
        if booking.account != account.name:
            return Reply(f"Only {booking.account} is shown the login of booking #{booking_id}; "
                         f"on the server, `booking login {booking_id}` shows it.", private=True)
        if booking.status != Status.RUNNING or booking.end <= self._service.now():
            zone = self._service.zone_of(account)
            if booking.status in (Status.BOOKED, Status.STARTING):
                return Reply(f"Booking #{booking_id} is {booking.status.value}; it starts at "
                             f"{local_time(booking.start, zone)} and I send its login when its "
                             "container is up.", private=True)
            return self._state(account, booking, "No login:")
        if self._passwords is None:
            return Reply("Logins cannot be shown here; an admin can show it with "
                         f"`booking login {booking_id}` on the server.", private=True)
        password = self._passwords().password_for(booking)
        config = self._service.config
        host, user, port = config.server.public_host, config.container.user, booking.port
        until = local_time(booking.end, self._service.zone_of(account))
        return Reply("\n".join([
            f"Booking #{booking_id} runs until {until}. Log in with:",
            f"  host:     {host}",
            f"  port:     {port}",
            f"  user:     {user}",
            f"  password: {password}",
            f"  ssh -p {port} {user}@{host}",
        ]), private=True)

    # ----- booking requests -----------------------------------------------

    def _start_request(
        self, account: Account, rest: str
    ) -> tuple[list[Reply], dict[str, Any]]:
        rest, image, extra = split_extras(rest)
        try:
            parsed = parse_request(rest)
        except ValueError as exc:
            return [Reply(f"{exc}. {self._capability_question(account)}")], {}
        draft: dict[str, Any] = {k: v for k, v in (("image", image), ("command", extra)) if v}
        if parsed.names_resources:
            draft["resources"] = self._fill_defaults(account, parsed)
            if parsed.start is not None and parsed.end is not None:
                held = self._holding(account, draft["resources"], parsed.start, parsed.end)
                if held is not None:  # the same request again (an offer pressed twice)
                    return [self._state(account, held, "Already booked:")], {}
        return self._advance(account, {"draft": draft}, parsed.start, parsed.end)

    def _holding(
        self, account: Account, resources: list[float], start: str, end: str
    ) -> Booking | None:
        """The member's current booking of exactly this request, if any."""
        if start.strip().lower() == "now":
            return None  # `now` moves on; the service's own rules answer a repeat
        try:
            window = self._service.parse_window(account, start, end)
        except Refusal:
            return None
        return next((b for b in self._service.bookings(account.name)
                     if (b.start, b.end) == (window.start, window.end)
                     and b.resources == Resources(resources[0], int(resources[1]), int(resources[2]))),
                    None)

    def _fill_defaults(self, account: Account, parsed: ParsedRequest) -> list[float]:
        r = self.default_resources(account, parsed.cpus, parsed.memory, parsed.gpus)
        return [r.cpus, r.memory, r.gpus]

    def default_resources(
        self, account: Account, cpus: float | None = None, memory: int | None = None,
        gpus: int | None = None,
    ) -> Resources:
        """What the member named, and the configured default request (capped at their
        maximum) for the rest."""
        defaults = self._service.config.booking.default_request
        maximum = self._service.limits_of(account)
        return Resources(
            cpus if cpus is not None else min(defaults["cpus"], maximum.cpus),
            memory if memory is not None else min(int(defaults["memory"]), maximum.memory),
            gpus if gpus is not None else min(int(defaults["gpus"]), maximum.gpus),
        )

    def _advance(
        self, account: Account, state: dict[str, Any], start: str | None, end: str | None
    ) -> tuple[list[Reply], dict[str, Any]]:
        """Check what the draft has, then ask the next question or book."""
        draft = state["draft"]
        if "resources" in draft:
            try:
                self._service.check_resources(account, Resources(*draft["resources"]))
            except Refusal as refusal:
                if refusal.code != ErrorCode.OVER_LIMIT:
                    raise
                # Remembered: the next answer (`1 gpu`) is read as the resources.
                draft.pop("resources")
                return [Reply(f"{_sentence(refusal.message)} How much do you need?")], {
                    **state, "step": "capability", "pending": [start, end]}
        else:
            return [Reply(self._capability_question(account))], {**state, "step": "capability",
                                                                   "pending": [start, end]}
        if start is not None and "start" not in draft:
            draft["start"] = self._canonical_start(account, start)
        if "start" not in draft:
            return [Reply(f"When should it start? {FORMATS_HELP}.")], {
                **state, "step": "start", "pending": [None, end]}
        if end is None:
            return [Reply("When should it end? e.g. `3-day`, `1-week`, or a date.")], {
                **state, "step": "end"}
        return self._book(account, draft, end)

    def _capability_question(self, account: Account) -> str:
        maximum = self._service.limits_of(account)
        return (
            f"Your maximum: {maximum.describe()}. How much do you need? "
            "Answer `cpus memory gpus` (e.g. `4 16 1`) or words like `1 gpu 8 cpus 32g`."
        )

    def _canonical_start(self, account: Account, text: str) -> str:
        """Check a start now and keep it in a form that means the same later."""
        start = self._service.parse_start(account, text)
        if text.strip().lower() == "now":
            return "now"
        local = start.astimezone(self._service.zone_of(account))
        return f"{local:%Y %m %d %H %M}"

    def _answer(
        self, account: Account, text: str, state: dict[str, Any]
    ) -> tuple[list[Reply], dict[str, Any]]:
        step = state["step"]
        draft = state["draft"]
        if step in ("start", "end"):  # "end 3-day", "starting tomorrow 9am"
            text = re.sub(r"^(?:ends?|ending|starts?|starting|from|until|till|for)\s+", "", text,
                          flags=re.IGNORECASE) or text
        if step == "offer":
            if text.lower().rstrip(".!") in _YES:
                draft["start"] = state["offer"]
                return self._book(account, draft, state["end"])
            return [Reply("OK, I did not book it. Say `book` to try other times.")], {}
        if step == "capability":
            start, end = state.get("pending", [None, None])
            try:
                found, rest = parse_resources(text)
            except ValueError as exc:
                return [Reply(f"{exc}. {self._capability_question(account)}")], state
            if not found.names_resources or rest:
                return [Reply(
                    f"I could not read `{text[:60]}` as resources. "
                    + self._capability_question(account)
                )], state
            draft["resources"] = self._fill_defaults(account, found)
            try:
                return self._advance(account, {"draft": draft}, start, end)
            except Refusal as refusal:
                if refusal.code == ErrorCode.OVER_LIMIT:
                    draft.pop("resources")
                    return [Reply(f"{_sentence(refusal.message)} How much do you need?")], state
                raise
        if step == "start":
            try:
                draft["start"] = self._canonical_start(account, text)
            except Refusal as refusal:
                return [Reply(f"{_sentence(refusal.message)} When should it start?")], state
            return self._advance(account, {"draft": draft}, None, state.get("pending", [None, None])[1])
        return self._book(account, draft, text)

    def book(self, account: Account, form: FormRequest) -> list[Reply]:
        """A request filled in a form (Discord's slash options): resources left out take the
        default, then booked, or refused with the same offer a chat request gets (image and
        command kept; its button books exactly that, and `yes` in a direct message too)."""
        replies, _booked = self._book_form(account, form)
        return replies

    def submit(self, account: Account, request: BookingRequest) -> list[Reply]:
        """A complete request filled in a form (Slack's modal, answered later in a direct
        message): as `book`, a refusal starting with "Not booked:"."""
        r = request.resources
        replies, booked_ = self._book_form(account, FormRequest(
            request.start, request.end, r.cpus, r.memory, r.gpus, request.image, request.command))
        if not booked_:
            first = replies[0]
            replies[0] = Reply(f"Not booked: {first.text}", first.actions, first.private)
        return replies

    def _book_form(self, account: Account, form: FormRequest) -> tuple[list[Reply], bool]:
        """The replies, and whether it was booked."""
        r = self.default_resources(account, form.cpus, form.memory, form.gpus)
        draft: dict[str, Any] = {"resources": [r.cpus, r.memory, r.gpus], "start": form.start}
        draft.update({k: v for k, v in (("image", form.image), ("command", form.command)) if v})
        try:
            replies, state = self._book(account, draft, form.end)
        except Refusal as refusal:
            return [Reply(refusal.message)], False
        self._save(account, state)
        return replies, not state  # not booked: an offer or a question waits

    def _book(
        self, account: Account, draft: dict[str, Any], end: str
    ) -> tuple[list[Reply], dict[str, Any]]:
        request = BookingRequest(
            user=account.name, resources=Resources(*draft["resources"]),
            start=draft["start"], end=end, image=draft.get("image"), command=draft.get("command"),
        )
        try:
            booking = self._service.book(request)
        except Refusal as refusal:
            return self._refused(account, draft, end, refusal)
        zone = self._service.zone_of(account)
        text = booked(booking, zone)
        if booking.start <= self._service.now():
            text += "\nIt starts now; I will message you how to log in once the container is up."
        return [Reply(text, self._actions(booking))], {}

    def _refused(
        self, account: Account, draft: dict[str, Any], end: str, refusal: Refusal
    ) -> tuple[list[Reply], dict[str, Any]]:
        state = {"draft": draft}
        if refusal.code == ErrorCode.OVERLAP and draft.get("start") not in (None, "now"):
            held = self._holding(account, draft["resources"], draft["start"], end)
            if held is not None:  # the same press a moment earlier booked it
                return [self._state(account, held, "Already booked:")], {}
        if refusal.code == ErrorCode.BAD_TIME:
            try:
                self._service.parse_start(account, draft["start"])
            except Refusal as start_problem:  # time went by, or the start was never right
                draft.pop("start")
                return [Reply(f"{_sentence(start_problem.message)} When should it start?")], {
                    **state, "step": "start", "pending": [None, end]}
            return [Reply(f"{_sentence(refusal.message)} When should it end?")], {**state, "step": "end"}
        if refusal.earliest_start is not None:
            zone = self._service.zone_of(account)
            offered = refusal.earliest_start
            end_text = self._same_duration(account, draft, end, offered)
            take = offer_action(
                Resources(*draft["resources"]), offered,
                datetime.strptime(end_text, "%Y %m %d %H %M").replace(tzinfo=zone), zone,
                image=draft.get("image"), command=draft.get("command"),
            )
            # The button carries the whole request, so an old offer's button books
            # what it says, not whatever was offered last.
            return [Reply(refusal.message + " Shall I book it then? (yes / no)", (take,))], {
                **state, "step": "offer", "offer": take.request["start"], "end": end_text}
        draft.pop("resources", None)
        return [Reply(f"{_sentence(refusal.message)} {self._capability_question(account)}")], {
            **state, "step": "capability", "pending": [draft.get("start"), end]}

    def _same_duration(
        self, account: Account, draft: dict[str, Any], end: str, offered: datetime
    ) -> str:
        """The end that gives the offered start the same length as asked."""
        window = self._service.parse_window(account, draft["start"], end)
        local = (offered + window.duration).astimezone(self._service.zone_of(account))
        return f"{local:%Y %m %d %H %M}"

    def in_progress(self, account: Account) -> bool:
        """Whether the member is in the middle of a request (a question awaits an answer)."""
        return bool(self._load(account).get("step"))

    def _settings(self, account: Account, verb: str, rest: str) -> Reply:
        """`key <public key>`, `keys`, `keys clear`, `timezone Asia/Taipei`."""
        if verb == "timezone":
            if not rest:
                zone = self._service.zone_of(account)
                return Reply(f"Your times are shown in {zone}. Change it with `timezone Europe/Berlin`.")
            self._service.update_member(account.name, timezone=rest)
            return Reply(f"From now on your times are shown in {rest}.")
        if verb == "key" and rest:
            updated = self._service.update_member(account.name, add_ssh_key=rest)
            count = len(updated.ssh_keys.splitlines())
            return Reply(f"Key saved ({count} in all); your next container accepts it for SSH login.")
        if rest.lower() == "clear":
            self._service.update_member(account.name, ssh_keys="")
            return Reply("Your SSH keys are removed; log in with the password from my message.")
        keys = self._service.account(account.name).ssh_keys.splitlines()
        if not keys:
            return Reply("You have no SSH keys here. Add one with `key ssh-ed25519 AAAA... you@laptop`.")
        shown = "\n".join(f"- {k.split()[0]} ...{k.split()[1][-12:]} {' '.join(k.split()[2:])}" for k in keys)
        return Reply(f"Your SSH keys:\n{shown}\n`keys clear` removes them.")


def _sentence(text: str) -> str:
    """`text` ending as a sentence, so a question can follow it."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "`", ")")) else text + "."
