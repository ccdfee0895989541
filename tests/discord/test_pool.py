"""Discord in a pool of two servers (issue 14): `/schedule book` gets a `server` option
with the pool's names (one server: none), and books on the server chosen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import bootstrap
from bot.discord.client import BookingBot
from tests.discord.conftest import BOB, connected, slash
from tests.discord.test_command_tree import _options, _payload, rule_breaks
from tests.support.pool_config import write_pool_config


@pytest.fixture
def pool(tmp_path: Path) -> bootstrap.App:
    built = bootstrap.build(bootstrap.Environment(
        booking_config=write_pool_config(tmp_path / "booking.yaml"),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        booking_secret="a test secret of enough bytes", booking_data_dir=tmp_path))
    built.service.add_account("alice", admin=True, discord_id="1001")
    built.service.add_account("bob", discord_id=str(BOB))
    return built


def test_the_server_option_lists_the_pool_and_one_server_has_none(
    pool: bootstrap.App, app: bootstrap.App,
) -> None:
    payload = _payload(BookingBot(pool))
    assert [b for command in payload for b in rule_breaks(command)] == []
    server = _options(payload, "schedule", "book")["server"]
    assert [c["value"] for c in server["choices"]] == ["gpu1", "gpu2"]
    assert not server.get("required")
    assert "server" not in _options(_payload(BookingBot(app)), "schedule", "book")


def test_book_on_gpu2_lands_there_and_says_so(pool: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(pool) as discord_:
            booked = await discord_.reply(slash(BOB, "schedule", "book", {
                "gpus": 1, "start": "now", "end": "1-day", "server": "gpu2"}))
            assert "#1 on gpu2" in booked["content"], booked["content"]
    asyncio.run(scenario())
    assert [b.server for b in pool.service.bookings("bob")] == ["gpu2"]
