"""The life of one booking's container: start, remind, end, fail.

`Lifecycle.advance(booking_id)` looks at the booking and the clock and takes
the next step; every step is idempotent, so the scheduler may call it at the
exact time, from the reconcile pass, after a crash, or twice. Status moves
booked -> starting -> running -> ending -> finished, or -> failed with the
reason in the event log. Each member message is written to the outbox in the
same transaction as the status change that causes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from core import lifecycle_messages as words
from core import restart_requests as restarts
from core.backup_plan import BackupItem, BackupPlanError, load_plan
from core.config import Config
from core.container_spec import build_spec, container_name, member_folders
from core.docker_runtime import wait_for_ssh
from core.domain import Account, Booking, Status
from core.notifier import Message
from core.outbox import enqueue
from core.passwords import PasswordDeriver
from core.ports import Event, SchedulerUnitOfWork
from core.quota import over_quota
from core.runtime import ContainerError, ContainerRuntime
from core.service import admin_names

log = logging.getLogger(__name__)

ACTOR = "scheduler"
MAX_RETRY_SECONDS = 60.0
RESTART_RETRY_SECONDS = 5.0


class Lifecycle:
    def __init__(
        self, *, config: Config, uow: Callable[[], SchedulerUnitOfWork],
        runtime: ContainerRuntime, passwords: PasswordDeriver,
        clock: Callable[[], datetime],
        ssh_ready: Callable[[str, int, float], bool] = wait_for_ssh,
        stop: threading.Event | None = None,
    ) -> None:
        self._config = config
        self._settings = config.scheduler
        self._uow = uow
        self._runtime = runtime
        self._passwords = passwords
        self._clock = clock
        self._ssh_ready = ssh_ready
        self._stop = stop or threading.Event()
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        # Asked to call advance(booking_id) again after a delay (set by the scheduler).
        self.retry_later: Callable[[int, float], None] = lambda booking_id, delay: None

    # ----- the one entry point ---------------------------------------------

    def advance(self, booking_id: int, *, verify: bool = False) -> None:
        with self._lock_for(booking_id):
            booking = self._load(booking_id)
            if booking is None:
                return
            now = self._clock()
            if booking.status == Status.BOOKED and now >= booking.end:
                self._fail(booking, "the service was not running during its whole window")
            elif booking.status in (Status.BOOKED, Status.STARTING) and now >= booking.start:
                if now >= booking.end:
                    self._end(booking)
                else:
                    self._start(booking)
            elif booking.status in (Status.RUNNING, Status.ENDING) and (
                now >= booking.end or booking.status == Status.ENDING
            ):
                self._end(booking)
            elif booking.status == Status.RUNNING:
                if verify:
                    self._ensure_running(booking)
                self._restart_if_asked(booking, now)
                self._remind(booking, now)

    # ----- restart ---------------------------------------------------------

    def _restart_if_asked(self, booking: Booking, now: datetime) -> None:
        """The member's restart action (recorded by the service): restart the container once."""
        assert booking.id is not None
        request = restarts.pending_request(self._events(booking.id))
        if request is None:
            return
        name = container_name(booking)
        try:
            self._runtime.restart(name)
        except ContainerError as exc:
            deadline = restarts.requested_at(request) + timedelta(
                minutes=self._settings.start_deadline_minutes)
            if exc.retryable and now < deadline:
                log.warning("booking %d: restart failed (%s); will retry", booking.id, exc)
                self.retry_later(booking.id, RESTART_RETRY_SECONDS)
                return
            log.error("booking %d: container %s not restarted: %s", booking.id, name, exc)
            self._record(booking.id, restarts.FAILED, message=words.restart_failed(booking, str(exc)),
                         error=str(exc))
            return
        notes = []
        if not self._wait_for_ssh(booking.port) and not self._stop.is_set():
            notes.append("SSH did not answer yet; if the login fails, try again in a minute.")
        message = words.restarted(self._config, booking, self._account(booking.account), notes)
        self._record(booking.id, restarts.RESTARTED, message=message, at=self._clock().isoformat())
        log.info("booking %d: container %s restarted", booking.id, name)

    # ----- start -----------------------------------------------------------

    def _start(self, booking: Booking) -> None:
        assert booking.id is not None
        started = self._transition(booking.id, {Status.BOOKED, Status.STARTING},
                                   Status.STARTING, "starting")
        if started is None:
            return
        booking = started
        assert booking.id is not None
        account = self._account(booking.account)
        work, backup = member_folders(self._config, booking.account)
        notes: list[str] = []
        try:
            work.mkdir(parents=True, exist_ok=True)
            backup.mkdir(parents=True, exist_ok=True)
            plan = load_plan(backup)
        except BackupPlanError as exc:
            plan = []
            notes.append(f"Your backup.yaml was not understood ({exc}); nothing was restored "
                         "and nothing will be backed up until it is fixed.")
        except OSError as exc:
            self._fail(booking, f"its folders could not be prepared ({exc.strerror})")
            return
        problems = over_quota(self._quota_folders(booking.account, work, backup))
        if problems:
            self._fail(booking, "over quota: " + "; ".join(problems))
            return
        restore = [item for item in plan if (backup / item.backup_path).exists()]
        spec = build_spec(
            self._config, booking, account, restore=restore,
            password=self._passwords.password_for(booking),
        )
        try:
            self._runtime.start(spec)
        except ContainerError as exc:
            self._start_failed(booking, exc)
            return
        if not self._wait_for_ssh(booking.port):
            if self._stop.is_set():
                return  # shutting down: the next start picks this booking up again
            notes.append("SSH did not answer yet; if the login fails, try again in a minute.")
        self._finish_start(booking, restore, notes)

    def _finish_start(self, booking: Booking, restore: list[BackupItem], notes: list[str]) -> None:
        assert booking.id is not None
        with self._uow() as uow:
            uow.bookings.lock_server()
            current = uow.bookings.get(booking.id)
            if current is None or current.status != Status.STARTING:
                return
            current = replace(current, status=Status.RUNNING)
            uow.bookings.save(current)
            uow.bookings.record(booking.id, "running", ACTOR,
                                restored=[item.backup_path for item in restore])
            member = uow.accounts.get(current.account)
            if member is not None:
                message = words.ready(self._config, current, member, notes)
                enqueue(uow.outbox, member.name, message, self._clock())
            uow.commit()
        log.info("booking %d running in %s", booking.id, container_name(booking))

    def _start_failed(self, booking: Booking, exc: ContainerError) -> None:
        assert booking.id is not None
        began = self._first_event_at(booking.id, "starting") or self._clock()
        deadline = began + timedelta(minutes=self._settings.start_deadline_minutes)
        now = self._clock()
        if exc.retryable and now < deadline and now < booking.end:
            attempts = sum(e.kind == "start_retry" for e in self._events(booking.id))
            delay = min(2.0 * 2**attempts, MAX_RETRY_SECONDS)
            self._record(booking.id, "start_retry", error=str(exc), delay_s=delay)
            log.warning("booking %d: start failed (%s); retrying in %.0fs", booking.id, exc, delay)
            self.retry_later(booking.id, delay)
            return
        self._fail(booking, str(exc))

    def _wait_for_ssh(self, port: int) -> bool:
        deadline = self._clock() + timedelta(seconds=self._settings.ssh_wait_seconds)
        while not self._stop.is_set():
            if self._ssh_ready(self._settings.ssh_check_host, port, 2.0):
                return True
            if self._clock() >= deadline:
                return False
        return False

    def _ensure_running(self, booking: Booking) -> None:
        """A running booking whose container vanished or stopped gets it back."""
        assert booking.id is not None
        try:
            if self._runtime.is_running(container_name(booking)):
                return
            _, backup = member_folders(self._config, booking.account)
            restored = set(self._restored(booking.id))
            plan = self._plan(backup)
            spec = build_spec(
                self._config, booking, self._account(booking.account),
                restore=[item for item in plan if item.backup_path in restored],
                password=self._passwords.password_for(booking),
            )
            self._runtime.start(spec)
        except ContainerError as exc:
            log.warning("booking %d: container not running and not restarted: %s", booking.id, exc)
            return
        self._record(booking.id, "container_restored",
                     message=words.restored(booking, self._clock()))

    # ----- reminder and end -------------------------------------------------

    def _remind(self, booking: Booking, now: datetime) -> None:
        assert booking.id is not None
        minutes = self._settings.reminder_minutes
        if minutes <= 0 or now < booking.end - timedelta(minutes=minutes):
            return
        end = booking.end.isoformat()
        if any(e.kind == "reminded" and e.detail.get("end") == end
               for e in self._events(booking.id)):
            return
        left = max(1, round((booking.end - now).total_seconds() / 60))
        message = words.reminder(self._config, booking, self._account(booking.account), left)
        self._record(booking.id, "reminded", message=message, end=end)

    def _end(self, booking: Booking) -> None:
        assert booking.id is not None
        ending = self._transition(
            booking.id, {Status.STARTING, Status.RUNNING, Status.ENDING}, Status.ENDING, "ending"
        )
        if ending is None:
            return
        name = container_name(ending)
        _, backup = member_folders(self._config, ending.account)
        try:
            saved, missing = self._back_up(ending, name, backup)
            self._runtime.stop_and_remove(name, grace_seconds=self._settings.stop_grace_seconds)
        except ContainerError as exc:  # retryable: the engine is away; try again later
            log.warning("booking %d: end interrupted (%s); will retry", booking.id, exc)
            self._record(booking.id, "end_retry", error=str(exc))
            self.retry_later(booking.id, MAX_RETRY_SECONDS)
            return
        with self._uow() as uow:
            uow.bookings.lock_server()
            current = uow.bookings.get(booking.id)
            if current is None or current.status != Status.ENDING:
                return
            uow.bookings.save(replace(current, status=Status.FINISHED))
            uow.bookings.record(booking.id, "finished", ACTOR, saved=saved, missing=missing)
            message = words.ended(current, saved, missing, str(backup))
            enqueue(uow.outbox, current.account, message, self._clock())
            uow.commit()
        log.info("booking %d finished", booking.id)

    def _back_up(self, booking: Booking, name: str, backup: Path) -> tuple[list[str], list[str]]:
        """Copy each planned path out of the container; paths mounted from the backup
        were written in place and need no copy."""
        assert booking.id is not None
        restored = set(self._restored(booking.id))
        saved: list[str] = []
        missing: list[str] = []
        for item in self._plan(backup):
            if item.backup_path in restored:
                saved.append(item.backup_path)
                continue
            try:
                self._runtime.copy_out(name, item.container_path, str(backup / item.backup_path))
            except ContainerError as exc:
                if exc.retryable:
                    raise
                if "no container named" in str(exc):
                    log.warning("booking %d: container %s is gone; nothing to back up",
                                booking.id, name)
                    return saved, missing
                missing.append(item.container_path)
                continue
            saved.append(item.backup_path)
        return saved, missing

    # ----- failure ------------------------------------------------------------

    def _fail(self, booking: Booking, reason: str) -> None:
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
            enqueue(uow.outbox, current.account, words.failed(current, reason), self._clock())
            for admin in admin_names(uow.accounts.all(), self._config):
                enqueue(uow.outbox, admin, words.admin_failed(current, reason), self._clock())
            uow.commit()
        log.error("booking %d failed: %s", booking.id, reason)

    # ----- small helpers -------------------------------------------------------

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

    def _plan(self, backup: Path) -> list[BackupItem]:
        try:
            return load_plan(backup)
        except (BackupPlanError, OSError) as exc:
            log.warning("backup plan in %s unusable: %s", backup, exc)
            return []

    def _quota_folders(
        self, account: str, work: Path, backup: Path
    ) -> dict[str, tuple[Path, float | None]]:
        own = self._config.limits.users.get(account)
        default = self._config.limits.default

        def limit(key: str) -> float | None:
            value = getattr(own, key, None) if own is not None else None
            value = getattr(default, key) if value is None else value
            return None if value in (None, "max") else float(value)

        return {"work": (work, limit("work_space")), "backup": (backup, limit("backup_space"))}

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
