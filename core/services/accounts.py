"""Accounts: who may book, their names and chat links, limits, image and member
settings. The base of the booking service: it holds the config, the unit of work
and the clock."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo

from core.domain.account_names import (
    chat_address,
    check_account_name,
    registered_name_base,
)
from core.domain.config import Config
from core.domain.extra_command import check_extra_command
from core.domain.gpus import GpuInventory
from core.domain.member_settings import check_ssh_key, check_ssh_keys, check_timezone
from core.domain.model import (
    Account,
    ErrorCode,
    LinkConflict,
    Refusal,
    Resources,
)
from core.domain.quota import QUOTA_KEYS
from core.domain.zones import member_zone
from core.services.notifier import Message, MessageKind
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, StorageConflict, UnitOfWork

# The maxima limits_of returns; set_limits also takes the disk quotas (core.domain.quota.QUOTA_KEYS).
LIMIT_KEYS = ("cpus", "memory", "gpus")


def utcnow() -> datetime:
    return datetime.now(UTC)


def admin_names(accounts: Iterable[Account], config: Config) -> list[str]:
    """Admins: accounts marked admin and the names listed in the config."""
    return sorted({a.name for a in accounts if a.is_admin} | set(config.admins))


class AccountService:
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

    def _image(self, account: Account, wanted: str | None) -> str:
        image = wanted or account.image or self.config.images.default
        if image not in self.config.images.allowed:
            allowed = ", ".join(self.config.images.allowed)
            raise Refusal(ErrorCode.BAD_IMAGE, f"Image `{image}` is not allowed; choose one of: {allowed}.")
        return image

    def _require_admin(self, uow: UnitOfWork, actor: str) -> Account:
        account = self._existing(uow, actor)
        if not self.is_admin(account):
            raise Refusal(ErrorCode.NOT_OWNER, "Only the owner or an admin may change that booking.")
        return account

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
