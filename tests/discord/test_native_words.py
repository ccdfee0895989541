"""Issue 12, "native-feeling", through discord.py against the stand-in: counts read as
English ("1 CPU"), the `days` ranges follow `max_days`, and a thanks gets a short answer."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image

from bot import bootstrap
from bot.charts import member_colours
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.discord.conftest import ALICE, BOB, GPUS, connected, slash


def _shown(calls: list[Any]) -> str:
    return "\n".join(c.answer["content"] for c in calls
                     if c.method == "POST" and "/webhooks/" in c.path)


def test_one_free_cpu_reads_1_cpu_in_free_and_in_the_summary(app: bootstrap.App) -> None:
    host = app.service.host
    app.service.set_limits("alice", {"cpus": "max"})
    app.service.book(BookingRequest("alice", Resources(host.cpus - 1, 1, 0), "now", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            free = _shown(await discord_.interact(slash(BOB, "schedule", "free", {"days": 2})))
            summary = _shown(await discord_.interact(
                slash(ALICE, "capacity", "summary", {"days": 2})))
            for content in (free, summary):
                assert f": 1 CPU, {host.memory - 1} GB, GPUs free: 0,1,2,3" in content
                assert "1 CPUs" not in content

    asyncio.run(scenario())


def test_every_days_option_ranges_up_to_max_days(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            sync = discord_.fake.find("PUT", r"/applications/\d+/commands")[-1]
            ranges = {}
            for command in sync.body:
                for sub in command["options"]:
                    for option in sub.get("options", []):
                        if option["name"] == "days":
                            ranges[f"/{command['name']} {sub['name']}"] = (
                                option["min_value"], option["max_value"])
            max_days = app.config.booking.max_days
            assert ranges == {"/schedule free": (1, max_days), "/capacity summary": (1, max_days)}

    asyncio.run(scenario())


def test_a_thanks_in_a_dm_gets_a_short_answer_not_the_help(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            (reply,) = await discord_.dm(BOB, "thanks!")
            assert reply.body["content"] == "You're welcome. Say `list` to see your bookings."

    asyncio.run(scenario())


def test_the_free_chart_gives_twelve_members_twelve_colours(app: bootstrap.App) -> None:
    names = [f"m{i:02d}" for i in range(12)]
    for i, name in enumerate(names):  # GPUS at a time, in three windows
        app.service.add_account(name, discord_id=str(7000 + i))
        start = ("now", "2-day", "4-day")[i // GPUS]
        app.service.book(BookingRequest(name, Resources(1, 1, 1), start, "1-day"))

    async def scenario() -> bytes:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(BOB, "schedule", "free", {"days": 6}))
            (shown,) = [c for c in calls if c.method == "POST" and "/webhooks/" in c.path]
            return shown.files["gpu-timeline.png"]

    png = asyncio.run(scenario())
    pixels = set(Image.open(io.BytesIO(png)).convert("RGB").getdata())
    wanted = {tuple(int(c[k:k + 2], 16) for k in (1, 3, 5))
              for c in member_colours(names).values()}
    assert len(wanted) == 12 and wanted <= pixels  # the old palette repeated after ten
