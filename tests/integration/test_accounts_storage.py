"""Accounts on the real databases: both chat users told when a link moves, two
first messages of one new chat user at once, and a database file only its owner reads."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from bot.bootstrap import App, Environment, build
from core.domain.model import Account, LinkConflict
from core.domain.passwords import PasswordDeriver
from core.services.accounts import utcnow
from core.services.notifier import Message
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlAccounts, SqlUnitOfWork
from tests.factories import write_config


class Chat:
    """Records who each message reached: the chat ids it was delivered to."""

    def __init__(self) -> None:
        self.sent: list[tuple[str | None, str | None, str]] = []

    def deliver(self, account: Account, message: Message) -> bool:
        self.sent.append((account.slack_id, account.discord_id, message.text))
        return True


def _flush(app: App) -> Chat:
    assert app.engine is not None
    engine, server_id = app.engine, app.server_id
    chat = Chat()
    sender = OutboxSender(
        uow=cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id)),
        passwords=PasswordDeriver(b"0123456789abcdef0123"), notifiers=[("chat", chat)],
        fallback=("log", Chat()), clock=utcnow,
    )
    sender.flush()
    return chat


def test_moving_a_slack_link_tells_the_old_and_the_new_chat_user(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    service = app.service
    service.add_account("r11922001", slack_id="USQUAT")
    with pytest.raises(LinkConflict):
        service.add_account("r11922001", slack_id="UREAL")
    assert _flush(app).sent == []  # nothing moved, nobody told

    service.add_account("r11922001", slack_id="UREAL", confirm=True)
    assert service.account("r11922001").slack_id == "UREAL"
    assert sorted(_flush(app).sent) == [
        ("UREAL", None, "An admin linked you to the booking account `r11922001`. If that is "
                        "not you, tell an admin (alice)."),
        ("USQUAT", None, "An admin linked the booking account `r11922001` to another slack "
                         "user; you are no longer linked to it. If that is wrong, tell an "
                         "admin (alice)."),
    ]


def test_moving_a_discord_user_to_another_account_tells_them(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    app.service.add_account("bob", discord_id="42")
    app.service.add_account("carol", discord_id="42", confirm=True)
    assert app.service.account("bob").discord_id is None
    assert _flush(app).sent == [
        (None, "42", "An admin linked you to the booking account `carol` (instead of `bob`). "
                     "If that is not you, tell an admin (alice)."),
    ]


@pytest.mark.postgres
def test_two_first_messages_of_a_new_chat_user_at_once_make_one_account(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path / "booking.yaml", booking={"registration": "open"})
    app = build(Environment(booking_config=config, booking_database_url=postgres_url))
    # Both requests look the chat user up before either stores the new account:
    # the race that a busy adapter runs into now and then, made certain.
    both_looked = threading.Barrier(2, timeout=10)
    original = SqlAccounts.by_chat_id
    looked: dict[int, int] = {}

    def by_chat_id(self: SqlAccounts, platform: str, chat_id: str) -> Account | None:
        found = original(self, platform, chat_id)
        me = threading.get_ident()
        looked[me] = looked.get(me, 0) + 1
        if looked[me] == 1:
            both_looked.wait()
        return found

    monkeypatch.setattr(SqlAccounts, "by_chat_id", by_chat_id)
    results: list[Any] = [None, None]

    def first_message(index: int) -> None:
        try:
            results[index] = app.service.chat_account("slack", "UDORA", "dora")
        except Exception as exc:  # what the member would have seen as "something went wrong"
            results[index] = exc

    threads = [threading.Thread(target=first_message, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [type(r).__name__ for r in results] == ["Account", "Account"], results
    assert [(r.name, r.slack_id) for r in results] == [("slack-dora", "UDORA")] * 2
    assert [a.name for a in app.service.accounts()] == ["slack-dora"]


def test_the_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    config = write_config(tmp_path / "booking.yaml")
    database = tmp_path / "data" / "booking.db"
    app = build(Environment(booking_config=config, booking_database_url=f"sqlite:///{database}"))
    app.service.add_account("bob")  # a write: the -wal and -shm files exist now
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    assert [stat.filemode(f.stat().st_mode) for f in files] == ["-rw-------"] * 3


def test_a_database_left_readable_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    config = write_config(tmp_path / "booking.yaml")
    database = tmp_path / "data" / "booking.db"
    build(Environment(booking_config=config, booking_database_url=f"sqlite:///{database}"))
    database.chmod(0o644)
    app = build(Environment(booking_config=config, booking_database_url=f"sqlite:///{database}"))
    assert stat.filemode(database.stat().st_mode) == "-rw-------"
    app.service.add_account("bob")
