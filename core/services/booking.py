"""The booking service: every use case the chat adapters and the CLI call.

Each method opens one unit of work. A booking is decided and recorded in one
transaction that first takes the server's lock, so no interleaving of
requests can overbook CPUs, memory, a GPU or a port.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from core.domain.account_names import (
    chat_address,
    check_account_name,
    registered_name_base,
)
from core.domain.allocation import (
    Fit,
    Usage,
    choose_gpus,
    choose_port,
    earliest_fit,
    from_micros,
    load_in,
    micros,
    shortages,
    slot_ceil_micros,
    usage_in,
)
from core.domain.config import Config
from core.domain.extra_command import check_extra_command
from core.domain.gpus import GpuInventory
from core.domain.member_settings import check_ssh_key, check_ssh_keys, check_timezone
from core.domain.model import (
    Account,
    Booking,
    ErrorCode,
    LinkConflict,
    Refusal,
    Resources,
    Status,
    Window,
)
from core.domain.quota import QUOTA_KEYS
from core.domain.restart_requests import REQUESTED as RESTART_REQUESTED
from core.domain.restart_requests import pending_request
from core.domain.timeparse import (
    TimeInputError,
    parse_duration,
    parse_end,
    parse_start,
    slot_ceil,
    slot_floor,
)
from core.domain.zones import local_time, member_zone
from core.services.notices import changed_by_someone_else
from core.services.notifier import Message, MessageKind
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, StorageConflict, UnitOfWork

# The maxima limits_of returns; set_limits also takes the disk quotas (core.domain.quota.QUOTA_KEYS).
LIMIT_KEYS = ("cpus", "memory", "gpus")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BookingRequest:
    user: str
    resources: Resources
    start: str
    end: str
    image: str | None = None
    port: int | None = None
    command: str | None = None


@dataclass(frozen=True)
class SlotFree:
    start: datetime
    end: datetime
    cpus: float
    memory: int
    gpu_ids: tuple[int, ...]


def admin_names(accounts: Iterable[Account], config: Config) -> list[str]:
    """Admins: accounts marked admin and the names listed in the config."""
    return sorted({a.name for a in accounts if a.is_admin} | set(config.admins))


def merge_slots(slots: list[SlotFree]) -> list[SlotFree]:
    """Consecutive slots with the same free resources, as one period each."""
    periods: list[SlotFree] = []
    for slot in slots:
        last = periods[-1] if periods else None
        if last and (last.cpus, last.memory, last.gpu_ids) == (slot.cpus, slot.memory, slot.gpu_ids):
            periods[-1] = replace(last, end=slot.end)
        else:
            periods.append(slot)
    return periods


class BookingService:
    def __init__(
        self,
        *,
        config: Config,
        uow: Callable[[], UnitOfWork],
        gpus: GpuInventory,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.config = config
        self._uow = uow
        self.host = config.host_resources(gpus.count)
        self._nvlinks = gpus.nvlinks
        self._clock = clock
        self._on_change = on_change or (lambda booking_id: None)
        self._slot = config.booking.slot_minutes

    # ----- accounts -------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    def unit(self) -> UnitOfWork:
        """A fresh unit of work, for adapters' own small reads and writes."""
        return self._uow()

    def zone_of(self, account: Account | None) -> tzinfo:
        return member_zone(account, self.config)

    def is_admin(self, account: Account) -> bool:
        return account.is_admin or account.name in self.config.admins

    def account(self, name: str) -> Account:
        with self._uow() as uow:
            return self._existing(uow, name)

    def _existing(self, uow: UnitOfWork, name: str) -> Account:
        account = uow.accounts.get(name)
        if account is None:
            raise Refusal(
                ErrorCode.UNKNOWN_USER,
                f"`{name}` has no account here. Ask an admin ({self._admins(uow)}) to add you "
                f"(`booking users add {name}`).",
            )
        return account

    def _admins(self, uow: UnitOfWork) -> str:
        return ", ".join(admin_names(uow.accounts.all(), self.config)) or "the server's administrator"

    def admin_names(self) -> str:
        """Who to ask, for refusals that need an admin: `alice, bob`."""
        with self._uow() as uow:
            return self._admins(uow)

    def chat_account(self, platform: str, chat_id: str, display_name: str = "") -> Account:
        """The account linked to a chat user; created on first use when registration is open.

        A self-registered account is named after the chat handle with the
        platform's prefix (`slack-dora`), so it never takes a lab id an admin
        would give, nor a name the config lists under `admins` or `limits.users`.
        Two first messages at once: the one that loses the race reads the
        winner's account.
        """
        attempts = 5
        for attempt in range(attempts):
            try:
                return self._chat_account(platform, chat_id, display_name)
            except StorageConflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _chat_account(self, platform: str, chat_id: str, display_name: str) -> Account:
        with self._uow() as uow:
            account = uow.accounts.by_chat_id(platform, chat_id)
            if account is not None:
                return account
            if self.config.booking.registration != "open":
                raise Refusal(
                    ErrorCode.UNKNOWN_USER,
                    "You have no booking account yet. Ask an admin "
                    f"({self._admins(uow)}) to link you to your lab id.",
                )
            reserved = set(self.config.admins) | set(self.config.limits.users)
            name = self._free_name(uow, registered_name_base(platform, display_name, chat_id),
                                   taken=reserved)
            account = Account(name=name, display_name=(display_name or name)[:200])
            setattr(account, f"{platform}_id", chat_id)
            account = uow.accounts.add(account)
            uow.commit()
            return account

    @staticmethod
    def _free_name(uow: UnitOfWork, base: str, *, taken: set[str]) -> str:
        """`base`, or `base2`, `base3`...: the first that no account and no name in `taken` has."""
        name, n = base, 1
        while name in taken or uow.accounts.get(name) is not None:
            n += 1
            name = f"{base}{n}"
        return check_account_name(name)

    def ensure_local_admin(self, name: str) -> Account:
        """On an empty database, the local operator becomes the first admin."""
        with self._uow() as uow:
            account = uow.accounts.get(name)
            if account is None and uow.accounts.count() == 0:
                check_account_name(name)
                account = uow.accounts.add(Account(name=name, display_name=name, is_admin=True))
                uow.commit()
            if account is None:
                account = self._existing(uow, name)
            return account

    def add_account(
        self, name: str, *, admin: bool = False, slack_id: str | None = None,
        discord_id: str | None = None, display_name: str | None = None, confirm: bool = False,
    ) -> Account:
        """Add an account, or update its admin flag and chat links.

        Linking that would move the account away from another chat user, or move
        the chat user away from another account, raises LinkConflict unless
        `confirm`; when confirmed, both chat users are told (outbox messages).
        """
        check_account_name(name)
        with self._uow() as uow:
            account = uow.accounts.get(name) or Account(name=name, display_name=display_name or name)
            account.is_admin = account.is_admin or admin
            told: list[tuple[str, str]] = []  # (outbox recipient, text)
            for platform, chat_id in (("slack", slack_id), ("discord", discord_id)):
                if not chat_id:
                    continue
                current = getattr(account, f"{platform}_id")
                replaced = current if current and current != chat_id else None
                other = uow.accounts.by_chat_id(platform, chat_id)
                moved_from = other if other is not None and other.name != name else None
                if replaced is None and moved_from is None:
                    setattr(account, f"{platform}_id", chat_id)
                    continue
                if not confirm:
                    raise self._link_conflict(name, platform, chat_id, replaced, moved_from)
                if moved_from is not None:  # a chat id belongs to one account only
                    setattr(moved_from, f"{platform}_id", None)
                    uow.accounts.save(moved_from)
                setattr(account, f"{platform}_id", chat_id)
                told += self._link_notices(uow, name, platform, chat_id, replaced, moved_from)
            if account.id is None:
                account = uow.accounts.add(account)
            else:
                uow.accounts.save(account)
            outbox: OutboxRepository | None = getattr(uow, "outbox", None)
            if outbox is not None:
                for recipient, text in told:
                    enqueue(outbox, recipient, Message(MessageKind.INFO, text), self.now())
            uow.commit()
            return account

    @staticmethod
    def _link_conflict(
        name: str, platform: str, chat_id: str, replaced: str | None, moved_from: Account | None,
    ) -> LinkConflict:
        words = []
        if replaced is not None:
            words.append(f"`{name}` is linked to {platform} user {replaced} now; linking it to "
                         f"{platform} user {chat_id} unlinks {replaced}")
        if moved_from is not None:
            words.append(f"{platform} user {chat_id} is linked to `{moved_from.name}` now; "
                         f"linking it to `{name}` unlinks it from `{moved_from.name}`")
        return LinkConflict(
            "; ".join(words) + ". Both are told when you confirm.",
            account=name, platform=platform, chat_id=chat_id, current_chat_id=replaced,
            current_account=moved_from.name if moved_from is not None else None,
        )

    def _link_notices(
        self, uow: UnitOfWork, name: str, platform: str, chat_id: str, replaced: str | None,
        moved_from: Account | None,
    ) -> list[tuple[str, str]]:
        admins = self._admins(uow)
        before = f" (instead of `{moved_from.name}`)" if moved_from is not None else ""
        notices = [(chat_address(platform, chat_id),
                    f"An admin linked you to the booking account `{name}`{before}. If that is "
                    f"not you, tell an admin ({admins}).")]
        if replaced is not None:
            notices.append((chat_address(platform, replaced),
                             f"An admin linked the booking account `{name}` to another {platform} "
                             f"user; you are no longer linked to it. If that is wrong, tell an "
                             f"admin ({admins})."))
        return notices

    def accounts(self) -> list[Account]:
        with self._uow() as uow:
            return sorted(uow.accounts.all(), key=lambda a: a.name)

    def limits_of(self, account: Account) -> Resources:
        """The member's maxima: admin-set values, then config, then the default."""
        config_user = self.config.limits.users.get(account.name)
        values = []
        for key in LIMIT_KEYS:
            value = account.limits.get(key)
            if value is None and config_user is not None:
                value = getattr(config_user, key)
            if value is None:
                value = getattr(self.config.limits.default, key)
            host_max = getattr(self.host, key)
            values.append(host_max if value in (None, "max") else min(float(value), host_max))
        return Resources(float(values[0]), int(values[1]), int(values[2]))

    def set_limits(self, name: str, values: dict[str, str]) -> Account:
        parsed: dict[str, float | int | str] = {}
        for key, text in values.items():
            if key not in (*LIMIT_KEYS, *QUOTA_KEYS):
                raise Refusal(
                    ErrorCode.BAD_INPUT,
                    f"Unknown limit `{key}`; use cpus, memory, gpus, work_space or backup_space.",
                )
            if text == "max":
                parsed[key] = "max"
                continue
            try:  # cpus and the quotas (GB) may be fractional
                number = float(text) if key in ("cpus", *QUOTA_KEYS) else int(text)
            except ValueError:
                raise Refusal(
                    ErrorCode.BAD_INPUT, f"`{key}={text}` is not a number; use a number or `max`."
                ) from None
            if not math.isfinite(number):  # nan or inf would switch the maximum's check off
                raise Refusal(
                    ErrorCode.BAD_INPUT, f"`{key}={text}` is not a finite number; use a number or `max`."
                )
            if number < 0:
                raise Refusal(ErrorCode.BAD_INPUT, f"`{key}` cannot be negative.")
            parsed[key] = number
        with self._uow() as uow:
            account = self._existing(uow, name)
            account.limits = {**account.limits, **parsed}
            uow.accounts.save(account)
            uow.commit()
            return account

    # ----- bookings -------------------------------------------------------

    def parse_window(self, account: Account, start_text: str, end_text: str) -> Window:
        now = self.now()
        zone = self.zone_of(account)
        try:
            start = parse_start(start_text, zone=zone, now=now, slot_minutes=self._slot)
            end = parse_end(end_text, start=start, zone=zone, now=now, slot_minutes=self._slot)
        except TimeInputError as exc:
            raise Refusal(ErrorCode.BAD_TIME, str(exc)) from None
        self._check_window(start, end, now)
        return Window(start, end)

    def parse_start(self, account: Account, text: str) -> datetime:
        """A start on its own, checked against the window rules that apply to it."""
        now = self.now()
        try:
            start = parse_start(text, zone=self.zone_of(account), now=now, slot_minutes=self._slot)
        except TimeInputError as exc:
            raise Refusal(ErrorCode.BAD_TIME, str(exc)) from None
        self._check_window(start, start + timedelta(minutes=self._slot), now)
        return start

    def _check_window(self, start: datetime, end: datetime, now: datetime) -> None:
        max_days = self.config.booking.max_days
        if start < slot_floor(now, self._slot):
            raise Refusal(ErrorCode.BAD_TIME, "The start is in the past; use `now` or a later time.")
        if start > slot_ceil(now + timedelta(days=max_days), self._slot):
            raise Refusal(
                ErrorCode.BAD_TIME, f"The start is more than {max_days} days ahead; pick an earlier day."
            )
        if end <= start:
            raise Refusal(ErrorCode.BAD_TIME, "The end must be after the start; try `3-day`.")
        if end - start > timedelta(days=max_days):
            raise Refusal(
                ErrorCode.BAD_TIME,
                f"A booking lasts at most {max_days} days; end it by "
                f"{(start + timedelta(days=max_days)).isoformat(timespec='minutes')}.",
            )

    def check_resources(self, account: Account, resources: Resources) -> None:
        if not math.isfinite(resources.cpus) or (
            resources.cpus < 1 or resources.memory < 1 or resources.gpus < 0
        ):
            raise Refusal(
                ErrorCode.BAD_INPUT, "cpus must be at least 1, memory at least 1 GB, gpus at least 0."
            )
        maximum = self.limits_of(account)
        if (
            resources.cpus > maximum.cpus
            or resources.memory > maximum.memory
            or resources.gpus > maximum.gpus
        ):
            raise Refusal(
                ErrorCode.OVER_LIMIT,
                f"Over your maximum: you may book up to {maximum.describe()}.",
            )

    def _image(self, account: Account, wanted: str | None) -> str:
        image = wanted or account.image or self.config.images.default
        if image not in self.config.images.allowed:
            allowed = ", ".join(self.config.images.allowed)
            raise Refusal(ErrorCode.BAD_IMAGE, f"Image `{image}` is not allowed; choose one of: {allowed}.")
        return image

    def book(self, request: BookingRequest, *, actor: str | None = None) -> Booking:
        # The times are read before the write transaction opens, so dateparser never
        # runs while the server's lock is held; a problem with them is still reported
        # after the checks that came before it.
        try:
            window: Window | Refusal = self.parse_window(
                self.account(request.user), request.start, request.end
            )
        except Refusal as problem:
            window = problem
        with self._uow() as uow:
            account = self._existing(uow, request.user)
            if actor is not None and actor != account.name:
                self._require_admin(uow, actor)
            self.check_resources(account, request.resources)
            image = self._image(account, request.image)
            check_extra_command(request.command)
            if request.port is not None:
                self._own_port(uow, account, request.port)  # in range, no one else's
            if isinstance(window, Refusal):
                raise window
            uow.bookings.lock_server()
            read: list[frozenset[int]] = []

            def reserved() -> frozenset[int]:  # other members' own ports, read when needed
                if not read:
                    read.append(uow.accounts.reserved_ports(except_name=account.name))
                return read[0]

            booking = self._decide(uow, account, request, window, image, reserved)
            booking = uow.bookings.add(booking)
            assert booking.id is not None
            uow.bookings.record(booking.id, "created", actor or account.name)
            if account.preferred_port is None and booking.port not in reserved():
                # The first port a member gets becomes their own.
                account.preferred_port = booking.port
                uow.accounts.save(account)
            uow.commit()
        self._on_change(booking.id)
        return booking

    def _decide(
        self, uow: UnitOfWork, account: Account, request: BookingRequest, window: Window, image: str,
        reserved: Callable[[], frozenset[int]],
    ) -> Booking:
        begin, finish = micros(window.start), micros(window.end)
        load = load_in(begin, finish, uow.bookings.spans_between(window.start, window.end), account.id)
        usage = load.usage
        problem = self._problem(account, request, load.own, usage)
        if problem is not None:
            code, message = problem
            earliest = self._earliest(uow, account, request, window)
            raise Refusal(code, message + self._offer(account, earliest), earliest_start=earliest)
        free_gpus = [g for g in range(self.host.gpus) if g not in usage.busy_gpus]
        port = request.port or choose_port(
            preferred=account.preferred_port, port_range=self.config.booking.ports,
            busy=usage.busy_ports,
            # Other members' own ports matter only when the member's own port is not free.
            reserved=(
                frozenset() if account.preferred_port is not None
                and account.preferred_port not in usage.busy_ports else reserved()
            ),
        )
        assert port is not None  # _problem checked that a port is free
        return Booking(
            account=account.name, start=window.start, end=window.end,
            resources=request.resources,
            gpu_ids=choose_gpus(free_gpus, request.resources.gpus, self._nvlinks),
            port=port, image=image, command=request.command or account.command,
        )

    def _problem(
        self, account: Account, request: BookingRequest, own: int | None, usage: Usage,
    ) -> tuple[ErrorCode, str] | None:
        """Why `request` cannot have a window whose `usage` is given, where the member holds
        booking `own` (or none), or None when it fits. Other members' own ports never make a
        window fail: they are lent when nothing else is free."""
        if own is not None:
            return ErrorCode.OVERLAP, f"You already hold booking #{own} at that time."
        short = shortages(request.resources, self.host, usage)
        if short:
            return ErrorCode.NO_CAPACITY, "Not enough free for that window: " + ", ".join(short) + "."
        low, high = self.config.booking.ports
        if request.port is not None:
            if request.port in usage.busy_ports:
                return ErrorCode.PORT_TAKEN, f"Port {request.port} is taken at that time."
        elif choose_port(
            preferred=account.preferred_port, port_range=(low, high),
            busy=usage.busy_ports, reserved=frozenset(),
        ) is None:
            return ErrorCode.NO_CAPACITY, f"No SSH port in {low}-{high} is free at that time."
        return None

    def _earliest(
        self, uow: UnitOfWork, account: Account, request: BookingRequest, window: Window,
    ) -> datetime | None:
        """The earliest start, same duration and resources, that fits in the horizon.

        What is free only grows when a booking ends, so the candidates are the
        asked start and every end of a booking after it. Offers are always on the
        slot grid (a start off it is refused), so an end off the grid (`end now`)
        counts from the next slot boundary; no start on the grid lies in between.
        All candidates are tried in one forward sweep (core.domain.allocation.earliest_fit)
        over the bookings read once.
        """
        latest = micros(
            slot_ceil(self.now() + timedelta(days=self.config.booking.max_days), self._slot)
        )
        begin, duration = micros(window.start), micros(window.end) - micros(window.start)
        spans = uow.bookings.spans_between(window.start, from_micros(latest + duration))
        slot = self._slot * 60_000_000
        first = slot_ceil_micros(begin, slot)
        ends = {slot_ceil_micros(span[3], slot) for span in spans}
        candidates = sorted({first} | {end for end in ends if begin < end <= latest})
        fit = Fit(
            resources=request.resources, host=self.host, account_id=account.id, port=request.port,
            preferred=account.preferred_port, port_range=self.config.booking.ports,
        )
        found = earliest_fit(spans, fit, duration, candidates)
        return None if found is None else from_micros(found)

    def _offer(self, account: Account, earliest: datetime | None) -> str:
        if earliest is None:
            return " Nothing of that size fits within the booking horizon; try fewer resources."
        local = earliest.astimezone(self.zone_of(account))
        return f" The earliest start that fits is {local:%Y %m %d %H %M} ({local.tzname()})."

    def _require_admin(self, uow: UnitOfWork, actor: str) -> Account:
        account = self._existing(uow, actor)
        if not self.is_admin(account):
            raise Refusal(ErrorCode.NOT_OWNER, "Only the owner or an admin may change that booking.")
        return account

    def _owned(self, uow: UnitOfWork, booking_id: int, actor: str | None) -> Booking:
        """The booking, when `actor` (None: the system) owns it or is an admin.

        Someone else's booking is answered exactly like one that does not exist,
        so members cannot learn which ids exist or whose they are.
        """
        booking = uow.bookings.get(booking_id)
        if booking is None or (
            actor is not None and actor != booking.account
            and not self.is_admin(self._existing(uow, actor))
        ):
            raise Refusal(
                ErrorCode.NOT_FOUND, f"There is no booking #{booking_id} of yours; `list` shows yours."
            )
        return booking

    def get(self, booking_id: int, *, actor: str | None = None) -> Booking:
        with self._uow() as uow:
            return self._owned(uow, booking_id, actor)

    def _require_current(
        self, uow: UnitOfWork, booking: Booking, now: datetime, instead: str
    ) -> None:
        """Only a booking that still holds its window can be changed."""
        if booking.holds_resources and booking.end > now:
            return
        if booking.holds_resources:
            ended = local_time(booking.end, self.zone_of(self._existing(uow, booking.account)))
            why = f"ended at {ended}"
        else:
            why = f"is {booking.status.value}"
        raise Refusal(ErrorCode.NOT_FOUND, f"Booking #{booking.id} {why}; {instead}.")

    def cancel(self, booking_id: int, *, actor: str | None, reason: str | None = None) -> Booking:
        """Cancel before the start; end a running booking now."""
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            self._require_current(uow, booking, now, "book anew with `book`")
            if booking.status == Status.BOOKED:
                booking = replace(booking, status=Status.CANCELLED)
                kind = "cancelled"
            else:
                booking = replace(booking, end=max(now, booking.start))
                kind = "ended_early"
            uow.bookings.save(booking)
            uow.bookings.record(booking_id, kind, actor)
            self._tell_owner(uow, booking, actor, kind, reason)
            uow.commit()
        self._on_change(booking_id)
        return booking

    def extend(
        self, booking_id: int, end_text: str, *, actor: str | None, reason: str | None = None
    ) -> Booking:
        """Move the end later. `2-day` extends by two days; a date sets the new end."""
        # The text is read before the write transaction opens, so dateparser never runs
        # while the server's lock is held: a short read gives the booking's start and its
        # member's time zone. A problem with the text is reported after the other checks.
        with self._uow() as uow:
            booking = self._owned(uow, booking_id, actor)
            account = self._existing(uow, booking.account)
        try:
            asked: timedelta | datetime | Refusal = self._read_end(account, booking, end_text)
        except Refusal as problem:
            asked = problem
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            self._require_current(uow, booking, now, "book a new window with `book`")
            account = self._existing(uow, booking.account)
            self._check_still_allowed(account, booking)
            new_end = self._new_end(account, booking, asked)
            extra = Window(booking.end, new_end)
            others = [b for b in uow.bookings.holding_between(extra.start, extra.end)
                      if b.id != booking.id]
            self._check_extension(booking, extra, others)
            old_end = booking.end
            booking = replace(booking, end=new_end)
            uow.bookings.save(booking)
            uow.bookings.record(
                booking_id, "extended", actor, old_end=old_end.isoformat(), new_end=new_end.isoformat()
            )
            self._tell_owner(uow, booking, actor, "extended", reason)
            uow.commit()
        self._on_change(booking_id)
        return booking

    def _read_end(self, account: Account, booking: Booking, text: str) -> timedelta | datetime:
        """What `extend` was asked: an amount to add to the end (`2-day`) or a new end."""
        try:
            by = parse_duration(text)
            return by if by is not None else parse_end(
                text, start=booking.start, zone=self.zone_of(account), now=self.now(),
                slot_minutes=self._slot,
            )
        except TimeInputError as exc:
            raise Refusal(ErrorCode.BAD_TIME, str(exc)) from None

    def _new_end(
        self, account: Account, booking: Booking, asked: timedelta | datetime | Refusal
    ) -> datetime:
        if isinstance(asked, Refusal):
            raise asked
        new_end = booking.end + asked if isinstance(asked, timedelta) else asked
        max_days = self.config.booking.max_days
        if new_end <= booking.end:
            raise Refusal(ErrorCode.BAD_TIME, "The new end must be after the current end; try `1-day`.")
        if new_end - booking.start > timedelta(days=max_days):
            limit = (booking.start + timedelta(days=max_days)).astimezone(self.zone_of(account))
            raise Refusal(
                ErrorCode.BAD_TIME,
                f"A booking lasts at most {max_days} days; it can end at {limit:%Y %m %d %H %M} latest.",
            )
        return new_end

    def _check_still_allowed(self, account: Account, booking: Booking) -> None:
        """A booking is extended only while it is within the member's maxima as they are now
        (an admin may have lowered them since it was booked)."""
        maximum, held = self.limits_of(account), booking.resources
        if held.cpus > maximum.cpus or held.memory > maximum.memory or held.gpus > maximum.gpus:
            raise Refusal(
                ErrorCode.OVER_LIMIT,
                f"Booking #{booking.id} holds {held.describe()}, more than your maximum now "
                f"({maximum.describe()}), so it cannot be extended; when it ends, book again "
                "within your maximum.",
            )

    def _check_extension(self, booking: Booking, extra: Window, others: list[Booking]) -> None:
        own = [b for b in others if b.account == booking.account]
        if own:
            raise Refusal(ErrorCode.OVERLAP, f"Your booking #{own[0].id} starts before the new end.")
        usage = usage_in(extra, others)
        taken = sorted(set(booking.gpu_ids) & usage.busy_gpus)
        short = shortages(replace(booking.resources, gpus=0), self.host, usage)
        if taken:
            short.append("GPU " + ", ".join(map(str, taken)) + " (booked by someone else)")
        if booking.port in usage.busy_ports:
            short.append(f"port {booking.port}")
        if short:
            raise Refusal(
                ErrorCode.NO_CAPACITY,
                "The longer window does not fit: " + ", ".join(short) + " is short. "
                "Try a shorter extension.",
            )

    def restart(self, booking_id: int, *, actor: str | None, reason: str | None = None) -> Booking:
        """Ask the scheduler to restart a running booking's container (the old `-rst`).

        Only recorded here: the scheduler, perhaps in another process, acts on
        it (see core/domain/restart_requests.py) and messages the member when done.
        """
        with self._uow() as uow:
            uow.bookings.lock_server()
            booking = self._owned(uow, booking_id, actor)
            now = self.now()
            if booking.status != Status.RUNNING or booking.end <= now:
                account = self._existing(uow, booking.account)
                raise Refusal(ErrorCode.NOT_RUNNING, self._not_running(account, booking, now))
            if pending_request(uow.bookings.events(booking_id)) is not None:
                raise Refusal(
                    ErrorCode.PENDING,
                    f"A restart of booking #{booking_id} is already on its way; "
                    "I will message you when it is done.",
                )
            uow.bookings.record(booking_id, RESTART_REQUESTED, actor or booking.account,
                                at=now.isoformat())
            self._tell_owner(uow, booking, actor, RESTART_REQUESTED, reason)
            uow.commit()
        self._on_change(booking_id)
        return booking

    def _tell_owner(
        self, uow: UnitOfWork, booking: Booking, actor: str | None, change: str,
        reason: str | None,
    ) -> None:
        """When someone else (an admin) changed a booking, its owner is told, in the same
        transaction (the outbox; a unit of work without one tells nobody)."""
        outbox: OutboxRepository | None = getattr(uow, "outbox", None)
        if actor is None or actor == booking.account or outbox is None:
            return
        zone = self.zone_of(self._existing(uow, booking.account))
        text = changed_by_someone_else(change, booking, actor, zone, reason)
        enqueue(outbox, booking.account, Message(MessageKind.INFO, text, booking.id), self.now())

    def _not_running(self, account: Account, booking: Booking, now: datetime) -> str:
        """Why a booking's container cannot be restarted now."""
        number = f"Booking #{booking.id}"
        if booking.status == Status.BOOKED:
            return (f"{number} is booked; it starts at "
                    f"{local_time(booking.start, self.zone_of(account))}. "
                    "Its container can be restarted once it runs.")
        if booking.status == Status.STARTING:
            return (f"{number} is starting; I will message you when it is ready, "
                    "then it can be restarted.")
        if booking.status == Status.ENDING or booking.end <= now:
            return f"{number} is ending; its container is being backed up and removed."
        return f"{number} is {booking.status.value}; it has no container to restart."

    def bookings(self, user: str | None = None, *, history: bool = False) -> list[Booking]:
        """Upcoming and running bookings (all of them with `history`)."""
        after = None if history else self.now()
        with self._uow() as uow:
            if user is not None:
                self._existing(uow, user)
                found = uow.bookings.of_account(user, after=after)
            else:
                found = uow.bookings.all_after(after or datetime(1970, 1, 1, tzinfo=UTC))
        if not history:
            found = [b for b in found if b.holds_resources]
        return sorted(found, key=lambda b: (b.start, b.id or 0))

    def free_slots(self, start_text: str = "now", end_text: str = "1-day") -> list[SlotFree]:
        now = self.now()
        zone = self.zone_of(None)
        try:
            start = parse_start(start_text, zone=zone, now=now, slot_minutes=self._slot)
            end = parse_end(end_text, start=start, zone=zone, now=now, slot_minutes=self._slot)
        except TimeInputError as exc:
            raise Refusal(ErrorCode.BAD_TIME, str(exc)) from None
        if end <= start:
            raise Refusal(ErrorCode.BAD_TIME, "The end must be after the start.")
        end = min(end, start + timedelta(days=self.config.booking.max_days * 2))
        with self._uow() as uow:
            held = uow.bookings.holding_between(start, end)
        slot = timedelta(minutes=self._slot)
        slots = []
        moment = start
        while moment < end:
            window = Window(moment, min(moment + slot, end))
            usage = usage_in(window, held)
            slots.append(SlotFree(
                window.start, window.end,
                round(self.host.cpus - usage.peak_cpus, 6), self.host.memory - usage.peak_memory,
                tuple(g for g in range(self.host.gpus) if g not in usage.busy_gpus),
            ))
            moment += slot
        return slots

    def set_timezone(self, name: str, zone_name: str) -> Account:
        """Record the member's time zone (an IANA name, e.g. from their chat profile)."""
        check_timezone(zone_name)
        with self._uow() as uow:
            account = self._existing(uow, name)
            if account.timezone != zone_name:
                account.timezone = zone_name
                uow.accounts.save(account)
                uow.commit()
            return account

    def update_member(
        self, name: str, *, ssh_keys: str | None = None, add_ssh_key: str | None = None,
        timezone: str | None = None, port: int | None = None, image: str | None = None,
        command: str | None = None,
    ) -> Account:
        """Change a member's own settings; each value is checked first."""
        with self._uow() as uow:
            account = self._existing(uow, name)
            if ssh_keys is not None:
                account.ssh_keys = check_ssh_keys(ssh_keys)
            if add_ssh_key is not None:
                key = check_ssh_key(add_ssh_key)
                keys = [k for k in account.ssh_keys.splitlines() if k]
                account.ssh_keys = "\n".join([*keys, key] if key not in keys else keys)
            if timezone is not None:
                account.timezone = check_timezone(timezone)
            if port is not None:
                account.preferred_port = self._own_port(uow, account, port)
            if image is not None:
                account.image = self._image(account, image) if image else None
            if command is not None:
                account.command = check_extra_command(command)
            uow.accounts.save(account)
            uow.commit()
            return account

    def _own_port(self, uow: UnitOfWork, account: Account, port: int) -> int:
        low, high = self.config.booking.ports
        if not low <= port <= high:
            raise Refusal(ErrorCode.PORT_TAKEN, f"Port {port} is outside {low}-{high}.")
        if port in uow.accounts.reserved_ports(except_name=account.name):
            raise Refusal(ErrorCode.PORT_TAKEN, f"Port {port} belongs to another member.")
        return port
