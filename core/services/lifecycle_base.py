"""The lifecycle runner's state and the steps every part shares: loading a booking,
recording events and transitions, failing a booking and telling the admins."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.backup_plan import BackupItem, BackupPlanError
from core.domain.config import Config
from core.domain.container import ContainerError
from core.domain.container_spec import container_name
from core.domain.model import Account, Booking, Event, Status, Window
from core.domain.passwords import PasswordDeriver
from core.services.accounts import admin_names
from core.services.container_runtime import ContainerRuntime
from core.services.lifecycle_ports import LifecycleWords, MemberFiles
from core.services.notifier import Message
from core.services.outbox import enqueue
from core.services.ports import SchedulerUnitOfWork

ACTOR = "scheduler"


MAX_RETRY_SECONDS = 60.0


RESTART_RETRY_SECONDS = 5.0


HANDOVER_POLL_SECONDS = 1.0  # a start waiting for the previous container to go looks again


# A running booking's container that stops this often within the window is left
# stopped (it keeps dying: out of memory, a crashing command) and people are told.
MAX_RECOVERIES = 3


RECOVERY_WINDOW = timedelta(minutes=30)


@dataclass
class BackupOutcome:
    saved: list[str] = field(default_factory=list)  # backup paths
    missing: list[str] = field(default_factory=list)  # container paths not found
    missing_before: list[str] = field(default_factory=list)  # ... that had an earlier copy
    not_saved: list[str] = field(default_factory=list)  # container path (why)
    notes: list[str] = field(default_factory=list)


def error_text(exc: BaseException) -> str:
    """What went wrong, in a few words: an OS error's own text (no errno), else the message."""
    return str(getattr(exc, "strerror", None) or exc)


def event_time(event: Event) -> datetime:
    """When an event happened, by the lifecycle's own clock where it was recorded."""
    at = event.detail.get("at")
    return datetime.fromisoformat(str(at)) if at else event.at


log = logging.getLogger(__name__)


class LifecycleBase:
    def __init__(
        self, *, config: Config, uow: Callable[[], SchedulerUnitOfWork],
        runtime: ContainerRuntime, passwords: PasswordDeriver,
        clock: Callable[[], datetime],
        words: LifecycleWords, files: MemberFiles,
        ssh_ready: Callable[[str, int, float], bool],
        stop: threading.Event | None = None,
        freed: Callable[[Window], object] | None = None,
    ) -> None:
        """`freed(window)` is told the room a failed booking gave back, after the failure is
        recorded (bot/serve.py: BookingService.recheck_waitlist, so those waiting for it
        are told); a problem there is logged, the failure stands."""
        self._words = words
        self._files = files
        self._config = config
        self._settings = config.scheduler
        self._uow = uow
        self._runtime = runtime
        self._passwords = passwords
        self._clock = clock
        self._ssh_ready = ssh_ready
        self._stop = stop or threading.Event()
        self._freed = freed
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        # Asked to call advance(booking_id) again after a delay (set by the scheduler).
        self.retry_later: Callable[[int, float], None] = lambda booking_id, delay: None
        self._end_failures: dict[int, int] = {}  # failed end attempts, for the backoff
        self._waiters: dict[int, set[int]] = {}  # ending booking -> starts waiting for it

    def _wake_waiters(self, ended_id: int) -> None:
        with self._guard:
            waiting = self._waiters.pop(ended_id, set())
        for booking_id in sorted(waiting):
            self.retry_later(booking_id, 0.0)

    def _fail(self, booking: Booking, reason: str, *, told: Message | None = None) -> None:
        """`reason` goes to the event log and the admins; the member gets `told`
        (default: `reason` in words.failed)."""
        assert booking.id is not None
        try:  # never leave a half-made container behind
            self._runtime.stop_and_remove(container_name(booking), grace_seconds=0)
        except ContainerError as exc:
            log.warning("booking %d: could not remove its container yet (%s); "
                        "the reconcile pass will", booking.id, exc)
        with self._uow() as uow:
            uow.bookings.lock_server()
            current = uow.bookings.get(booking.id)
            if current is None or not current.holds_resources:
                return
            uow.bookings.save(replace(current, status=Status.FAILED))
            uow.bookings.record(booking.id, "failed", ACTOR, reason=reason)
            enqueue(uow.outbox, current.account, told or self._words.failed(current, reason),
                    self._clock())
            self._tell_admins(uow, current, self._words.admin_failed(current, reason))
            uow.commit()
        log.error("booking %d failed: %s", booking.id, reason)
        window = Window(max(self._clock(), current.start), current.end)
        if self._freed is not None and window.end > window.start:
            try:
                self._freed(window)
            except Exception:
                log.exception("booking %d: the waitlist could not be told of its room", booking.id)

    def _tell_admins(self, uow: SchedulerUnitOfWork, booking: Booking, message: Message) -> None:
        """Queue an admin message; an admin who owns the booking has their own message."""
        for admin in admin_names(uow.accounts.all(), self._config):
            if admin != booking.account:
                enqueue(uow.outbox, admin, message, self._clock())

    def _lock_for(self, booking_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(booking_id, threading.Lock())

    def _load(self, booking_id: int) -> Booking | None:
        with self._uow() as uow:
            return uow.bookings.get(booking_id)

    def _account(self, name: str) -> Account:
        with self._uow() as uow:
            return uow.accounts.get(name) or Account(name=name)

    def _events(self, booking_id: int) -> list[Event]:
        with self._uow() as uow:
            return uow.bookings.events(booking_id)

    def _first_event_at(self, booking_id: int, kind: str) -> datetime | None:
        """When the first `kind` event happened, by the lifecycle's own clock."""
        found = next((e for e in self._events(booking_id) if e.kind == kind), None)
        if found is None:
            return None
        return datetime.fromisoformat(found.detail["at"]) if "at" in found.detail else found.at

    def _restored(self, booking_id: int) -> list[str]:
        running = [e for e in self._events(booking_id) if e.kind == "running"]
        return list(running[-1].detail.get("restored", [])) if running else []

    def _plan(self, backup: Path) -> tuple[list[BackupItem], str | None]:
        """The member's plan, or no plan and what is wrong with it (for the member)."""
        try:
            return self._files.load_plan(backup), None
        except BackupPlanError as exc:
            log.warning("backup plan in %s unusable: %s", backup, exc)
            return [], str(exc)
        except OSError as exc:
            log.warning("backup plan in %s unreadable: %s", backup, exc)
            return [], error_text(exc)

    def _admins(self) -> list[str]:
        with self._uow() as uow:
            return admin_names(uow.accounts.all(), self._config)

    def _transition(
        self, booking_id: int, allowed: set[Status], to: Status, kind: str
    ) -> Booking | None:
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = uow.bookings.get(booking_id)
            if booking is None or booking.status not in allowed:
                return None
            if booking.status != to:
                booking = replace(booking, status=to)
                uow.bookings.save(booking)
                uow.bookings.record(booking_id, kind, ACTOR, at=self._clock().isoformat())
                uow.commit()
            return booking

    def _record(self, booking_id: int, kind: str, *, message: Message | None = None,
                **detail: object) -> None:
        with self._uow() as uow:
            uow.bookings.record(booking_id, kind, ACTOR, **detail)
            if message is not None:
                booking = uow.bookings.get(booking_id)
                if booking is not None:
                    enqueue(uow.outbox, booking.account, message, self._clock())
            uow.commit()
