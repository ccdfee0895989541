"""Every time a member reads in Discord is a Discord timestamp (shown in the reader's own
zone), and `/schedule free` shows any member what is free and who holds which GPU."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import bootstrap
from bot.discord.render import stamped
from core.domain.model import Booking, Resources, Status
from core.services.capacity import BookingRequest
from tests.discord.conftest import ALICE, BOB, GPUS, connected, slash


def _f(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:f>"


def _window(booking: Booking) -> str:
    return f"{_f(booking.start)} → {_f(booking.end)}"


def test_booked_and_listed_windows_are_timestamps_in_replies_and_dms(app: bootstrap.App) -> None:
    app.service.set_timezone("bob", "Europe/Berlin")

    async def scenario() -> None:
        async with connected(app) as discord_:
            booked = await discord_.reply(slash(BOB, "schedule", "book",
                                                {"start": "now", "end": "1-day", "gpus": 1}))
            (booking,) = app.service.bookings("bob")
            assert booked["content"].startswith(
                f"Booked: #{booking.id} [booked] bob: {_window(booking)}, ")
            listed = await discord_.reply(slash(BOB, "schedule", "list"))
            assert _window(booking) in listed["content"]
            (dm,) = await discord_.dm(BOB, "list")
            assert _window(booking) in dm.body["content"]
            for content in (booked["content"], listed["content"], dm.body["content"]):
                assert "->" not in content and "CET" not in content

    asyncio.run(scenario())


def test_the_earliest_start_offered_is_a_timestamp_with_how_long_until_it(
    app: bootstrap.App,
) -> None:
    app.service.set_limits("alice", {"gpus": "max"})

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": GPUS}))
            (alices,) = app.service.bookings("alice")
            offer = await discord_.reply(slash(BOB, "schedule", "book",
                                               {"start": "now", "end": "1-day", "gpus": 1}))
            end = int(alices.end.timestamp())
            assert (f"The earliest start that fits is <t:{end}:f> (<t:{end}:R>). "
                    "Shall I book it then?") in offer["content"]

    asyncio.run(scenario())


def test_any_member_sees_what_is_free_and_who_holds_which_gpu(app: bootstrap.App) -> None:
    app.service.set_limits("alice", {"gpus": "max"})

    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(ALICE, "schedule", "book",
                                       {"start": "now", "end": "1-day", "gpus": 2}))
            (alices,) = app.service.bookings("alice")
            calls = await discord_.interact(slash(BOB, "schedule", "free", {"days": 2}))
            (shown,) = [c for c in calls if c.method == "POST" and "/webhooks/" in c.path]
            content = shown.answer["content"]
            assert shown.answer["flags"] & 64  # only bob sees it
            assert "Free in the next 2 days:" in content
            assert f"{_f(alices.start)} → {_f(alices.end)}: " in content
            assert "GPUs free: 2,3" in content
            assert f"GPU 0: `alice` (#{alices.id}) from {_f(alices.start)} until" in content
            assert list(shown.files) == ["gpu-timeline.png"]
            assert app.service.bookings("alice") == [alices]  # read only

    asyncio.run(scenario())


def test_the_free_days_range_follows_max_days(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            sync = discord_.fake.find("PUT", r"/applications/\d+/commands")[-1]
            (schedule,) = [c for c in sync.body if c["name"] == "schedule"]
            (free,) = [o for o in schedule["options"] if o["name"] == "free"]
            (days,) = free["options"]
            assert (days["min_value"], days["max_value"]) == (1, app.config.booking.max_days)

    asyncio.run(scenario())


def test_an_hour_that_comes_twice_is_read_in_the_offset_it_names() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = datetime(2026, 10, 25, 2, 30, tzinfo=berlin, fold=0)
    winter = datetime(2026, 10, 25, 2, 30, tzinfo=berlin, fold=1)
    said = stamped("from 2026-10-25 02:30 CEST -> 2026-10-25 02:30 CET.", berlin)
    assert said == f"from {_f(summer)} → {_f(winter)}."
    assert stamped("not a time: 2026-10-25 02:30 XYZ", berlin).endswith("02:30 XYZ")


def test_a_login_is_an_embed_with_host_port_user_password_and_ssh_and_its_end_a_timestamp(
    app: bootstrap.App,
) -> None:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with app.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    config = app.config
    host, port, user = config.server.public_host, booking.port, config.container.user

    async def scenario() -> None:
        async with connected(app) as discord_:
            login = await discord_.reply(slash(BOB, "schedule", "login", {"booking": booking.id}))
            assert login["content"] == (f"Booking #{booking.id} runs until {_f(booking.end)} "
                                        f"(<t:{int(booking.end.timestamp())}:R>). Log in with:")
            (card,) = login["embeds"]
            fields = {f["name"]: f["value"] for f in card["fields"]}
            assert list(fields) == ["host", "port", "user", "password", "ssh command"]
            assert fields["host"] == f"`{host}`" and fields["port"] == f"`{port}`"
            assert fields["user"] == f"`{user}`"
            assert re.fullmatch(r"`\S{8,}`", fields["password"])
            assert fields["ssh command"] == f"```\nssh -p {port} {user}@{host}\n```"
            assert login["flags"] & 64  # only the member sees it

    asyncio.run(scenario())


def test_help_keeps_its_table_in_a_code_block(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(BOB, "schedule", "help"))
            shown = [c.body["data"] for c in calls if c.path.endswith("/callback")]
            shown += [c.answer for c in calls if c.path.startswith("/webhooks/")]
            assert all(m["flags"] & 64 for m in shown)  # only the member sees them
            assert all(len(m["content"]) <= 2000 for m in shown)  # nothing cut, nothing lost
            content = "\n".join(m["content"] for m in shown)
            assert "**/schedule free** [days]: what is free" in content
            assert "What I understand:\n```\nbook 1 gpu" in content  # aligned as written
            assert "abort                               forget the request" in content
            assert "…" not in content

    asyncio.run(scenario())
