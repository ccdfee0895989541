"""Starting a booking's container: restore, SSH readiness, recovery of a container
that stopped, and a restart a member or an admin asked for."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from core.domain import restart_requests as restarts
from core.domain.backup_plan import BackupItem
from core.domain.container import ContainerError
from core.domain.container_spec import build_spec, container_name, member_paths
from core.domain.files import UnsafePath
from core.domain.model import Booking, Status
from core.domain.quota import quota_folders
from core.services.lifecycle_base import (
    ACTOR,
    HANDOVER_POLL_SECONDS,
    MAX_RECOVERIES,
    MAX_RETRY_SECONDS,
    RECOVERY_WINDOW,
    RESTART_RETRY_SECONDS,
    LifecycleBase,
    error_text,
    event_time,
)
from core.services.outbox import enqueue

log = logging.getLogger(__name__)


class StartSteps(LifecycleBase):
    def _restart_if_asked(self, booking: Booking, now: datetime) -> None:
        """The member's restart action (recorded by the service): restart the container once."""
        assert booking.id is not None
        events = self._events(booking.id)
        request = restarts.pending_request(events)
        if request is None:
            return
        asked = restarts.requests_made(events)  # the messages' Restart asks for the next one
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
            told = self._words.restart_failed(booking, self._words.start_problem(str(exc), booking.image),
                                        asked)
            self._record(booking.id, restarts.FAILED, message=told, error=str(exc))
            return
        notes = []
        if not self._wait_for_ssh(booking.port) and not self._stop.is_set():
            notes.append("SSH did not answer yet; if the login fails, try again in a minute.")
        message = self._words.restarted(self._config, booking, self._account(booking.account), notes,
                                  asked)
        self._record(booking.id, restarts.RESTARTED, message=message, at=self._clock().isoformat())
        log.info("booking %d: container %s restarted", booking.id, name)

    def _start(self, booking: Booking) -> None:
        assert booking.id is not None
        started = self._transition(booking.id, {Status.BOOKED, Status.STARTING},
                                   Status.STARTING, "starting")
        if started is None:
            return
        booking = started
        assert booking.id is not None
        account = self._account(booking.account)
        if self._waits_for_handover(booking):
            return
        notes: list[str] = []
        try:
            work, backup = self._files.member_folders(self._config, booking.account)
        except (UnsafePath, OSError) as exc:
            self._fail(booking, f"its folders could not be prepared ({error_text(exc)})")
            return
        plan, problem = self._plan(backup)
        if problem:
            notes.append(f"Your backup.yaml was not understood ({problem}); nothing was "
                         "restored and nothing will be backed up until it is fixed.")
        problems = self._files.over_quota(quota_folders(self._config, account, work, backup))
        if problems:
            self._fail(booking, self._words.quota_reason(booking, problems),
                       told=self._words.over_quota(self._config, booking, problems, self._admins()))
            return
        restore = [item for item in plan if self._files.entry_kind(backup, item.backup_path) is not None]
        spec = build_spec(
            self._config, booking, account, restore=restore,
            password=self._passwords.password_for(booking),
        )
        try:
            refused = self._runtime.start(spec)
        except ContainerError as exc:
            self._start_failed(booking, exc)
            return
        kept = [item.backup_path for item in restore if item.container_path in refused]
        if refused:
            restore = [item for item in restore if item.container_path not in refused]
            notes.append("Not restored from your backup folder (the container refused it): "
                         f"{', '.join(refused)}.")
        if not self._wait_for_ssh(booking.port):
            if self._stop.is_set():
                return  # shutting down: the next start picks this booking up again
            notes.append("SSH did not answer yet; if the login fails, try again in a minute.")
        self._finish_start(booking, restore, notes, kept)

    def _finish_start(self, booking: Booking, restore: list[BackupItem], notes: list[str],
                      not_restored: list[str]) -> None:
        assert booking.id is not None
        with self._uow() as uow:
            uow.bookings.lock_server()
            current = uow.bookings.get(booking.id)
            if current is None or current.status != Status.STARTING:
                return
            current = replace(current, status=Status.RUNNING)
            uow.bookings.save(current)
            uow.bookings.record(booking.id, "running", ACTOR,
                                restored=[item.backup_path for item in restore],
                                not_restored=not_restored)
            member = uow.accounts.get(current.account)
            if member is not None:
                message = self._words.ready(self._config, current, member, notes)
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
        self._fail(booking, str(exc),
                   told=self._words.failed(booking, self._words.start_problem(str(exc), booking.image)))

    def _wait_for_ssh(self, port: int) -> bool:
        deadline = self._clock() + timedelta(seconds=self._settings.ssh_wait_seconds)
        while not self._stop.is_set():
            if self._ssh_ready(self._settings.ssh_check_host, port, 2.0):
                return True
            if self._clock() >= deadline:
                return False
        return False

    def _ensure_running(self, booking: Booking) -> None:
        """A running booking whose container vanished or stopped gets it back (a stopped
        one is started again, keeping its files), unless it keeps stopping."""
        assert booking.id is not None
        try:
            if self._runtime.is_running(container_name(booking)):
                return
            if not self._may_recover(booking):
                return
            _, backup = member_paths(self._config, booking.account)
            restored = set(self._restored(booking.id))
            plan, _problem = self._plan(backup)
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
                     message=self._words.restored(self._config, booking,
                                            self._account(booking.account), self._clock()),
                     at=self._clock().isoformat())

    def _may_recover(self, booking: Booking) -> bool:
        """False once the container was started again MAX_RECOVERIES times within
        RECOVERY_WINDOW; the member and the admins are told once. A restart the member
        asks for afterwards allows automatic recoveries again."""
        assert booking.id is not None
        events = self._events(booking.id)
        kinds = [e.kind for e in events]
        since = max((i for i, kind in enumerate(kinds) if kind == restarts.RESTARTED), default=-1)
        if "recovery_given_up" in kinds[since + 1:]:
            return False
        now = self._clock()
        recent = [e for e in events[since + 1:] if e.kind == "container_restored"
                  and event_time(e) >= now - RECOVERY_WINDOW]
        if len(recent) < MAX_RECOVERIES:
            return True
        minutes = round(RECOVERY_WINDOW.total_seconds() / 60)
        log.error("booking %d: container stopped %d times within %d minutes; not starting it "
                  "again", booking.id, len(recent) + 1, minutes)
        with self._uow() as uow:
            uow.bookings.record(booking.id, "recovery_given_up", ACTOR, at=now.isoformat(),
                                recoveries=len(recent))
            enqueue(uow.outbox, booking.account,
                    self._words.recovery_given_up(booking, len(recent), minutes), now)
            self._tell_admins(uow, booking,
                              self._words.admin_recovery_given_up(booking, len(recent), minutes))
            uow.commit()
        return False

    def _waits_for_handover(self, booking: Booking) -> bool:
        """True while a booking whose window is over still has its container and holds
        a GPU, the port or the backup folder this start needs: the start waits (until
        the start deadline) and is woken when that end finishes."""
        assert booking.id is not None
        with self._uow() as uow:
            earlier = uow.bookings.holding_between(
                booking.start - timedelta(days=2 * self._config.booking.max_days),
                booking.start + timedelta(microseconds=1))
        blocking = [
            other for other in earlier
            if other.id != booking.id and other.status in (Status.RUNNING, Status.ENDING)
            and other.end <= booking.start
            and (set(other.gpu_ids) & set(booking.gpu_ids) or other.port == booking.port
                 or other.account == booking.account)
        ]
        if not blocking:
            return False
        now = self._clock()
        began = self._first_event_at(booking.id, "starting") or now
        if now >= began + timedelta(minutes=self._settings.start_deadline_minutes):
            ids = ", ".join(f"#{b.id}" for b in blocking)
            self._fail(booking, f"booking {ids} before it did not end in time")
            return True
        with self._guard:
            for other in blocking:
                assert other.id is not None
                self._waiters.setdefault(other.id, set()).add(booking.id)
        log.info("booking %d waits for the end of %s", booking.id,
                 ", ".join(f"#{b.id}" for b in blocking))
        self.retry_later(booking.id, HANDOVER_POLL_SECONDS)
        return True
