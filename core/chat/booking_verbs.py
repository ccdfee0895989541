"""The verbs on one booking: list, cancel, extend, restart, login, and the state a
booking is answered with when a press has nothing left to do."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.chat import idle_words
from core.chat.actions import (
    Card,
    seed_time,
)
from core.chat.engine_base import EngineBase
from core.chat.messages import Reply, booking_line
from core.domain import restart_requests as restarts
from core.domain.model import Account, Booking, ErrorCode, Event, Refusal, Status
from core.domain.zones import local_time
from core.services import idle_watch

_BOOKING_ID = re.compile(r"^#?(\d{1,18})\b\s*(.*)$")


# `cancel 12 because the disk is full`: why, told to the owner when someone else acts.
_BECAUSE = re.compile(r"^(.*?)\s*\bbecause\s+(\S.*)$", re.IGNORECASE | re.DOTALL)


MAX_WHY = 500  # the owner's message is stored whole (the outbox); a maintenance reason's limit


def _why(rest: str) -> tuple[str, str | None]:
    """`rest` without its `because ...`, and the reason given (None when none)."""
    match = _BECAUSE.match(rest)
    if match and len(match.group(2).strip()) > MAX_WHY:
        raise Refusal(ErrorCode.BAD_INPUT, f"Say why in at most {MAX_WHY} characters "
                      f"(that was {len(match.group(2).strip())}): `cancel 12 because the disk is full`.")
    return (match.group(1), match.group(2).strip()) if match else (rest, None)


_KEEP_NUDGE = re.compile(r"^nudge\s+(\d{1,6})$", re.IGNORECASE)


_RESTART_AFTER = re.compile(r"^after\s+(\d{1,6})$", re.IGNORECASE)


# A button's absolute end: in UTC when it says so, else in the owner's zone (older buttons).
_EXTEND_TO = re.compile(r"^(?:to|until)\s+(\d{4} \d{1,2} \d{1,2} \d{1,2} \d{2})(\s+UTC)?$",
                        re.IGNORECASE)


class BookingVerbs(EngineBase):
    def card(self, account: Account, booking: Booking) -> Card:
        """One booking's line and the actions it offers now."""
        zone = self._service.zone_of(account)
        return Card(booking.id or 0, booking_line(booking, zone, self._pooled),
                    self._actions(booking))

    def _list(self, account: Account) -> Reply:
        mine = self._service.bookings(account.name)
        if not mine:
            return Reply("You have no upcoming or running bookings. Say `book` to make one.")
        cards = tuple(self.card(account, b) for b in mine)
        # The text keeps every line for surfaces that show text only (the terminal, a log).
        return Reply("Your bookings:\n" + "\n".join(c.text for c in cards), cards=cards)

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
            text = booking_line(booking, zone, self._pooled)
        text = f"{lead} {text}".strip() if lead else text
        return Reply(text, self._actions(booking) if self._current(booking) else ())

    @staticmethod
    def _is_answer(command: re.Match[str]) -> bool:
        """`end 3-day` while a question waits answers it; it does not end booking 3."""
        verb, rest = command.group(1).lower(), command.group(2).strip()
        return verb in ("end", "cancel") and not re.fullmatch(r"#?\d{1,18}", _why(rest)[0])

    @staticmethod
    def _booking_id(text: str, usage: str, *, more: bool = False) -> tuple[int, str]:
        """`12` or `#12` (and, with `more`, what follows it)."""
        match = _BOOKING_ID.match(text)
        if not match or (match.group(2) and not more):
            raise Refusal(ErrorCode.BAD_INPUT, f"Which booking? Say `{usage}`; `list` shows the numbers.")
        return int(match.group(1)), match.group(2)

    def _cancel(self, account: Account, rest: str) -> Reply:
        rest, reason = _why(rest)
        booking_id, _ = self._booking_id(rest, "cancel N")
        booking = self._service.get(booking_id, actor=account.name)
        if not self._current(booking):
            return self._state(account, booking, "Nothing to do:")
        try:
            booking = self._service.cancel(booking_id, actor=account.name, reason=reason)
        except Refusal as refusal:  # it ended in the meantime
            if refusal.code != ErrorCode.NOT_FOUND:
                raise
            return self._state(account, self._service.get(booking_id, actor=account.name),
                               "Nothing to do:")
        if booking.status == "cancelled":
            return Reply(f"Booking #{booking_id} is cancelled.")
        return Reply(f"Booking #{booking_id} ends now; its files are backed up first.")

    def _extend(self, account: Account, rest: str) -> Reply:
        rest, reason = _why(rest)
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
            booking = self._service.extend(booking_id, end_text, actor=account.name,
                                           reason=reason)
        except Refusal:
            if target:  # a press at the same moment may have reached it first
                booking = self._service.get(booking_id, actor=account.name)
                if booking.end >= wanted:
                    return self._state(account, booking, "Already extended:")
            raise
        zone = self._service.zone_of(account)
        return Reply(f"Extended: {booking_line(booking, zone, self._pooled)}",
                     self._actions(booking))

    def _restart(self, account: Account, rest: str) -> Reply:
        """`restart N`, or a button's `restart N after K`: only while no more than K restarts
        were asked, so an old button pressed after a newer restart restarts nothing."""
        rest, reason = _why(rest)
        booking_id, after = self._pressed_target(rest, "restart", _RESTART_AFTER)
        booking = self._service.get(booking_id, actor=account.name)
        if not self._current(booking):
            return self._state(account, booking, "Nothing to do:")
        try:
            booking = self._service.restart(booking_id, actor=account.name, reason=reason,
                                            after=after)
        except Refusal as refusal:  # one is on its way, or done since the button was drawn
            if refusal.code not in (ErrorCode.PENDING, ErrorCode.OVERTAKEN):
                raise
            return self._restart_state(account, booking, self._events(booking_id))
        return Reply(f"Restarting the container of booking #{booking_id}; I will message you "
                     "when it is back. Log in again with the same password.",
                     self._actions(booking))

    def _pressed_target(self, rest: str, verb: str, marker: re.Pattern[str]) -> tuple[int, int | None]:
        """`verb N`, or a button's `verb N <marker> K` (the state it was drawn in): N and K."""
        booking_id, more = self._booking_id(rest, f"{verb} N", more=True)
        found = marker.match(more)
        if more and found is None:
            raise Refusal(ErrorCode.BAD_INPUT,
                          f"Which booking? Say `{verb} N`; `list` shows the numbers.")
        return booking_id, int(found.group(1)) if found else None

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

    def _keep(self, account: Account, rest: str) -> Reply:
        """`keep N`, or Keep it's `keep N nudge K`: the idle clock starts again, once."""
        booking_id, nudge = self._pressed_target(rest, "keep", _KEEP_NUDGE)
        booking = self._service.get(booking_id, actor=account.name)
        if not self._current(booking):
            return self._state(account, booking, "Nothing to do:")
        outcome, booking = idle_watch.keep(self._service, booking_id, actor=account.name,
                                           nudge=nudge)
        return Reply(idle_words.kept(outcome, booking, self._service.zone_of(account),
                                     self._service.config.idle.notify_hours),
                     self._actions(booking))

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
        if booking.server in config.server_names:  # a pool: the booking's own server
            config = config.for_server(booking.server)
        host, user, port = config.server.public_host, config.container.user, booking.port
        until = local_time(booking.end, self._service.zone_of(account))
        where = f" on {booking.server}" if self._pooled else ""
        return Reply("\n".join([
            f"Booking #{booking_id}{where} runs until {until}. Log in with:",
            f"  host:     {host}",
            f"  port:     {port}",
            f"  user:     {user}",
            f"  password: {password}",
            f"  ssh -p {port} {user}@{host}",
        ]), private=True)
