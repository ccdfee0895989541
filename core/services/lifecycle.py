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
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from core.domain import restart_requests as restarts
from core.domain.backup_plan import BackupItem, BackupPlanError
from core.domain.config import Config
from core.domain.container import ContainerError
from core.domain.container_spec import build_spec, container_name, member_paths
from core.domain.files import BadArchive, Budget, OverBudget, UnsafePath
from core.domain.model import Account, Booking, Event, Status
from core.domain.passwords import PasswordDeriver
from core.domain.quota import GB, quota_folders, quota_gb
from core.services.accounts import admin_names
from core.services.container_runtime import ContainerRuntime
from core.services.lifecycle_ports import LifecycleWords, MemberFiles
from core.services.notifier import Message
from core.services.outbox import enqueue
from core.services.ports import SchedulerUnitOfWork

log = logging.getLogger(__name__)

ACTOR = "scheduler"
MAX_RETRY_SECONDS = 60.0
RESTART_RETRY_SECONDS = 5.0
HANDOVER_POLL_SECONDS = 1.0  # a start waiting for the previous container to go looks again
# A running booking's container that stops this often within the window is left
# stopped (it keeps dying: out of memory, a crashing command) and people are told.
MAX_RECOVERIES = 3
RECOVERY_WINDOW = timedelta(minutes=30)


class Lifecycle:
    def __init__(
        self, *, config: Config, uow: Callable[[], SchedulerUnitOfWork],
        runtime: ContainerRuntime, passwords: PasswordDeriver,
        clock: Callable[[], datetime],
        words: LifecycleWords, files: MemberFiles,
        ssh_ready: Callable[[str, int, float], bool],
        stop: threading.Event | None = None,
    ) -> None:
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
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        # Asked to call advance(booking_id) again after a delay (set by the scheduler).
        self.retry_later: Callable[[int, float], None] = lambda booking_id, delay: None
        self._end_failures: dict[int, int] = {}  # failed end attempts, for the backoff
        self._waiters: dict[int, set[int]] = {}  # ending booking -> starts waiting for it

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
        if self._waits_for_handover(booking):
            return
        notes: list[str] = []
        try:
            work, backup = self._files.member_folders(self._config, booking.account)
        except (UnsafePath, OSError) as exc:
            self._fail(booking, f"its folders could not be prepared ({_why(exc)})")
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
                  and _event_time(e) >= now - RECOVERY_WINDOW]
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
        message = self._words.reminder(self._config, booking, self._account(booking.account), left)
        self._record(booking.id, "reminded", message=message, end=end)

    def _end(self, booking: Booking) -> None:
        """Stop the container, copy the backup out of the stopped container, remove it.

        Only an engine that does not answer (a retryable error) leaves the container
        for a later try; whatever the member's backup does, it is removed otherwise.
        The booking holds its resources until then (the next start waits for it)."""
        assert booking.id is not None
        ending = self._transition(
            booking.id, {Status.STARTING, Status.RUNNING, Status.ENDING}, Status.ENDING, "ending"
        )
        if ending is None:
            return
        name = container_name(ending)
        try:
            self._runtime.stop(name, grace_seconds=self._settings.stop_grace_seconds)
            try:
                outcome = self._back_up(ending, name)
            except ContainerError as exc:
                if exc.retryable:
                    raise
                outcome = BackupOutcome(notes=[self._words.backup_failed()])
            except Exception:  # a defect here must not keep GPUs from the next member
                log.exception("booking %d: backup failed", booking.id)
                outcome = BackupOutcome(notes=[self._words.backup_failed()])
            self._runtime.remove(name)
        except ContainerError as exc:  # retryable: the engine is away; try again later
            self._end_failed(ending, exc)
            return
        self._end_failures.pop(booking.id, None)
        with self._uow() as uow:
            uow.bookings.lock_server()
            current = uow.bookings.get(booking.id)
            if current is None or current.status != Status.ENDING:
                return
            uow.bookings.save(replace(current, status=Status.FINISHED))
            uow.bookings.record(booking.id, "finished", ACTOR, saved=outcome.saved,
                                missing=outcome.missing, not_saved=outcome.not_saved)
            message = self._words.ended(self._config, current, outcome.saved, outcome.missing_before,
                                  outcome.not_saved, outcome.notes)
            enqueue(uow.outbox, current.account, message, self._clock())
            uow.commit()
        log.info("booking %d finished", booking.id)
        self._wake_waiters(booking.id)

    def _end_failed(self, booking: Booking, exc: ContainerError) -> None:
        """Retry with backoff; one `end_retry` event when it starts failing, and the
        admins told once when it keeps failing past the start deadline."""
        assert booking.id is not None
        now = self._clock()
        attempts = self._end_failures.get(booking.id, 0)
        self._end_failures[booking.id] = attempts + 1
        delay = min(2.0 * 2**attempts, MAX_RETRY_SECONDS)
        events = self._events(booking.id)
        last_ending = max((i for i, e in enumerate(events) if e.kind == "ending"), default=-1)
        failing = [e for e in events[last_ending + 1:] if e.kind == "end_retry"]
        log.warning("booking %d: end interrupted (%s); retrying in %.0fs", booking.id, exc, delay)
        if not failing:
            self._record(booking.id, "end_retry", error=str(exc), at=now.isoformat())
        elif not any(e.kind == "end_stuck" for e in events[last_ending + 1:]):
            since = _event_time(failing[0])
            if now >= since + timedelta(minutes=self._settings.start_deadline_minutes):
                with self._uow() as uow:
                    uow.bookings.record(booking.id, "end_stuck", ACTOR, error=str(exc),
                                        at=now.isoformat())
                    self._tell_admins(uow, booking, self._words.admin_end_stuck(booking, str(exc), since))
                    uow.commit()
                log.error("booking %d: its end keeps failing since %s: %s",
                          booking.id, since.isoformat(), exc)
        self.retry_later(booking.id, delay)

    def _back_up(self, booking: Booking, name: str) -> BackupOutcome:
        """Copy each planned path out of the stopped container into the backup folder
        (restored paths too: they were copies, not mounts), through a staging folder
        no container sees, within what is left of the member's backup quota."""
        assert booking.id is not None
        outcome = BackupOutcome()
        try:
            _, backup = self._files.member_folders(self._config, booking.account)
        except (UnsafePath, OSError) as exc:
            outcome.notes.append(self._words.backup_folder_unusable(_why(exc)))
            return outcome
        plan, problem = self._plan(backup)
        if problem:
            outcome.notes.append(self._words.plan_not_understood(problem))
        running = [e for e in self._events(booking.id) if e.kind == "running"]
        # A path the container refused at the start holds the image's version, not the
        # member's: copying it out would overwrite their saved copy.
        keep = set(running[-1].detail.get("not_restored", [])) if running else set()
        plan = [item for item in plan if item.backup_path not in keep]
        budget = Budget(self._backup_bytes_left(booking, backup, plan))
        for item in plan:
            staging = self._files.staging_folder(self._config.volumes.backup)
            try:
                top = self._files.extract(self._runtime.archive(name, item.container_path), staging, budget)
                self._files.move_into_place(staging, top, backup, item.backup_path)
            except ContainerError as exc:
                if exc.retryable:
                    raise
                if "no container named" in str(exc):
                    log.warning("booking %d: container %s is gone; nothing to back up",
                                booking.id, name)
                    return outcome
                outcome.missing.append(item.container_path)
                continue
            except OverBudget:
                skipped = [i.container_path for i in plan[plan.index(item):]]
                outcome.not_saved.append(f"{', '.join(skipped)} (your backup quota is full)")
                break
            except (UnsafePath, BadArchive, tarfile.TarError, OSError) as exc:
                log.warning("booking %d: %s not backed up: %s", booking.id,
                            item.container_path, exc)
                outcome.not_saved.append(f"{item.container_path} ({_why(exc)})")
                continue
            finally:
                self._files.remove_staging(staging)
            outcome.saved.append(item.backup_path)
        outcome.missing_before = self._backed_up_before(outcome.missing, plan, backup)
        return outcome

    def _backed_up_before(self, missing: list[str], plan: list[BackupItem],
                          backup: Path) -> list[str]:
        """The missing container paths that have an earlier copy in the backup folder:
        a path that never existed (say /root/.ssh before the first key) is no news."""
        return [item.container_path for item in plan
                if item.container_path in missing
                and self._files.entry_kind(backup, item.backup_path) is not None]

    def _backup_bytes_left(self, booking: Booking, backup: Path,
                           plan: list[BackupItem]) -> int | None:
        """The member's backup quota less what the folder holds outside the paths
        about to be replaced; None without a quota."""
        limit = quota_gb(self._account(booking.account), "backup_space", self._config)
        if limit is None:
            return None
        replaced = sum(self._files.tree_bytes(backup, item.backup_path) for item in plan)
        return max(0, int(limit * GB) - (self._files.tree_bytes(backup) - replaced))

    # ----- handover --------------------------------------------------------

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

    def _wake_waiters(self, ended_id: int) -> None:
        with self._guard:
            waiting = self._waiters.pop(ended_id, set())
        for booking_id in sorted(waiting):
            self.retry_later(booking_id, 0.0)

    # ----- failure ------------------------------------------------------------

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

    # ----- small helpers -------------------------------------------------------

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
            return [], _why(exc)

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


@dataclass
class BackupOutcome:
    saved: list[str] = field(default_factory=list)  # backup paths
    missing: list[str] = field(default_factory=list)  # container paths not found
    missing_before: list[str] = field(default_factory=list)  # ... that had an earlier copy
    not_saved: list[str] = field(default_factory=list)  # container path (why)
    notes: list[str] = field(default_factory=list)


def _why(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)


def _event_time(event: Event) -> datetime:
    """When an event happened, by the lifecycle's own clock where it was recorded."""
    at = event.detail.get("at")
    return datetime.fromisoformat(str(at)) if at else event.at
