"""The embedded scheduler (APScheduler 3) of `booking serve`.

The database is the source of truth. Exact-time jobs (start, reminder, end)
are derived from it at start-up, whenever the service in this process reports
a change, and whenever a `ChangeFeed` says that some process (the CLI, a chat
adapter elsewhere in a pool) changed bookings: then the jobs are derived again
and every due booking is kicked, so a booking made anywhere starts at its slot.
Jobs only *kick* a booking, and `Lifecycle.advance` decides what to do. A
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
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from core.domain.config import Config
from core.domain.container import ContainerError
from core.domain.model import Booking, Status
from core.services.container_runtime import ContainerRuntime
from core.services.lifecycle import Lifecycle
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ACTIVE = frozenset({Status.STARTING, Status.RUNNING, Status.ENDING})
OUTBOX_SECONDS = 2.0
IDLE_SECONDS = 60.0  # how often running bookings' GPU utilisation is sampled
WATCH_SECONDS = 1.0  # the longest a change feed is waited on before stopping is checked


class ChangeFeed(Protocol):
    """Says when any process changed this server's bookings (storage/change_signal.py)."""

    def wait(self, timeout: float) -> bool:
        """Block for at most `timeout` seconds; True when bookings may have changed since
        the last call (a false alarm is allowed, a missed change is not)."""

    def close(self) -> None:
        """Stop waiting, from any thread, and let go of what the feed holds."""


class Scheduler:
    def __init__(
        self, *, config: Config, uow: Callable[[], SchedulerUnitOfWork],
        runtime: ContainerRuntime, lifecycle: Lifecycle, outbox: OutboxSender | None,
        clock: Callable[[], datetime], changes: ChangeFeed | None = None,
        idle: Callable[[], None] | None = None,
    ) -> None:
        """`idle`: samples the running bookings' GPUs (IdleWatch.sample), every minute.
        `outbox`: None where another process delivers the messages (a pool's host
        without chat adapters)."""
        self._idle = idle
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
        self._stopped = threading.Event()
        self._changes = changes
        self._watcher: threading.Thread | None = None
        lifecycle.retry_later = self._retry_later

    # ----- running ------------------------------------------------------------

    def start(self) -> None:
        seconds = self._config.scheduler.reconcile_seconds
        self._aps.add_job(self.reconcile, "interval", seconds=seconds, id="reconcile",
                          next_run_time=datetime.now(UTC), max_instances=1)
        if self._outbox is not None:
            self._aps.add_job(self._flush, "interval", seconds=OUTBOX_SECONDS, id="outbox",
                              next_run_time=datetime.now(UTC), max_instances=1)
        if self._idle is not None:
            self._aps.add_job(self._sample_idle, "interval", seconds=IDLE_SECONDS, id="idle",
                              max_instances=1)
        self._aps.start()
        if self._changes is not None:
            self._watcher = threading.Thread(target=self._watch, name="booking-changes",
                                             daemon=True)
            self._watcher.start()
        log.info("scheduler started (reconcile every %gs)", seconds)

    def stop(self) -> None:
        """Stop scheduling; containers keep running for the next start."""
        self._stopping = True
        self._stopped.set()
        if self._changes is not None:
            self._changes.close()
        if self._watcher is not None:
            self._watcher.join(WATCH_SECONDS * 5)
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

    def _watch(self) -> None:
        """The change feed's thread: on every change, derive the jobs again."""
        assert self._changes is not None
        while not self._stopping:
            try:
                changed = self._changes.wait(WATCH_SECONDS)
            except Exception:  # the feed's bug must not stop the wake-ups for good
                log.exception("waiting for booking changes failed; trying again")
                self._stopped.wait(WATCH_SECONDS)
                continue
            if changed and not self._stopping:
                self.resync()

    def resync(self) -> None:
        """Some process changed bookings: derive the jobs from the database again and kick
        every booking that is due (the reconcile pass without the Docker engine)."""
        try:
            now = self._clock()
            with self._uow() as uow:
                bookings = uow.bookings.holding_between(EPOCH, self._horizon(now))
            self._follow(bookings, now, verify_running=False)
        except Exception:
            log.exception("following a change of bookings failed; the reconcile pass will")

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

    def _sample_idle(self) -> None:
        assert self._idle is not None
        try:
            self._idle()
        except Exception:
            log.exception("sampling GPU utilisation failed; next sample in %gs", IDLE_SECONDS)
        self._flush()

    def _flush(self) -> None:
        if self._outbox is None:
            return
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
        with self._uow() as uow:
            bookings = uow.bookings.holding_between(EPOCH, self._horizon(now))
        self._follow(bookings, now, verify_running=True)
        active = {b.id for b in bookings if b.status in ACTIVE}
        for container in containers or []:
            if container.booking_id not in active:
                log.warning("removing container %s: it belongs to no active booking",
                            container.name)
                self._pool.submit(self._remove, container.name)

    def _horizon(self, now: datetime) -> datetime:
        return now + timedelta(days=self._config.booking.max_days * 2 + 1)

    def _follow(self, bookings: list[Booking], now: datetime, *, verify_running: bool) -> None:
        """Jobs for each booking, and a kick for each one that is due (except one waiting
        out a retry backoff)."""
        for booking in bookings:
            assert booking.id is not None
            self._schedule(booking)
            with self._guard:
                waiting = now < self._not_before.get(booking.id, now)
            if booking.start <= now and not waiting:
                self.kick(booking.id, verify=verify_running and booking.status == Status.RUNNING)

    def _remove(self, name: str) -> None:
        try:
            self._runtime.stop_and_remove(name, grace_seconds=0)
        except ContainerError as exc:
            log.warning("could not remove %s: %s", name, exc)
