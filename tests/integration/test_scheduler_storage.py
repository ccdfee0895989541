"""The scheduler's storage on real SQLite and real PostgreSQL: migrations 0002 and
0003, per-booking password salts, the outbox, and the one-scheduler-per-database lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text

from core.chat.actions import restored
from core.domain.model import Account, Booking, Resources, Status
from core.domain.passwords import PASSWORD_PLACEHOLDER, PasswordDeriver
from core.services.notifier import Message, MessageKind
from core.services.outbox import OutboxSender, enqueue
from core.services.ports import SchedulerUnitOfWork
from storage.engine import MIGRATIONS, make_engine, migrate
from storage.scheduler_lock import try_scheduler_lock
from storage.tables import AccountRow, BookingRow
from storage.uow import SqlUnitOfWork, ensure_server
from tests.integration.scheduler_world import SECRET, RecordingNotifier

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


def _alembic(engine: Engine, action: Callable[[AlembicConfig], None]) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config)


def _head() -> str:
    """The newest migration: what `migrate` brings a database to."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def _version(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())


# ----- migration 0002 -----------------------------------------------------------


def test_migration_0002_adds_the_outbox_to_a_0001_database_and_keeps_its_rows(
    engine: Engine,
) -> None:
    _alembic(engine, lambda config: command.upgrade(config, "0001"))
    assert "outbox" not in inspect(engine).get_table_names()
    server_id = ensure_server(engine, "lab")
    with SqlUnitOfWork(engine, server_id) as uow:
        uow.accounts.add(Account(name="bob", limits={"gpus": 1}))
        uow.commit()

    _alembic(engine, lambda config: command.upgrade(config, "0002"))

    assert _version(engine) == "0002"
    columns = {c["name"] for c in inspect(engine).get_columns("outbox")}
    assert {"recipient", "kind", "text", "booking_id", "actions", "created_at",
            "next_attempt_at", "sent_at", "channel", "attempts", "last_error"} <= columns
    indexes = {i["name"] for i in inspect(engine).get_indexes("outbox")}
    assert {"ix_outbox_pending", "ix_outbox_booking_id"} <= indexes
    with SqlUnitOfWork(engine, server_id) as uow:
        bob = uow.accounts.get("bob")
    assert bob is not None and bob.limits == {"gpus": 1}

    _alembic(engine, lambda config: command.downgrade(config, "0001"))
    assert "outbox" not in inspect(engine).get_table_names()
    migrate(engine)  # what `booking serve` does on start
    assert _version(engine) == _head()


# ----- migration 0003 and per-booking password salts ----------------------------


def _insert_0002_booking(engine: Engine, server_id: int, status: str, hour: int) -> int:
    """A booking row as a 0002 database holds it: no password salt column."""
    start = NOW + timedelta(hours=hour)
    with engine.begin() as connection:
        account_id = connection.execute(
            select(AccountRow.id).where(AccountRow.name == "bob")  # type: ignore[call-overload]
        ).scalar_one()
        statement = insert(BookingRow).values(  # type: ignore[call-overload]
            server_id=server_id, account_id=account_id, status=status, start_at=start,
            end_at=start + timedelta(hours=1), cpus=1.0, memory=1, gpus=0, gpu_ids="",
            port=10001 + hour, image="lab/gpu:1", command=None, created_at=NOW,
        ).returning(BookingRow.id)
        return int(connection.execute(statement).scalar_one())


def test_migration_0003_gives_each_existing_booking_a_random_salt_and_keeps_live_passwords(
    engine: Engine,
) -> None:
    _alembic(engine, lambda config: command.upgrade(config, "0002"))
    server_id = ensure_server(engine, "lab")
    with SqlUnitOfWork(engine, server_id) as uow:
        uow.accounts.add(Account(name="bob"))
        uow.commit()
    statuses = ["finished", "cancelled", "failed", "booked", "booked", "running", "starting",
                "ending"]
    ids = {_insert_0002_booking(engine, server_id, status, hour): status
           for hour, status in enumerate(statuses)}
    passwords = PasswordDeriver(SECRET)

    migrate(engine)

    assert _version(engine) == _head()
    assert "password_salt" in {c["name"] for c in inspect(engine).get_columns("booking")}
    with SqlUnitOfWork(engine, server_id) as uow:
        bookings = {i: uow.bookings.get(i) for i in ids}
    salts = {i: b.password_salt for i, b in bookings.items() if b is not None}
    assert len(salts) == len(ids)
    settled = [salts[i] for i, status in ids.items() if status not in ("running", "starting",
                                                                        "ending")]
    assert all(s is not None and len(s) == 32 and int(s, 16) >= 0 for s in settled)
    assert len(set(settled)) == len(settled)  # a different random value per row
    # A booking whose container may exist keeps the password it was made with.
    for i, status in ids.items():
        if status in ("running", "starting", "ending"):
            assert salts[i] is None
            legacy = Booking(account="bob", start=NOW, end=NOW, resources=Resources(1, 1, 0),
                             gpu_ids=(), port=1, image="x", id=i, password_salt=None)
            booking = bookings[i]
            assert booking is not None
            assert passwords.password_for(booking) == passwords.password_for(legacy)
    with SqlUnitOfWork(engine, server_id) as uow:  # new bookings get a salt from here on
        added = uow.bookings.add(Booking(
            account="bob", start=NOW + timedelta(days=1), end=NOW + timedelta(days=2),
            resources=Resources(1, 1, 0), gpu_ids=(), port=10100, image="lab/gpu:1"))
        uow.commit()
    with SqlUnitOfWork(engine, server_id) as uow:
        stored = uow.bookings.get(added.id or 0)
    assert stored is not None and stored.password_salt == added.password_salt is not None

    _alembic(engine, lambda config: command.downgrade(config, "0002"))
    assert "password_salt" not in {c["name"] for c in inspect(engine).get_columns("booking")}
    with engine.connect() as connection:  # the rows survive the way down, too
        assert connection.execute(text("SELECT count(*) FROM booking")).scalar() == len(ids) + 1
    migrate(engine)
    assert _version(engine) == _head()


def _book(uow: Callable[[], SchedulerUnitOfWork], status: Status = Status.RUNNING) -> Booking:
    with uow() as unit:
        if unit.accounts.get("bob") is None:
            unit.accounts.add(Account(name="bob", slack_id="UBOB"))
        booking = unit.bookings.add(Booking(
            account="bob", start=NOW, end=NOW + timedelta(days=1), resources=Resources(1, 1, 0),
            gpu_ids=(), port=10001, image="lab/gpu:1", status=status))
        unit.commit()
    return booking


def _stored(uow: Callable[[], SchedulerUnitOfWork], booking_id: int) -> Booking:
    with uow() as unit:
        booking = unit.bookings.get(booking_id)
    assert booking is not None
    return booking


def test_the_same_booking_id_after_a_database_reset_gets_a_new_password(engine: Engine) -> None:
    """The secret is kept but the database is made anew: booking #1 must not get the old
    booking #1's password (the DESIGN's "a fresh random password per booking")."""
    passwords = PasswordDeriver(SECRET)
    before = _stored(_units(engine), _book(_units(engine)).id or 0)

    _alembic(engine, lambda config: command.downgrade(config, "base"))  # the reset
    assert "booking" not in inspect(engine).get_table_names()
    after = _stored(_units(engine), _book(_units(engine)).id or 0)

    assert before.id == after.id == 1
    assert before.password_salt != after.password_salt
    assert passwords.password_for(before) != passwords.password_for(after)


def test_a_restart_renders_the_same_password_and_the_database_never_holds_it(
    database_url: str, engine: Engine,
) -> None:
    uow = _units(engine)
    booking = _book(uow)
    assert booking.id is not None
    password = PasswordDeriver(SECRET).password_for(_stored(uow, booking.id))
    with uow() as unit:
        enqueue(unit.outbox, "bob", _ready(booking.id), NOW)
        unit.commit()
    engine.dispose()

    restarted = make_engine(database_url)  # a new process: new engine, new deriver
    try:
        again = _units(restarted)
        passwords = PasswordDeriver(SECRET)
        assert passwords.password_for(_stored(again, booking.id)) == password
        chat = RecordingNotifier()
        sender = OutboxSender(uow=again, passwords=passwords, notifiers=[("chat", chat)],
                              fallback=("log", RecordingNotifier()), clock=Clock(NOW))
        assert sender.flush() == 1
        assert chat.texts("bob") == [f"ready; password: {password}"]

        with restarted.connect() as connection:  # every value of every row of every table
            for table in inspect(restarted).get_table_names():
                for row in connection.execute(text(f"SELECT * FROM {table}")):
                    assert not any(password in str(value) for value in row), table
            texts = connection.execute(text("SELECT text FROM outbox")).scalars().all()
        assert texts == [f"ready; password: {PASSWORD_PLACEHOLDER}"]
    finally:
        restarted.dispose()


# ----- the outbox ---------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FlakyNotifier(RecordingNotifier):
    """Refuses the first `failures` deliveries, as a chat outage would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def deliver(self, account: Account, message: Message) -> bool:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("chat is down")
        return super().deliver(account, message)


def _units(engine: Engine, server: str = "lab") -> Callable[[], SchedulerUnitOfWork]:
    migrate(engine)
    server_id = ensure_server(engine, server)
    return cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id))


def _ready(booking_id: int) -> Message:
    return Message(MessageKind.READY, f"ready; password: {PASSWORD_PLACEHOLDER}", booking_id,
                   # Stored as buttons were stored before they named their booking.
                   ({"label": "Extend 1 day", "command": f"extend {booking_id} 1-day",
                     "style": ""},
                    {"label": "End now", "command": f"end {booking_id}", "style": "danger"}))


def test_outbox_records_in_the_transaction_delivers_once_and_marks_sent(engine: Engine) -> None:
    uow = _units(engine)
    booking = _book(uow)
    assert booking.id is not None
    with uow() as unit:
        kept = enqueue(unit.outbox, "bob", _ready(booking.id), NOW)
        unit.commit()
    with uow() as unit:  # rolled back with its transaction: never sent
        enqueue(unit.outbox, "bob", _ready(booking.id + 1), NOW)
    chat, fallback = RecordingNotifier(), RecordingNotifier()
    passwords = PasswordDeriver(SECRET)
    clock = Clock(NOW)
    sender = OutboxSender(uow=uow, passwords=passwords, notifiers=[("chat", chat)],
                          fallback=("log", fallback), clock=clock)

    assert sender.flush() == 1
    clock.now += timedelta(seconds=5)
    assert sender.flush() == 0  # already sent: not again

    [(recipient, message)] = chat.sent
    assert recipient == "bob" and message.booking_id == booking.id
    assert message.text == f"ready; password: {passwords.password_for(booking)}"
    # Buttons stored before the chat contract are read back named by their booking.
    assert [(a.label, a.command, a.style) for a in restored(message.actions)] == [
        (f"Extend #{booking.id}", f"extend {booking.id} 1-day", ""),
        (f"End #{booking.id} now", f"end {booking.id}", "danger")]
    assert fallback.sent == []
    with uow() as unit:
        [sent] = unit.outbox.sent(booking.id)
        assert unit.outbox.sent(booking.id + 1) == []
        row_sent_at = unit.outbox.due(clock.now + timedelta(days=1), 10)
    assert sent.id == kept and sent.attempts == 1
    assert PASSWORD_PLACEHOLDER in sent.text  # the database never holds the password
    assert sent.actions[1] == {"label": "End now", "command": f"end {booking.id}", "style": "danger"}
    assert sent.created_at == NOW and sent.created_at.tzinfo is not None
    assert row_sent_at == []
    with engine.connect() as connection:
        sent_at, channel = connection.execute(
            text("SELECT sent_at, channel FROM outbox WHERE id = :id"), {"id": kept}).one()
    assert channel == "chat"
    assert sent_at is not None


def test_outbox_retries_a_chat_outage_later_and_leaves_other_servers_alone(
    engine: Engine,
) -> None:
    uow = _units(engine)
    other = _units(engine, "other-server")
    assert (_book(uow).id, _book(other).id) == (1, 2)
    with uow() as unit:
        enqueue(unit.outbox, "bob", _ready(1), NOW)
        unit.commit()
    with other() as unit:
        enqueue(unit.outbox, "bob", _ready(2), NOW)
        unit.commit()
    chat, fallback = FlakyNotifier(failures=1), RecordingNotifier()
    clock = Clock(NOW)
    sender = OutboxSender(uow=uow, passwords=PasswordDeriver(SECRET), notifiers=[("chat", chat)],
                          fallback=("log", fallback), clock=clock)

    assert sender.flush() == 0  # the chat refused: retried after a backoff
    with uow() as unit:
        assert unit.outbox.due(NOW + timedelta(seconds=4), 10) == []
        [waiting] = unit.outbox.due(NOW + timedelta(seconds=5), 10)
    assert waiting.attempts == 1
    clock.now = NOW + timedelta(seconds=5)
    assert sender.flush() == 1
    assert [m.booking_id for _, m in chat.sent] == [1]  # not the other server's message
    with other() as unit:
        assert [i.booking_id for i in unit.outbox.due(clock.now, 10)] == [2]


# ----- one scheduler per database ------------------------------------------------


def test_one_scheduler_lock_per_server_and_database_released_on_close(
    database_url: str, engine: Engine
) -> None:
    migrate(engine)
    server_id = ensure_server(engine, "lab")
    other_server = ensure_server(engine, "other-lab")
    second = make_engine(database_url)  # as another `booking serve` process would
    try:
        held = try_scheduler_lock(engine, server_id)
        assert held is not None
        assert try_scheduler_lock(second, server_id) is None
        assert try_scheduler_lock(engine, server_id) is None  # another connection, same process
        elsewhere = try_scheduler_lock(second, other_server)
        assert elsewhere is not None  # another server's scheduler is not held up
        elsewhere.release()

        held.release()
        taken = try_scheduler_lock(second, server_id)
        assert taken is not None  # released on close, even with pooled connections
        assert try_scheduler_lock(engine, server_id) is None
        taken.release()
        again = try_scheduler_lock(engine, server_id)
        assert again is not None
        again.release()
    finally:
        second.dispose()


def test_a_second_lock_attempt_waits_until_the_first_is_released(
    database_url: str, engine: Engine
) -> None:
    migrate(engine)
    server_id = ensure_server(engine, "lab")
    second = make_engine(database_url)
    held = try_scheduler_lock(engine, server_id)
    assert held is not None
    got = threading.Event()

    def wait_for_lock() -> None:  # as serve's waiting loop does
        while (lock := try_scheduler_lock(second, server_id)) is None:
            threading.Event().wait(0.05)
        got.set()
        lock.release()

    waiter = threading.Thread(target=wait_for_lock, daemon=True)
    try:
        waiter.start()
        assert not got.wait(0.5)
        held.release()
        assert got.wait(5)
    finally:
        waiter.join(5)
        second.dispose()


def test_sqlite_lock_file_lies_beside_the_database(tmp_path: Path) -> None:
    database = tmp_path / "data" / "booking.db"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    server_id = ensure_server(engine, "lab")
    lock = try_scheduler_lock(engine, server_id)
    assert lock is not None
    assert (tmp_path / "data" / f"booking.db.scheduler-{server_id}.lock").exists()
    lock.release()
    engine.dispose()


def _cut_lock_connection(engine: Engine) -> None:
    """End the PostgreSQL session that holds advisory locks, as a server restart would."""
    with engine.connect() as connection:
        connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
        ))
        connection.commit()


@pytest.mark.postgres
def test_a_lock_lost_with_its_connection_is_taken_again_unless_another_scheduler_has_it(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    rival = make_engine(postgres_url)  # another `booking serve`
    try:
        migrate(engine)
        server_id = ensure_server(engine, "lab")
        held = try_scheduler_lock(engine, server_id)
        assert held is not None and held.ensure(engine)
        _cut_lock_connection(rival)
        assert held.ensure(engine)  # nobody took it: held again, on a new connection
        assert try_scheduler_lock(rival, server_id) is None
        _cut_lock_connection(rival)
        taken = try_scheduler_lock(rival, server_id)
        assert taken is not None
        assert not held.ensure(engine)  # the rival has it now: this scheduler must stop
        taken.release()
        held.release()
    finally:
        engine.dispose()
        rival.dispose()
