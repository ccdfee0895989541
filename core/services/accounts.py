"""Accounts: who may book, their names and their chat links. The base of the booking
service: it holds the config, the unit of work, the clock and the notice words.
Limits and a member's own settings are in account_settings.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo

from core.domain import refusals
from core.domain.account_names import (
    chat_address,
    check_account_name,
    registered_name_base,
)
from core.domain.config import Config
from core.domain.gpus import GpuInventory
from core.domain.model import Account
from core.domain.zones import member_zone
from core.services.decisions import DecisionObserver
from core.services.notice_port import NoticeWords
from core.services.notifier import Message, MessageKind
from core.services.outbox import enqueue
from core.services.ports import OutboxRepository, StorageConflict, UnitOfWork

# The maxima limits_of (account_settings.py) returns; set_limits also takes the disk
# quotas (core.domain.quota.QUOTA_KEYS).
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
        notices: NoticeWords,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.config = config
        self._uow = uow
        self.inventory = gpus
        self.host = config.host_resources(gpus.count)
        self._nvlinks = gpus.nvlinks
        self._notices = notices
        self._clock = clock
        self._on_change = on_change or (lambda booking_id: None)
        self._decision_observers: list[DecisionObserver] = []
        self._slot = config.booking.slot_minutes

    def now(self) -> datetime:
        return self._clock()

    def recount_gpus(self, inventory: GpuInventory) -> None:
        """The server's GPUs are `inventory` now (what another pool host's NVML read, heard
        through its heartbeat); the next decision uses it."""
        if inventory != self.inventory:
            self.inventory, self._nvlinks = inventory, inventory.nvlinks
            self.host = self.config.host_resources(inventory.count)

    def observe_decisions(self, observer: DecisionObserver) -> None:
        """Tell `observer` about every booking decision (`book`, `extend`) from now on."""
        self._decision_observers.append(observer)

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
            raise refusals.no_account(name, self._admins(uow))
        return account

    def _admins(self, uow: UnitOfWork) -> list[str]:
        return admin_names(uow.accounts.all(), self.config)

    def admin_names(self) -> str:
        """Who to ask, for refusals that need an admin: `alice, bob`."""
        with self._uow() as uow:
            return refusals.who_to_ask(self._admins(uow))

    def _require_admin(self, uow: UnitOfWork, actor: str) -> Account:
        account = self._existing(uow, actor)
        if not self.is_admin(account):
            raise refusals.owner_or_admin_only()
        return account

    def linked_account(self, platform: str, chat_id: str) -> Account | None:
        """The account linked to a chat user, or None; never registers one."""
        with self._uow() as uow:
            return uow.accounts.by_chat_id(platform, chat_id)

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
                raise refusals.not_registered(self._admins(uow))
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
                    raise refusals.link_conflict(name, platform, chat_id, replaced,
                                                 moved_from.name if moved_from else None)
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

    def _link_notices(
        self, uow: UnitOfWork, name: str, platform: str, chat_id: str, replaced: str | None,
        moved_from: Account | None,
    ) -> list[tuple[str, str]]:
        """(outbox recipient, text) for the chat user linked now and the one unlinked, if any."""
        admins = self._admins(uow)
        instead_of = moved_from.name if moved_from is not None else None
        notices = [(chat_address(platform, chat_id),
                    self._notices.linked_to_you(name, instead_of, admins))]
        if replaced is not None:
            notices.append((chat_address(platform, replaced),
                            self._notices.unlinked_from(name, platform, admins)))
        return notices

    def accounts(self) -> list[Account]:
        with self._uow() as uow:
            return sorted(uow.accounts.all(), key=lambda a: a.name)
