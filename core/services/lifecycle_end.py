"""The end of a booking: the reminder before it, and the backup of the member's paths
through a staging folder before the container is removed."""

from __future__ import annotations

import logging
import tarfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.backup_plan import BackupItem
from core.domain.container import ContainerError
from core.domain.container_spec import container_name
from core.domain.files import BadArchive, Budget, OverBudget, UnsafePath
from core.domain.model import Booking, Status
from core.domain.quota import GB, quota_gb
from core.services.lifecycle_base import (
    ACTOR,
    MAX_RETRY_SECONDS,
    BackupOutcome,
    error_text,
    event_time,
)
from core.services.lifecycle_start import StartSteps
from core.services.outbox import enqueue

log = logging.getLogger(__name__)


class EndSteps(StartSteps):
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
            since = event_time(failing[0])
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
            outcome.notes.append(self._words.backup_folder_unusable(error_text(exc)))
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
                outcome.not_saved.append(f"{item.container_path} ({error_text(exc)})")
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
