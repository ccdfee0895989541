"""Idle GPUs: every minute the scheduler samples the utilisation of each running booking's
GPUs (`IdleWatch.sample`). Only a running summary per booking is kept, in memory; the
booking's events keep it at each milestone (the member asked, the booking released) and
at the end (`gpu_usage`: avg_util, samples, for the usage report). A booking whose GPUs
all sat idle for `idle.notify_hours` gets a message with *Keep it* / *End now*; with
`idle.release_hours` set and no answer, it is ended through the usual end (backup first)
and the member and the admins are told. Rules: core/domain/idle.py.

`last_reading()` is what the last sample saw, GPU by GPU, for the `booking_gpus_idle`
metric: which GPUs are idle now is known only here (nothing per minute is stored).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.domain import idle
from core.domain.config import Config
from core.domain.idle import KeepOutcome, Marks, Step, UsageSummary
from core.domain.model import Account, Booking, Event, Refusal, Status
from core.services.accounts import admin_names
from core.services.booking import BookingService
from core.services.notifier import Message
from core.services.outbox import enqueue
from core.services.ports import SchedulerUnitOfWork, UnitOfWork

log = logging.getLogger(__name__)

ACTOR = "scheduler"
_MOMENT = timedelta(seconds=1)  # bookings holding now: started by now, not ended yet


class GpuUtilisation(Protocol):
    """The host's GPUs' utilisation now (core/runtime/gpu_usage.py reads NVML)."""

    def utilisation(self) -> Mapping[int, float]:
        """Percent busy per GPU id; the GPUs that did not answer are left out (all of
        them without a driver)."""


@dataclass(frozen=True)
class IdleReading:
    """The last sample: the running bookings' GPUs that were read, and those of them below
    idle.threshold_percent (each GPU on its own, whatever its booking's other GPUs do)."""

    gpus_read: int = 0
    gpus_idle: int = 0
    at: datetime | None = None  # None before the first sample


class IdleWords(Protocol):
    """What the member and the admins are told (core/chat/idle_words.py)."""

    def idle_nudge(self, config: Config, booking: Booking, account: Account, since: datetime,
                   nudge: int) -> Message: ...

    def idle_released(self, config: Config, booking: Booking, account: Account,
                      since: datetime) -> Message: ...

    def admin_idle_released(self, config: Config, booking: Booking, since: datetime) -> Message: ...


def _when(event: Event) -> datetime:
    """When an event happened, by the clock of the part that recorded it."""
    at = event.detail.get("at")
    return datetime.fromisoformat(str(at)) if at else event.at


def marks_of(uow: UnitOfWork, booking_id: int) -> Marks:
    return idle.marks_from([(e.kind, e.detail, _when(e)) for e in uow.bookings.events(booking_id)])


class IdleWatch:
    def __init__(
        self, *, config: Config, uow: Callable[[], SchedulerUnitOfWork], gpus: GpuUtilisation,
        words: IdleWords, end: Callable[[int], object], clock: Callable[[], datetime],
    ) -> None:
        """`end(booking_id)` ends a running booking now, as the member's End does
        (BookingService.cancel by the system); the scheduler then backs it up."""
        self._config = config
        self._settings = config.idle
        self._uow = uow
        self._gpus = gpus
        self._words = words
        self._end = end
        self._clock = clock
        self._summaries: dict[int, UsageSummary] = {}
        self._lock = threading.Lock()  # one sample at a time
        self._reading = IdleReading()

    def last_reading(self) -> IdleReading:
        return self._reading

    def sample(self) -> None:
        """One sample of every running booking's GPUs, and what follows from it."""
        with self._lock:
            now = self._clock()
            with self._uow() as uow:
                running = [b for b in uow.bookings.holding_between(now, now + _MOMENT)
                           if b.status == Status.RUNNING and b.gpu_ids and b.end > now]
            for booking_id in set(self._summaries) - {b.id for b in running}:
                self._finish(booking_id)
            readings = self._gpus.utilisation() if running else {}
            held = [readings[g] for b in running for g in b.gpu_ids if g in readings]
            self._reading = IdleReading(len(held), sum(
                1 for u in held if u < self._settings.threshold_percent), now)
            for booking in running:
                try:
                    self._sample_one(booking, readings, now)
                except Exception:  # one booking's trouble must not stop the others
                    log.exception("idle check of booking %s failed", booking.id)

    def _sample_one(self, booking: Booking, readings: Mapping[int, float], now: datetime) -> None:
        assert booking.id is not None
        if any(g not in readings for g in booking.gpu_ids):
            return  # not read this time: neither busy nor idle
        summary = self._summaries.get(booking.id)
        if summary is None:
            summary = self._resumed(booking.id)
        summary = summary.add([readings[g] for g in booking.gpu_ids], now,
                              self._settings.threshold_percent)
        self._summaries[booking.id] = summary
        if summary.idle_since is None or self._settings.notify_hours is None:
            return
        if now - summary.idle_since < idle.hours(self._settings.notify_hours):
            return  # not idle long enough for anything, whatever the events say
        with self._uow() as uow:
            step = idle.next_step(summary, marks_of(uow, booking.id), now, self._settings)
        if step == Step.NOTIFY:
            self._notify(booking.id, summary, now)
        elif step == Step.RELEASE:
            self._release(booking.id, summary, now)

    def _resumed(self, booking_id: int) -> UsageSummary:
        """The summary kept at the booking's last milestone (after a restart), else none."""
        with self._uow() as uow:
            kept = [e for e in uow.bookings.events(booking_id) if "samples" in e.detail]
        return UsageSummary.from_detail(kept[-1].detail) if kept else UsageSummary()

    def _notify(self, booking_id: int, summary: UsageSummary, now: datetime) -> None:
        assert summary.idle_since is not None
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = uow.bookings.get(booking_id)
            if booking is None or booking.status != Status.RUNNING:
                return
            marks = marks_of(uow, booking_id)
            if idle.next_step(summary, marks, now, self._settings) != Step.NOTIFY:
                return  # answered or asked in the meantime
            since = idle.idle_clock(summary, marks) or summary.idle_since
            nudge = marks.nudges + 1
            uow.bookings.record(booking_id, idle.NOTIFIED, ACTOR, nudge=nudge,
                                at=now.isoformat(), idle_since=since.isoformat(),
                                **summary.detail())
            account = uow.accounts.get(booking.account) or Account(name=booking.account)
            enqueue(uow.outbox, booking.account,
                    self._words.idle_nudge(self._config, booking, account, since, nudge), now)
            uow.commit()
        log.info("booking %d: GPUs idle since %s; member asked", booking_id, since.isoformat())

    def _release(self, booking_id: int, summary: UsageSummary, now: datetime) -> None:
        """Recorded (so a Keep it pressed from now on is too late) and told first, in one
        transaction; then ended through the usual end."""
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = uow.bookings.get(booking_id)
            if booking is None or booking.status != Status.RUNNING or booking.end <= now:
                return
            marks = marks_of(uow, booking_id)
            if idle.next_step(summary, marks, now, self._settings) != Step.RELEASE:
                return  # kept in the meantime
            since = idle.idle_clock(summary, marks) or now
            uow.bookings.record(booking_id, idle.RELEASED, ACTOR, at=now.isoformat(),
                                idle_since=since.isoformat(), **summary.detail())
            account = uow.accounts.get(booking.account) or Account(name=booking.account)
            enqueue(uow.outbox, booking.account,
                    self._words.idle_released(self._config, booking, account, since), now)
            told = self._words.admin_idle_released(self._config, booking, since)
            for admin in admin_names(uow.accounts.all(), self._config):
                if admin != booking.account:
                    enqueue(uow.outbox, admin, told, now)
            uow.commit()
        log.warning("booking %d: GPUs idle since %s with no answer; ending it",
                    booking_id, since.isoformat())
        try:
            self._end(booking_id)
        except Refusal as refusal:  # it ended by itself in the meantime
            log.info("booking %d: already over (%s)", booking_id, refusal.message)

    def _finish(self, booking_id: int) -> None:
        """The booking stopped running: its summary goes into its events."""
        summary = self._summaries.pop(booking_id)
        if not summary.samples:
            return
        with self._uow() as uow:
            uow.bookings.record(booking_id, idle.USAGE, ACTOR, at=self._clock().isoformat(),
                                **summary.detail())
            uow.commit()


def keep(service: BookingService, booking_id: int, *, actor: str,
         nudge: int | None) -> tuple[KeepOutcome, Booking]:
    """The member's *Keep it* (`nudge`: the message it answers; None, typed: the latest):
    the idle clock starts again, once per message."""
    service.get(booking_id, actor=actor)  # someone else's booking is answered as missing
    with service.unit() as uow:
        uow.bookings.lock_server()
        booking = uow.bookings.get(booking_id)
        assert booking is not None
        outcome, target = idle.keep_outcome(marks_of(uow, booking_id), nudge)
        if outcome == KeepOutcome.KEPT:
            uow.bookings.record(booking_id, idle.KEPT, actor, nudge=target,
                                at=service.now().isoformat())
            uow.commit()
    return outcome, booking
