"""Autocomplete answers for `/schedule` options."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from tests.discord.conftest import ALICE, BOB, GPUS, connected, slash


def test_start_offers_now_and_when_the_gpus_free_up(app: bootstrap.App) -> None:
    service = app.service
    service.set_limits("alice", {"gpus": "max"})

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": GPUS}))
            (alices,) = service.bookings("alice")
            free_at = alices.end.astimezone(service.zone_of(service.account("bob")))

            choices = await discord_.choices(
                slash(BOB, "schedule", "book", {"gpus": 1, "start": ""}, focused="start"))
            values = [c["value"] for c in choices]
            assert values[0] == "now"
            assert f"{free_at:%Y %m %d %H %M}" in values
            offered = next(c for c in choices if c["value"] == f"{free_at:%Y %m %d %H %M}")
            assert "1 GPU" not in offered["name"] and f"{GPUS} GPUs" in offered["name"]

    asyncio.run(scenario())


def test_start_keeps_what_the_member_typed(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            choices = await discord_.choices(
                slash(BOB, "schedule", "book", {"start": "tomorrow 9am"}, focused="start"))
            assert choices[0] == {"name": "tomorrow 9am", "value": "tomorrow 9am"}

    asyncio.run(scenario())


def test_end_and_image_choices(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            ends = await discord_.choices(
                slash(BOB, "schedule", "book", {"start": "now", "end": ""}, focused="end"))
            assert [c["value"] for c in ends] == ["1-day", "3-day", "1-week"]
            weeks = await discord_.choices(
                slash(BOB, "schedule", "book", {"start": "now", "end": "week"}, focused="end"))
            assert [c["value"] for c in weeks] == ["week", "1-week"]
            images = await discord_.choices(
                slash(BOB, "schedule", "book", {"image": ""}, focused="image"))
            assert [c["value"] for c in images] == app.config.images.allowed

    asyncio.run(scenario())


def test_cancel_suggests_only_the_members_own_bookings(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book", {"start": "now", "end": "1-day"}))
            await discord_.reply(slash(BOB, "schedule", "book", {"start": "now", "end": "3-day"}))
            (bobs,) = service.bookings("bob")
            choices = await discord_.choices(
                slash(BOB, "schedule", "cancel", {"booking": ""}, focused="booking"))
            assert [c["value"] for c in choices] == [bobs.id]
            assert choices[0]["name"].startswith(f"#{bobs.id} ")

    asyncio.run(scenario())
