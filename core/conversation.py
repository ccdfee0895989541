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
from datetime import datetime
from typing import Any

from core.domain import Account, ErrorCode, Refusal, Resources, Status
from core.messages import HELP, Action, Reply, booked, booking_line
from core.request_text import ParsedRequest, parse_request, parse_resources
from core.service import BookingRequest, BookingService
from core.timeparse import FORMATS_HELP

log = logging.getLogger(__name__)

_ABANDON = {"abort", "stop", "quit", "exit", "never mind", "nevermind", "reset", "forget it"}
_YES = {"yes", "y", "ok", "okay", "sure", "take it", "book it"}
# The words the engine knows first on a line; adapters that pass text through
# (Slack's `/book ...`) use this list too.
VERBS = ("book", "list", "ls", "cancel", "end", "extend", "restart", "help", "key", "keys",
         "timezone", *sorted(_ABANDON))
_COMMAND = re.compile(
    r"^(book|list|ls|cancel|end|extend|restart|help|key|keys|timezone)\b\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_BOOKING_ID = re.compile(r"^#?(\d{1,18})\b\s*(.*)$")


def booking_actions(booking_id: int, running: bool = False) -> tuple[Action, ...]:
    stop = Action("End now", f"cancel {booking_id}", "danger") if running else Action(
        "Cancel", f"cancel {booking_id}", "danger"
    )
    extend = Action("Extend 1 day", f"extend {booking_id} 1-day")
    if running:
        return (stop, extend, Action("Restart", f"restart {booking_id}"))
    return (stop, extend)


class ConversationEngine:
    def __init__(self, service: BookingService) -> None:
        self._service = service

    def handle(self, account: Account, text: str) -> list[Reply]:
        text = " ".join(text.strip().split())
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
        verb, rest = command.group(1).lower(), command.group(2).strip()
        if verb == "help":
            return [Reply(HELP)], state
        if verb in ("list", "ls"):
            return [self._list(account)], state
        if verb in ("cancel", "end"):
            return [self._cancel(account, rest)], state
        if verb in ("key", "keys", "timezone"):
            return [self._settings(account, verb, rest)], state
        if verb == "extend":
            return [self._extend(account, rest)], state
        if verb == "restart":
            return [self._restart(account, rest)], state
        return self._start_request(account, rest)

    def _list(self, account: Account) -> Reply:
        zone = self._service.zone_of(account)
        mine = self._service.bookings(account.name)
        if not mine:
            return Reply("You have no upcoming or running bookings. Say `book` to make one.")
        lines = [booking_line(b, zone) for b in mine]
        actions = tuple(a for b in mine for a in booking_actions(b.id or 0, b.status == "running"))
        return Reply("Your bookings:\n" + "\n".join(lines), actions)

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
        booking = self._service.cancel(booking_id, actor=account.name)
        if booking.status == "cancelled":
            return Reply(f"Booking #{booking_id} is cancelled.")
        return Reply(f"Booking #{booking_id} ends now; its files are backed up first.")

    def _extend(self, account: Account, rest: str) -> Reply:
        booking_id, end_text = self._booking_id(rest, "extend N 2-day", more=True)
        if not end_text:
            raise Refusal(ErrorCode.BAD_INPUT, "Extend by how much? e.g. `extend 12 2-day`.")
        booking = self._service.extend(booking_id, end_text, actor=account.name)
        zone = self._service.zone_of(account)
        return Reply(f"Extended: {booking_line(booking, zone)}",
                     booking_actions(booking_id, booking.status == Status.RUNNING))

    def _restart(self, account: Account, rest: str) -> Reply:
        booking_id, _ = self._booking_id(rest, "restart N")
        self._service.restart(booking_id, actor=account.name)
        return Reply(f"Restarting the container of booking #{booking_id}; I will message you "
                     "when it is back. Log in again with the same password.")

    # ----- booking requests -----------------------------------------------

    def _start_request(
        self, account: Account, rest: str
    ) -> tuple[list[Reply], dict[str, Any]]:
        try:
            parsed = parse_request(rest)
        except ValueError as exc:
            return [Reply(f"{exc}. {self._capability_question(account)}")], {}
        draft: dict[str, Any] = {}
        if parsed.names_resources:
            draft["resources"] = self._fill_defaults(account, parsed)
        return self._advance(account, {"draft": draft}, parsed.start, parsed.end)

    def _fill_defaults(self, account: Account, parsed: ParsedRequest) -> list[float]:
        defaults = self._service.config.booking.default_request
        maximum = self._service.limits_of(account)
        cpus = parsed.cpus if parsed.cpus is not None else min(defaults["cpus"], maximum.cpus)
        memory = parsed.memory if parsed.memory is not None else min(
            int(defaults["memory"]), maximum.memory
        )
        gpus = parsed.gpus if parsed.gpus is not None else min(int(defaults["gpus"]), maximum.gpus)
        return [cpus, memory, gpus]

    def _advance(
        self, account: Account, state: dict[str, Any], start: str | None, end: str | None
    ) -> tuple[list[Reply], dict[str, Any]]:
        """Check what the draft has, then ask the next question or book."""
        draft = state["draft"]
        if "resources" in draft:
            self._service.check_resources(account, Resources(*draft["resources"]))
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
                    return [Reply(f"{refusal.message} How much do you need?")], state
                raise
        if step == "start":
            try:
                draft["start"] = self._canonical_start(account, text)
            except Refusal as refusal:
                return [Reply(f"{refusal.message} When should it start?")], state
            return self._advance(account, {"draft": draft}, None, state.get("pending", [None, None])[1])
        return self._book(account, draft, text)

    def _book(
        self, account: Account, draft: dict[str, Any], end: str
    ) -> tuple[list[Reply], dict[str, Any]]:
        request = BookingRequest(
            user=account.name, resources=Resources(*draft["resources"]),
            start=draft["start"], end=end,
        )
        try:
            booking = self._service.book(request)
        except Refusal as refusal:
            return self._refused(account, draft, end, refusal)
        zone = self._service.zone_of(account)
        text = booked(booking, zone)
        if booking.start <= self._service.now():
            text += "\nIt starts now; I will message you how to log in once the container is up."
        return [Reply(text, booking_actions(booking.id or 0))], {}

    def _refused(
        self, account: Account, draft: dict[str, Any], end: str, refusal: Refusal
    ) -> tuple[list[Reply], dict[str, Any]]:
        state = {"draft": draft}
        if refusal.code == ErrorCode.BAD_TIME:
            try:
                self._service.parse_start(account, draft["start"])
            except Refusal as start_problem:  # time went by, or the start was never right
                draft.pop("start")
                return [Reply(f"{start_problem.message} When should it start?")], {
                    **state, "step": "start", "pending": [None, end]}
            return [Reply(f"{refusal.message} When should it end?")], {**state, "step": "end"}
        if refusal.earliest_start is not None:
            local = refusal.earliest_start.astimezone(self._service.zone_of(account))
            offer = f"{local:%Y %m %d %H %M}"
            end_text = self._same_duration(account, draft, end, refusal.earliest_start)
            cpus, memory, gpus = draft["resources"]
            # The button carries the whole request, so an old offer's button books
            # what it says, not whatever was offered last.
            take = f"book {cpus:g} cpus {memory}g {gpus} gpus {offer} to {end_text}"
            return [Reply(
                refusal.message + " Shall I book it then? (yes / no)",
                (Action(f"Book from {local:%a %d %b %H:%M}", take, "primary"),),
            )], {**state, "step": "offer", "offer": offer, "end": end_text}
        draft.pop("resources", None)
        return [Reply(f"{refusal.message} {self._capability_question(account)}")], {
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
