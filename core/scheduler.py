"""The embedded scheduler (APScheduler 3) of `booking serve`.

The database is the source of truth. Exact-time jobs (start, reminder, end)
are derived from it at start-up and whenever the service reports a change;
they only *kick* a booking, and `Lifecycle.advance` decides what to do. A
reconcile pass every `scheduler.reconcile_seconds` kicks every booking that is
due (except one waiting out a retry backoff), checks that running bookings have
their container, and removes containers of this server that belong to no active
booking.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from core.config import Config
from core.domain import Booking, Status
from core.lifecycle import Lifecycle
from core.outbox import OutboxSender
from core.ports import SchedulerUnitOfWork
from core.runtime import ContainerError, ContainerRuntime

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ACTIVE = frozenset({Status.STARTING, Status.RUNNING, Status.ENDING})
OUTBOX_SECONDS = 2.0


class Scheduler:
    def __init__(
        self, *, config: Config, uow: Callable[[], SchedulerUnitOfWork],
        runtime: ContainerRuntime, lifecycle: Lifecycle, outbox: OutboxSender,
        clock: Callable[[], datetime],
    ) -> None:
        self._config = config
        self._uow = uow
        self._runtime = runtime
        self._lifecycle = lifecycle
        self._outbox = outbox
        self._clock = clock
        self._pool = ThreadPoolExecutor(config.scheduler.workers, thread_name_prefix="booking")
        self._aps = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "misfire_grace_time": None}
        )
        self._guard = threading.Lock()
        self._busy: set[int] = set()
        self._again: set[int] = set()
        # Bookings waiting out a retry backoff: the reconcile pass leaves them alone until
        # then (in memory: after a restart the first pass may try at once).
        self._not_before: dict[int, datetime] = {}
        self._stopping = False
        lifecycle.retry_later = self._retry_later

    # ----- running ------------------------------------------------------------

    def start(self) -> None:
        seconds = self._config.scheduler.reconcile_seconds
        self._aps.add_job(self.reconcile, "interval", seconds=seconds, id="reconcile",
                          next_run_time=datetime.now(UTC), max_instances=1)
        self._aps.add_job(self._flush, "interval", seconds=OUTBOX_SECONDS, id="outbox",
                          next_run_time=datetime.now(UTC), max_instances=1)
        self._aps.start()
        log.info("scheduler started (reconcile every %gs)", seconds)

    def stop(self) -> None:
        """Stop scheduling; containers keep running for the next start."""
        self._stopping = True
        if self._aps.running:  # not when serve stopped while waiting for the lock
            self._aps.shutdown(wait=False)
        self._pool.shutdown(wait=True, cancel_futures=True)
        log.info("scheduler stopped")

    # ----- hooks ---------------------------------------------------------------

    def changed(self, booking_id: int) -> None:
        """The service created, cancelled, extended or ended a booking, or recorded a restart
        request (`Lifecycle.advance` acts on it; the reconcile pass does too, for requests
        made in another process)."""
        with self._uow() as uow:
            booking = uow.bookings.get(booking_id)
        if booking is not None:
            self._schedule(booking)
        self.kick(booking_id)

    def kick(self, booking_id: int, *, verify: bool = False) -> None:
        """Run `advance` for the booking in a worker, at most one at a time per booking."""
        with self._guard:
            if self._stopping:
                return
            if booking_id in self._busy:
                self._again.add(booking_id)
                return
            self._busy.add(booking_id)
        try:
            self._pool.submit(self._advance, booking_id, verify)
        except RuntimeError:  # the pool is shutting down
            with self._guard:
                self._busy.discard(booking_id)

    def _advance(self, booking_id: int, verify: bool) -> None:
        while True:
            with self._guard:
                self._not_before.pop(booking_id, None)  # a new failure sets it again
            try:
                self._lifecycle.advance(booking_id, verify=verify)
            except Exception:  # one booking's bug must not stop the others
                log.exception("advancing booking %d failed", booking_id)
            with self._guard:
                if booking_id not in self._again or self._stopping:
                    self._busy.discard(booking_id)
                    break
                self._again.discard(booking_id)
            verify = False
        self._flush()

    def _retry_later(self, booking_id: int, delay: float) -> None:
        if self._stopping:
            return
        with self._guard:
            self._not_before[booking_id] = self._clock() + timedelta(seconds=delay)
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        with contextlib.suppress(Exception):  # scheduler already shut down
            self._aps.add_job(self.kick, "date", run_date=run_at, args=[booking_id],
                              id=f"retry-{booking_id}", replace_existing=True)

    def _flush(self) -> None:
        try:
            self._outbox.flush()
        except Exception:
            log.exception("sending the outbox failed; will retry")

    # ----- jobs from the database -----------------------------------------------

    def _schedule(self, booking: Booking) -> None:
        assert booking.id is not None
        now = datetime.now(UTC)
        reminder = timedelta(minutes=self._config.scheduler.reminder_minutes)
        wanted = {}
        if booking.holds_resources:
            if booking.status == Status.BOOKED:
                wanted["start"] = booking.start
            if reminder:
                wanted["remind"] = booking.end - reminder
            wanted["end"] = booking.end
        for kind in ("start", "remind", "end"):
            job_id = f"{kind}-{booking.id}"
            moment = wanted.get(kind)
            if moment is None or moment <= now:
                with contextlib.suppress(JobLookupError):
                    self._aps.remove_job(job_id)
                continue
            self._aps.add_job(self.kick, "date", run_date=moment, args=[booking.id],
                              id=job_id, replace_existing=True)

    def reconcile(self) -> None:
        """Compare the database with the engine and put right what differs."""
        try:
            self._reconcile()
        except Exception:
            log.exception("reconcile pass failed; next pass in %gs",
                          self._config.scheduler.reconcile_seconds)

    def _reconcile(self) -> None:
        # Containers first, bookings second: a container made after the listing
        # is never taken for an orphan.
        try:
            containers = [c for c in self._runtime.list_managed()
                          if c.server == self._config.server.name]
        except ContainerError as exc:
            log.warning("Docker engine not answering (%s); checking bookings only", exc)
            containers = None
        now = self._clock()
        horizon = now + timedelta(days=self._config.booking.max_days * 2 + 1)
        with self._uow() as uow:
            bookings = uow.bookings.holding_between(EPOCH, horizon)
        for booking in bookings:
            assert booking.id is not None
            self._schedule(booking)
            with self._guard:
                waiting = now < self._not_before.get(booking.id, now)
            if booking.start <= now and not waiting:
                self.kick(booking.id, verify=booking.status == Status.RUNNING)
        active = {b.id for b in bookings if b.status in ACTIVE}
        for container in containers or []:
            if container.booking_id not in active:
                log.warning("removing container %s: it belongs to no active booking",
                            container.name)
                self._pool.submit(self._remove, container.name)

    def _remove(self, name: str) -> None:
        try:
            self._runtime.stop_and_remove(name, grace_seconds=0)
        except ContainerError as exc:
            log.warning("could not remove %s: %s", name, exc)
