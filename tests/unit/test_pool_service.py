"""A pool of servers (config `servers:`) through the service the chat adapters and the CLI
call, on real SQLite and PostgreSQL: a request that names a server is booked there, one
that names none goes where it fits leaving the least free, a refusal says what each
server is short of and offers the earliest start on any, and what concerns one booking
reaches the booking's own server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot import bootstrap
from core.domain.allocation import usage_in
from core.domain.gpus import links_from_text, links_text
from core.domain.model import ErrorCode, Refusal, Resources
from core.domain.server_health import ServerHealth
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.pool import BookingPool
from storage.heartbeat import record_heartbeat
from storage.uow import ensure_server

SECRET = "pool-test-secret-0123456789abcdef"


def pool_config(**extra: Any) -> dict[str, Any]:
    return {
        "servers": [
            {"name": "big", "public_host": "big.lab", "timezone": "Asia/Taipei",
             "capacity": {"cpus": 32, "ram": 64, "gpus": 4}},
            {"name": "small", "public_host": "small.lab", "timezone": "Asia/Taipei",
             "capacity": {"cpus": 16, "ram": 32, "gpus": 2}},
        ],
        "booking": {"ports": [10001, 10100]},
        "images": {"default": "lab/gpu:latest", "allowed": ["lab/gpu:latest"]},
        "limits": {"default": {"cpus": 16, "memory": 32, "gpus": 4}},
        "admins": ["root"],
        **extra,
    }


def build(tmp_path: Path, database_url: str, data: dict[str, Any]) -> bootstrap.App:
    config = tmp_path / "booking.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return bootstrap.build(bootstrap.Environment(
        booking_config=config, booking_database_url=database_url,
        booking_data_dir=tmp_path, booking_secret=SECRET))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'booking.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def pool(tmp_path: Path, database_url: str) -> BookingService:
    service = build(tmp_path, database_url, pool_config()).service
    for name in ("ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"):
        service.add_account(name)
    return service


def ask(user: str, gpus: int, *, server: str | None = None, start: str = "in 3 days",
        end: str = "1-day", cpus: float = 2, memory: int = 4) -> BookingRequest:
    return BookingRequest(user=user, resources=Resources(cpus, memory, gpus), start=start,
                          end=end, server=server)


def test_a_pool_config_builds_a_pool_and_one_server_builds_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    pool = build(tmp_path, url, pool_config()).service
    assert isinstance(pool, BookingPool)
    assert sorted(pool.servers()) == ["big", "small"]
    assert pool.servers()["small"].host == Resources(16, 32, 2)
    assert pool.servers()["small"].config.server.public_host == "small.lab"
    alone = build(tmp_path, f"sqlite:///{tmp_path / 'two.db'}", {
        "server": {"name": "solo", "timezone": "Asia/Taipei"},
        "capacity": {"cpus": 8, "ram": 16, "gpus": 1},
        "images": {"default": "a", "allowed": ["a"]},
    }).service
    assert not isinstance(alone, BookingPool)
    assert list(alone.servers()) == ["solo"]
    alone.add_account("ann")
    booked = alone.book(ask("ann", 1, cpus=1))
    assert booked.server == "solo" and alone.get(booked.id or 0).server == "solo"


def test_a_named_server_gets_the_booking(pool: BookingService) -> None:
    booked = pool.book(ask("ann", 1, server="big"))
    assert booked.server == "big"
    assert pool.get(booked.id or 0, actor="ann").server == "big"
    assert [(b.id, b.server) for b in pool.bookings("ann")] == [(booked.id, "big")]


def test_an_unnamed_request_goes_where_it_leaves_least_free(pool: BookingService) -> None:
    # Both servers are empty: two GPUs fill the small one and keep the big one whole.
    assert pool.book(ask("ann", 2)).server == "small"
    # The small one is full now: the next goes to the big one.
    assert pool.book(ask("ben", 2)).server == "big"
    # Four GPUs never fit the small one, whatever is free there.
    with pytest.raises(Refusal) as caught:
        pool.book(ask("cat", 4))
    assert caught.value.code == ErrorCode.NO_CAPACITY
    assert "small" not in caught.value.reason


def test_fitting_nowhere_says_what_each_server_lacks_and_offers_the_earliest(
    pool: BookingService,
) -> None:
    pool.book(ask("ann", 4, server="big", end="2-day"))
    small = pool.book(ask("ben", 2, server="small", end="1-day"))
    with pytest.raises(Refusal) as caught:
        pool.book(ask("cat", 2))
    refusal = caught.value
    assert refusal.message.startswith("No server has room for that. big: Not enough free")
    assert " small: Not enough free" in refusal.message
    # The small server frees up first (after one day), so the offer is there.
    assert refusal.server == "small"
    assert refusal.earliest_start == small.end
    assert refusal.message.endswith("on small.")
    # Booking the offer on that server works.
    typed = small.end.astimezone(ZoneInfo("Asia/Taipei")).strftime("%Y %m %d %H %M")
    offered = pool.book(BookingRequest(
        user="cat", resources=Resources(2, 4, 2), start=typed, end="1-day",
        server=refusal.server))
    assert offered.server == "small" and offered.start == refusal.earliest_start


def test_an_unknown_server_is_refused_with_the_names(pool: BookingService) -> None:
    with pytest.raises(Refusal) as caught:
        pool.book(ask("ann", 1, server="gpu9" * 30))
    assert caught.value.code == ErrorCode.BAD_INPUT
    assert caught.value.message.endswith("the servers are big, small.")
    assert len(caught.value.message) < 120


def test_changes_to_a_booking_reach_its_own_server(pool: BookingService) -> None:
    on_small = pool.book(ask("ann", 1, server="small"))
    on_big = pool.book(ask("ben", 1, server="big"))
    extended = pool.extend(on_small.id or 0, "1-day", actor="ann")
    assert extended.server == "small" and extended.end == on_small.end + (on_small.end - on_small.start)
    cancelled = pool.cancel(on_big.id or 0, actor="ben")
    assert cancelled.status.value == "cancelled"
    assert [b.id for b in pool.bookings()] == [on_small.id]
    # Someone else's booking, on any server, is answered as one that does not exist.
    with pytest.raises(Refusal) as caught:
        pool.cancel(on_small.id or 0, actor="ben")
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_a_members_own_port_is_theirs_on_every_server(pool: BookingService) -> None:
    first = pool.book(ask("ann", 1, server="big"))
    second = pool.book(ask("ann", 1, server="small", start="in 6 days"))
    assert second.port == first.port
    # Another member never gets it on the other server while a port of their own is free.
    assert pool.book(ask("ben", 1, server="small", start="in 6 days")).port != first.port


def test_concurrent_unnamed_requests_never_overbook(pool: BookingService) -> None:
    members = ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"]
    booked: list[Any] = []
    refused: list[Refusal] = []
    guard = threading.Lock()

    def one(user: str) -> None:
        try:
            result = pool.book(ask(user, 1))
            with guard:
                booked.append(result)
        except Refusal as refusal:
            with guard:
                refused.append(refusal)

    threads = [threading.Thread(target=one, args=(user,)) for user in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(booked) == 6 and len(refused) == 2  # 4 + 2 GPUs
    assert all(r.code == ErrorCode.NO_CAPACITY for r in refused)
    for server, service in pool.servers().items():
        held = [b for b in pool.bookings() if b.server == server]
        usage = usage_in(held[0].window, held) if held else None
        assert usage is None or len(usage.busy_gpus) == len(held) <= service.host.gpus


def test_a_remote_auto_server_is_counted_from_its_heartbeat(tmp_path: Path) -> None:
    data = pool_config()
    data["servers"][1]["capacity"]["gpus"] = "auto"
    url = f"sqlite:///{tmp_path / 'auto.db'}"
    app = build(tmp_path, url, data)
    pool = app.service
    assert isinstance(pool, BookingPool)
    pool.add_account("ann")
    # Not heard from yet: none of its GPUs is booked.
    assert pool.servers()["small"].host.gpus == 0
    with pytest.raises(Refusal):
        pool.book(ask("ann", 1, server="small"))
    # Its host beats with what NVML read there: the pool counts them from then on.
    pool.heard([ServerHealth("small", pool.now(), gpus=2, nvlinks=frozenset({frozenset({0, 1})})),
                ServerHealth("big", pool.now(), gpus=99)])
    assert pool.servers()["small"].host.gpus == 2
    assert pool.servers()["small"].inventory.nvlinks == {frozenset({0, 1})}
    assert pool.servers()["big"].host.gpus == 4  # configured: a number stays
    assert pool.book(ask("ann", 2, server="small")).gpu_ids == (0, 1)
    # A process started later reads the last beat at once.
    assert app.engine is not None
    record_heartbeat(app.engine, ensure_server(app.engine, "small"), gpus=3, host="small",
                     now=pool.now(), nvlinks=frozenset({frozenset({1, 2})}))
    again = build(tmp_path, url, data).service
    assert again.servers()["small"].host.gpus == 3
    assert again.servers()["small"].inventory.nvlinks == {frozenset({1, 2})}


def test_the_pool_reads_every_servers_heartbeat(tmp_path: Path) -> None:
    app = build(tmp_path, f"sqlite:///{tmp_path / 'health.db'}", pool_config())
    assert app.engine is not None
    assert [(h.name, h.seen_at) for h in app.service.health()] == [("big", None), ("small", None)]
    now = app.service.now()
    record_heartbeat(app.engine, app.server_id, gpus=4, host="big", now=now)
    health = {h.name: h for h in app.service.health()}
    assert health["big"].seen_at == now and not health["big"].is_down(now)
    assert health["small"].is_down(now)


def test_an_unnamed_request_keeps_clear_of_a_servers_maintenance(pool: BookingService) -> None:
    # Both empty, two GPUs would fill the small server; its maintenance then sends them on.
    pool.on("small").add_maintenance("in 2 days", "3-day", None, "new fans", actor=None)
    decided: list[Refusal | None] = []

    class Decisions:
        def observe(self, action: str, seconds: float, refusal: Refusal | None) -> None:
            decided.append(refusal)

    pool.observe_decisions(Decisions())
    assert pool.book(ask("ann", 2)).server == "big"
    assert decided == [None]  # chosen at once: the small server was never tried
    # A window elsewhere in time leaves it as before.
    assert pool.book(ask("ben", 2, start="in 7 days")).server == "small"


def test_fitting_nowhere_blames_a_servers_maintenance(pool: BookingService) -> None:
    pool.book(ask("ann", 4, server="big", end="2-day"))
    pool.on("small").add_maintenance("in 3 days", "1-day", None, "new fans", actor=None)
    with pytest.raises(Refusal) as caught:
        pool.book(ask("cat", 2))
    big, small = caught.value.reason.split(" small: ")
    assert big.startswith("No server has room for that. big: Not enough free")
    assert small.startswith("That window overlaps maintenance") and "new fans" in small
    # The maintenance ends after one day, before the big server frees up: offered there.
    assert caught.value.server == "small"


def test_another_servers_nvlink_pairs_come_with_its_heartbeat(tmp_path: Path) -> None:
    data = pool_config()
    data["servers"][1]["capacity"]["gpus"] = 4  # a number in the file: the count stays
    url = f"sqlite:///{tmp_path / 'links.db'}"
    app = build(tmp_path, url, data)
    assert app.engine is not None
    app.service.add_account("ann")
    # Its host read GPUs 2 and 3 joined by NVLink: a two-GPU booking there gets them.
    record_heartbeat(app.engine, ensure_server(app.engine, "small"), gpus=4, host="small",
                     now=app.service.now(), nvlinks=frozenset({frozenset({2, 3})}))
    pool = build(tmp_path, url, data).service
    assert pool.book(ask("ann", 2, server="small")).gpu_ids == (2, 3)


def test_nvlink_pairs_written_and_read_back() -> None:
    pairs = frozenset({frozenset({0, 1}), frozenset({3, 2})})
    assert links_text(pairs) == "0-1,2-3"
    assert links_from_text("0-1,2-3", 4) == pairs
    # Only pairs of GPUs the host has, and nothing else, whatever the row holds.
    assert links_from_text("0-1,2-9,3-3,x-1,-,1-2-3," + "9" * 5000, 4) == {frozenset({0, 1})}
    assert links_from_text(None, 4) == frozenset()
