"""The board channel (issue 12): one message with what runs, what comes and what is free,
edited as bookings change and never posted again, also after a restart."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot import bootstrap
from bot.discord.adapter import discord_adapter_from_env
from bot.discord.board import Board
from core.chat.board import MOST_SHOWN
from core.domain.model import Resources, Status
from core.services.capacity import BookingRequest
from tests.discord.conftest import GPUS, connected

BOARD = 900000000000000077  # the board channel's id


def test_the_board_is_posted_once_and_edited_as_bookings_change(app: bootstrap.App) -> None:
    service = app.service
    server = app.config.server.name

    async def scenario() -> None:
        async with connected(app) as discord_:
            fake = discord_.fake
            posts = lambda: fake.find("POST", f"/channels/{BOARD}/messages")  # noqa: E731
            edits = lambda: fake.find("PATCH", rf"/channels/{BOARD}/messages/\d+")  # noqa: E731
            board = Board(discord_.bot, service, BOARD)
            await board.refresh()
            (post,) = posts()
            first = post.answer
            assert first["content"].split("\n")[:5] == [
                f"**Bookings on {server}**",
                f"Free now: {service.host.cpus:g} CPUs, {service.host.memory} GB, "
                f"{GPUS} GPUs (GPU ids 0,1,2,3).",
                "Running:", "- nothing", "Upcoming:"]

            running = service.book(BookingRequest("bob", Resources(2, 4, 1), "now", "1-day"))
            with service.unit() as uow:
                uow.bookings.save(replace(running, status=Status.RUNNING))
                uow.commit()
            later = service.book(BookingRequest("carol", Resources(1, 1, 1), "2-day", "1-day"))
            await board.refresh()
            assert len(posts()) == 1 and len(edits()) == 1
            shown = fake.seen(first["id"])["content"]
            assert f"- #{running.id} bob: 2 CPUs, 4 GB, 1 GPU (GPU 0), until <t:" in shown
            assert f"- #{later.id} carol: 1 CPU, 1 GB, 1 GPU (GPU " in shown
            assert f"<t:{int(later.start.timestamp())}:f> → <t:{int(later.end.timestamp())}:f>" in shown
            assert "GPU ids 1,2,3" in shown

            await board.refresh()  # nothing changed: nothing sent
            assert len(edits()) == 1

            service.cancel(later.id or 0, actor="carol")
            again = Board(discord_.bot, service, BOARD)  # the service restarted
            await again.refresh()
            assert len(posts()) == 1 and len(edits()) == 2
            assert f"#{later.id} " not in fake.seen(first["id"])["content"]

            del fake.messages[first["id"]]  # someone deleted the board
            service.cancel(running.id or 0, actor="bob")
            await again.refresh()
            assert len(posts()) == 2
            assert fake.find("POST", f"/channels/{BOARD}/messages")[-1].answer["content"].startswith(
                f"**Bookings on {server}**")

    asyncio.run(scenario())


def test_a_long_board_says_how_many_more_there_are(app: bootstrap.App) -> None:
    for user in ("bob", "carol"):
        for day in range(1, MOST_SHOWN // 2 + 2):
            app.service.book(BookingRequest(user, Resources(1, 1, 0), f"{day}-day", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            board = Board(discord_.bot, app.service, BOARD)
            await board.refresh()
            content = discord_.fake.find("POST", f"/channels/{BOARD}/messages")[0].answer["content"]
            upcoming = content.split("Upcoming:\n")[1].split("\n")
            assert len([line for line in upcoming if line.startswith("- #")]) == MOST_SHOWN
            assert f"- and {2 * (MOST_SHOWN // 2 + 1) - MOST_SHOWN} more: `/schedule free`" in content
            assert len(content) <= 2000

    asyncio.run(scenario())


def test_the_board_channel_comes_from_the_configs_discord_board_channel(
    app: bootstrap.App, tmp_path: Path,
) -> None:
    without = discord_adapter_from_env(app, bootstrap.Environment(discord_token="t"))
    assert without is not None and without._board_channel is None
    config = yaml.safe_load(Path("cfg/booking.yaml").read_text())
    config["discord"] = {"board_channel": BOARD}
    path = tmp_path / "with-board.yaml"
    path.write_text(yaml.safe_dump(config))
    environment = bootstrap.Environment(
        discord_token="t", booking_config=path,
        booking_database_url=f"sqlite:///{tmp_path / 'board.db'}", booking_data_dir=tmp_path)
    adapter = discord_adapter_from_env(bootstrap.build(environment), environment)
    assert adapter is not None and adapter._board_channel == BOARD


def test_a_channel_the_bot_cannot_use_is_one_log_line_naming_the_setting(
    app: bootstrap.App, caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            discord_.fake.hidden_channels.add(BOARD)
            board = Board(discord_.bot, app.service, BOARD)
            with caplog.at_level(logging.ERROR, logger="bot.discord.board"):
                await board.tick()
                await board.tick()
            (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.discord.board"]
            assert f"discord.board_channel={BOARD}" in line and "403" in line

            discord_.fake.hidden_channels.clear()  # the admin fixed the permissions
            await board.tick()
            assert discord_.fake.find("POST", f"/channels/{BOARD}/messages")[-1].answer

    asyncio.run(scenario())
