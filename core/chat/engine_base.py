"""The conversation engine's state: the service it calls, each member's half-finished
request (stored between messages), and the buttons a booking shows now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.chat.actions import (
    Action,
)
from core.chat.actions import booking_actions as actions_for
from core.domain import restart_requests as restarts
from core.domain.model import Account, Booking, Event, Refusal, Status
from core.domain.passwords import PasswordDeriver
from core.services.booking import BookingService


class EngineBase:
    def __init__(
        self, service: BookingService, *,
        passwords: Callable[[], PasswordDeriver] | None = None,
    ) -> None:
        self._service = service
        # Called on the first `login N` only: the secret is read when a login is shown.
        self._passwords = passwords
        # A member's calendar feed URL, set by `serve` when it serves the feeds (bot/http_feeds.py).
        self.calendar_link: Callable[[str], str] | None = None

    def _load(self, account: Account) -> dict[str, Any]:
        with self._service.unit() as uow:
            return uow.conversations.load(account.name)

    def _save(self, account: Account, state: dict[str, Any]) -> None:
        with self._service.unit() as uow:
            uow.conversations.save(account.name, state)
            uow.commit()

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

    @property
    def _pooled(self) -> bool:
        """A pool of servers (config `servers:`): replies name each booking's server."""
        return self._service.config.is_pool

    def _current(self, booking: Booking) -> bool:
        return booking.holds_resources and booking.end > self._service.now()

    def in_progress(self, account: Account) -> bool:
        """Whether the member is in the middle of a request (a question awaits an answer)."""
        return bool(self._load(account).get("step"))
