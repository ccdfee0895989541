"""A booking request in conversation: what is still missing, the question for it,
the answer, and the offer when it does not fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.chat.actions import (
    offer_action,
    split_extras,
)
from core.chat.booking_verbs import BookingVerbs
from core.chat.calendar_feed import calendar_line
from core.chat.messages import Reply, booked
from core.chat.waitlist_verbs import WaitlistVerbs
from core.domain.model import Account, Booking, ErrorCode, Refusal, Resources
from core.domain.request_line import ParsedRequest
from core.domain.request_text import parse_request
from core.domain.resource_words import parse_resources
from core.domain.server_words import split_server
from core.domain.time_tokens import FORMATS_HELP
from core.services.capacity import BookingRequest

_YES = {"yes", "y", "ok", "okay", "sure", "take it", "book it"}


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
    server: str | None = None  # a pool's server (Slack's modal, Discord's `server`); None: any


def _sentence(text: str) -> str:
    """`text` ending as a sentence, so a question can follow it."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", ".)", ".`")) else text + "."


class BookingRequests(BookingVerbs, WaitlistVerbs):
    def _start_request(
        self, account: Account, rest: str
    ) -> tuple[list[Reply], dict[str, Any]]:
        rest, image, extra = split_extras(rest)
        try:
            rest, server = split_server(rest, self._service.config.server_names)
            parsed = parse_request(rest)
        except ValueError as exc:
            return [Reply(f"{exc}. {self._capability_question(account)}")], {}
        if server is not None:
            self._service.on(server)  # an unknown name: the pool's refusal, naming its servers
        draft: dict[str, Any] = {k: v for k, v in (("image", image), ("command", extra),
                                                   ("server", server)) if v}
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
            request.start, request.end, r.cpus, r.memory, r.gpus, request.image, request.command,
            request.server))
        if not booked_:
            first = replies[0]
            replies[0] = Reply(f"Not booked: {first.text}", first.actions, first.private)
        return replies

    def _book_form(self, account: Account, form: FormRequest) -> tuple[list[Reply], bool]:
        """The replies, and whether it was booked."""
        r = self.default_resources(account, form.cpus, form.memory, form.gpus)
        draft: dict[str, Any] = {"resources": [r.cpus, r.memory, r.gpus], "start": form.start}
        draft.update({k: v for k, v in (("image", form.image), ("command", form.command),
                                        ("server", form.server)) if v})
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
            server=draft.get("server"),
        )
        try:
            booking = self._service.book(request)
        except Refusal as refusal:
            return self._refused(account, draft, end, refusal)
        zone = self._service.zone_of(account)
        text = booked(booking, zone, self._pooled)
        if booking.start <= self._service.now():
            text += "\nIt starts now; I will message you how to log in once the container is up."
        if self.calendar_link is not None:
            text += "\n" + calendar_line(self.calendar_link(account.name))
        return [Reply(text, self._actions(booking))], {}

    def _refused(
        self, account: Account, draft: dict[str, Any], end: str, refusal: Refusal
    ) -> tuple[list[Reply], dict[str, Any]]:
        state: dict[str, Any] = {"draft": draft}
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
        if refusal.server is not None:  # a pool: the offer (and the waitlist) is on that server
            draft["server"] = refusal.server
        hint, remembered, notify = self._notify_offer(account, draft, end, refusal)
        state.update(remembered)  # a typed `notify me` waits for this request
        if refusal.earliest_start is not None:
            zone = self._service.zone_of(account)
            offered = refusal.earliest_start
            end_text = self._same_duration(account, draft, end, offered)
            take = offer_action(
                Resources(*draft["resources"]), offered,
                datetime.strptime(end_text, "%Y %m %d %H %M").replace(tzinfo=zone), zone,
                image=draft.get("image"), command=draft.get("command"),
                server=draft.get("server") if self._pooled else None,
            )
            # The button carries the whole request, so an old offer's button books
            # what it says, not whatever was offered last.
            return [Reply(refusal.message + " Shall I book it then? (yes / no)", (take, *notify))], {
                **state, "step": "offer", "offer": take.request["start"], "end": end_text}
        draft.pop("resources", None)
        return [Reply(f"{_sentence(refusal.message)} {self._capability_question(account)}{hint}",
                      notify)], {
            **state, "step": "capability", "pending": [draft.get("start"), end]}

    def _same_duration(
        self, account: Account, draft: dict[str, Any], end: str, offered: datetime
    ) -> str:
        """The end that gives the offered start the same length as asked."""
        window = self._service.parse_window(account, draft["start"], end)
        local = (offered + window.duration).astimezone(self._service.zone_of(account))
        return f"{local:%Y %m %d %H %M}"
