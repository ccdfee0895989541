"""`booking import-seed`: bringing an old installation's members and bookings over
(shared/seed/old-formats.md). The plan comes from core/domain/seed_rows.py.

Everything goes through the booking service, in one transaction: the service is given a
unit of work that shares it (SharedUnit), so a dry run is the same import rolled back and
reports exactly what a real one would do. Old passwords are never read into the plan.

What each old thing becomes:
- a member in `allow_userIDs`: an account, with their port, image and extra command when
  the account has none yet (a value already set here is kept and reported);
- `max_custom_capability`: the member's maxima (set only where none is set here);
- `booking.csv`: booked again through the service, by today's rules (limits, window,
  capacity, images): what it refuses is listed as a conflict, not imported;
- `using.csv` (running on the old host): booked through the service from now until its
  end, so its resources stay held and `booking serve` starts it here; the old container
  must be stopped first (the report says so). One whose end has passed is history;
- `used.csv`: finished bookings, as they were.
An import is recognised on the next run by the member, the end and the resources, so a
second run imports nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from core.domain.model import Booking, Refusal, Status
from core.domain.seed_rows import USED_CSV, USING_CSV, OldMember, OldRow, SeedPlan
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.ports import UnitOfWork

ACTOR = "import-seed"


@dataclass
class SeedReport:
    imported: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    already: dict[str, int] = field(default_factory=dict)  # accounts, bookings found here
    snippet: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False


class SharedUnit:
    """One open unit of work handed to the service as if new each time: entering and
    leaving do nothing, and the service's commits wait for the import's own."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self.outbox = getattr(uow, "outbox", None)

    bookings = property(lambda self: self._uow.bookings)
    accounts = property(lambda self: self._uow.accounts)
    conversations = property(lambda self: self._uow.conversations)

    def __enter__(self) -> SharedUnit:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        return None


class SeedImport:
    def __init__(
        self, *, uow: Callable[[], UnitOfWork],
        service_for: Callable[[Callable[[], UnitOfWork]], BookingService],
    ) -> None:
        self._uow = uow
        self._service_for = service_for

    def run(self, plan: SeedPlan, *, dry_run: bool) -> SeedReport:
        report = SeedReport(skipped=list(plan.problems), notes=list(plan.notes),
                            snippet=plan.snippet, dry_run=dry_run)
        with self._uow() as uow:
            shared = SharedUnit(uow)
            service = self._service_for(lambda: shared)
            run = _Run(service, uow, report)
            for member in plan.members:
                run.member(member)
            for name in plan.not_allowed:
                report.skipped.append(f"{name}: in users_config.yaml but not in allow_userIDs; "
                                      "no account")
            for name, limits in plan.limits.items():
                run.limits(name, limits, plan.limit_notes.get(name, []))
            for row in sorted(plan.rows, key=lambda r: (r.start, r.source, r.line)):
                run.row(row)
            run.summary()
            if not dry_run:
                uow.commit()
        return report


class _Run:
    def __init__(self, service: BookingService, uow: UnitOfWork, report: SeedReport) -> None:
        self.service, self.uow, self.report = service, uow, report
        self.now = service.now()
        self.server_zone = service.zone_of(None)
        self.history: dict[str, int] = {}

    def member(self, old: OldMember) -> None:
        account = self.uow.accounts.get(old.name)
        if account is None:
            try:
                account = self.service.add_account(old.name)
            except Refusal as refusal:
                self.report.skipped.append(f"{old.name}: no account: {refusal.message}")
                return
            never = "" if old.logged_in else " (allowed, never logged in: no port, image or command)"
            self.report.imported.append(f"account {old.name}{never}")
        else:
            self._already("account")
        for label, ours, value, key in (("port", "preferred_port", old.port, "port"),
                                        ("image", "image", old.image, "image"),
                                        ("extra command", "command", old.command, "command")):
            current = getattr(account, ours)
            if value is None or current == value:
                continue
            if current is not None:
                self.report.skipped.append(f"{old.name}: keeps {label} {current} (old system: "
                                           f"{value})")
                continue
            try:
                setting: dict[str, Any] = {key: value}
                self.service.update_member(old.name, **setting)
            except Refusal as refusal:
                self.report.skipped.append(f"{old.name}: {label} {value} not imported: "
                                           f"{refusal.message}")
                continue
            self.report.imported.append(f"{old.name}: {label} {value}")

    def limits(self, name: str, limits: dict[str, float | str], notes: list[str]) -> None:
        account = self.uow.accounts.get(name)
        if account is None:
            self.report.skipped.append(f"maxima of {name}: no account here (not in allow_userIDs)")
            return
        wanted: dict[str, str] = {}
        for key, value in limits.items():
            text = value if isinstance(value, str) else f"{value:g}"
            current = account.limits.get(key)
            if current is None:
                wanted[key] = text
            elif (current if isinstance(current, str) else f"{current:g}") != text:
                self.report.skipped.append(f"{name}: keeps maximum {key}={current} (old system: "
                                           f"{text})")
        if not wanted:
            return
        try:
            self.service.set_limits(name, wanted)
        except Refusal as refusal:
            self.report.skipped.append(f"{name}: maxima not imported: {refusal.message}")
            return
        shown = " ".join(f"{k}={v}" for k, v in wanted.items())
        self.report.imported.append(f"{name}: maxima {shown}")
        self.report.changed += [f"{name}: {note}; `max` here would mean no quota"
                                for note in notes if note.split()[0] in wanted]

    def _already(self, kind: str) -> None:
        self.report.already[kind] = self.report.already.get(kind, 0) + 1

    def _aware(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.server_zone)

    def _found(self, row: OldRow) -> Booking | None:
        """The booking a previous run made of this row: same member, end and resources."""
        end, start = self._aware(row.end), self._aware(row.start)
        for booking in self.uow.bookings.of_account(row.user, after=None):
            if booking.end == end and booking.start >= start and \
                    booking.resources == row.resources:
                return booking
        return None

    def row(self, row: OldRow) -> None:
        if self.uow.accounts.get(row.user) is None:
            self.report.skipped.append(f"{row.where}: {row.user} has no account here (not in "
                                       "allow_userIDs); row not imported")
            return
        if self._found(row) is not None:
            self._already("booking")
            return
        end, start = self._aware(row.end), self._aware(row.start)
        if row.source == USED_CSV or (row.source == USING_CSV and end <= self.now):
            self._finished(row, start, end)
        elif end <= self.now:
            self.report.skipped.append(f"{row.where}: {self._shown(row)}: its window has "
                                       "passed and it never started; not imported")
        else:
            self._book(row, start)

    def _shown(self, row: OldRow) -> str:
        return f"{row.user} {row.start:%Y-%m-%d %H:%M} to {row.end:%Y-%m-%d %H:%M} " \
               f"{row.resources.describe()}"

    def _finished(self, row: OldRow, start: datetime, end: datetime) -> None:
        booking = self.uow.bookings.add(Booking(
            account=row.user, start=start, end=end, resources=row.resources,
            gpu_ids=row.gpu_ids, port=row.port,
            image=row.image or self.service.config.images.default, command=row.command,
            status=Status.FINISHED))
        assert booking.id is not None
        self.uow.bookings.record(booking.id, "imported", ACTOR, source=row.where)
        self.history[row.source] = self.history.get(row.source, 0) + 1

    def _book(self, row: OldRow, start: datetime) -> None:
        account = self.service.account(row.user)
        zone: tzinfo = self.service.zone_of(account)
        moved = start <= self.now
        request = BookingRequest(
            user=row.user, resources=row.resources,
            start="now" if moved else f"{start.astimezone(zone):%Y %m %d %H %M}",
            end=f"{self._aware(row.end).astimezone(zone):%Y %m %d %H %M}",
            image=row.image, command=row.command)
        try:
            booking = self.service.book(request)
        except Refusal as refusal:
            self.report.conflicts.append(f"{row.where}: {self._shown(row)}: {refusal.message}")
            return
        assert booking.id is not None
        self.uow.bookings.record(booking.id, "imported", ACTOR, source=row.where)
        self.report.imported.append(f"booking {booking.id} ({row.where}): {self._shown(row)}")
        changes = []
        if moved:
            running = row.source == USING_CSV
            changes.append(f"starts now ({booking.start.astimezone(zone):%Y-%m-%d %H:%M}) "
                           + ("as it runs on the old host: stop its old container before "
                              "`booking serve` starts it here (work and backup folders carry over; "
                              "the member gets a new password)" if running else
                              "as its start has passed"))
        if booking.gpu_ids != row.gpu_ids:
            changes.append(f"GPUs {list(row.gpu_ids)} -> {list(booking.gpu_ids)}")
        if booking.port != row.port:
            changes.append(f"port {row.port} -> {booking.port}")
        if changes:
            self.report.changed.append(f"booking {booking.id} ({row.where}): {'; '.join(changes)}")

    def summary(self) -> None:
        if self.history:
            counts = ", ".join(f"{n} from {source}" for source, n in sorted(self.history.items()))
            self.report.imported.append(f"history: {sum(self.history.values())} finished "
                                        f"booking(s) ({counts})")
