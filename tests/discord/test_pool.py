"""Discord in a pool of two servers (issue 14): `/schedule book` gets a `server` option
with the pool's names (one server: none), and books on the server chosen; /capacity and the
board say which server is down, and the chart has a panel per server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot import bootstrap
from bot.discord.board import Board
from bot.discord.client import BookingBot
from bot.discord.schedule import schedule_group
from tests.discord.conftest import ALICE, BOB, connected, slash
from tests.discord.test_command_tree import _options, _payload, rule_breaks
from tests.support.heartbeats import beat
from tests.support.pool_charts import assert_panel_per_server
from tests.support.pool_config import build_pool, write_pool_config


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


def test_capacity_and_the_board_say_which_server_is_down(pool: bootstrap.App) -> None:
    assert pool.engine is not None
    beat(pool.engine, "gpu1")  # gpu1's serve beats; gpu2's never has
    minute = lambda at: int(at.replace(second=0, microsecond=0).timestamp())  # noqa: E731

    async def scenario() -> None:
        async with connected(pool) as discord_:
            await discord_.reply(slash(BOB, "schedule", "book", {
                "gpus": 1, "start": "now", "end": "1-day", "server": "gpu2"}))
            silent = beat(pool.engine, "gpu2", timedelta(minutes=2))  # type: ignore[arg-type]
            calls = await discord_.interact(slash(ALICE, "capacity", "summary", {"days": 2}))
            (followup,) = [c for c in calls if c.path.startswith("/webhooks/")]
            lines = followup.body["content"].splitlines()
            assert lines[:2] == ["**2 servers**: gpu1, gpu2", "• gpu1: up"], lines[:3]
            assert lines[2] == f"• gpu2: down, not heard from since <t:{minute(silent)}:f>"
            assert "**gpu1**: 62 CPUs, 40 GB, 4 GPUs. Free in the next 2 days:" in lines
            assert (f"**gpu2** — **down**, not heard from since <t:{minute(silent)}:f> (62 CPUs, "
                    "40 GB, 2 GPUs). Free in the next 2 days:") in lines, lines
            assert followup.body["attachments"][0]["filename"] == "gpu-timeline.png"
            assert_panel_per_server(followup.files["gpu-timeline.png"], {"gpu1": 4, "gpu2": 2},
                                    holder_on="gpu2")

            board = Board(discord_.bot, pool.service, 900000000000000077)
            await board.refresh()
            (post,) = discord_.fake.find("POST", "/channels/900000000000000077/messages")
            shown = post.answer["content"].splitlines()
            assert "__gpu1__: up" in shown, shown
            assert (f"__gpu2__: **down**, not heard from since <t:{minute(silent)}:f> "
                    f"(<t:{minute(silent)}:R>)") in shown, shown  # and how long ago
    asyncio.run(scenario())


def test_a_server_never_heard_from_is_down_yet_and_one_server_shows_no_state(
    pool: bootstrap.App, app: bootstrap.App,
) -> None:
    assert pool.engine is not None
    beat(pool.engine, "gpu2")

    async def scenario() -> None:
        async with connected(pool) as discord_:
            calls = await discord_.interact(slash(ALICE, "capacity", "summary", {"days": 2}))
            (followup,) = [c for c in calls if c.path.startswith("/webhooks/")]
            lines = followup.body["content"].splitlines()
            assert lines[1:3] == ["• gpu1: down, not heard from yet", "• gpu2: up"]
            assert ("**gpu1** — **down**, not heard from yet (62 CPUs, 40 GB, 4 GPUs). Free in "
                    "the next 2 days:") in lines
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(ALICE, "capacity", "summary", {"days": 2}))
            (followup,) = [c for c in calls if c.path.startswith("/webhooks/")]
            content = followup.body["content"]
            assert content.startswith("**gpu1**: 62 CPUs, 40 GB, 4 GPUs\nFree in the next 2 days:")
            assert " up" not in content and "down" not in content
    asyncio.run(scenario())


def test_the_command_describes_the_pool_not_one_server(tmp_path: Path) -> None:
    app = build_pool(tmp_path)
    group = schedule_group(app.service, app.conversation, respond=None)  # type: ignore[arg-type]
    assert group.description == "Book CPUs, memory and GPUs on the lab's servers"
