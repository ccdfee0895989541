"""`/capacity report [month]` in Discord: the usage per member with its bar chart; a member
is refused; a bad month says what works. A range of days, and `/capacity history N`."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from core.domain.model import Resources
from core.domain.usage import hours_within, month_period
from core.services.capacity import BookingRequest
from tests.discord.conftest import ALICE, BOB, connected, slash
from tests.discord.test_pool import pool  # noqa: F401  (the fixture: a pool of gpu1 and gpu2)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_an_admin_gets_the_report_with_its_chart_and_a_member_is_refused(
    app: bootstrap.App,
) -> None:
    service = app.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    cancelled = service.book(BookingRequest("bob", Resources(1, 4, 0), "2-day", "1-day"))
    service.cancel(cancelled.id or 0, actor="bob")
    zone = service.zone_of(None)
    month = f"{held.start.astimezone(zone):%Y-%m}"
    booked = hours_within(held.start, held.end, month_period(month, zone))

    async def scenario() -> None:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(ALICE, "capacity", "report", {"month": month}))
            (followup,) = [c for c in calls if c.path.startswith("/webhooks/")]
            lines = followup.body["content"].splitlines()
            assert lines[0].startswith(f"**gpu1**: usage {month} (<t:")
            assert lines[1] == "Per member:"
            assert lines[2].startswith(f"• `bob` (1 booking): booked {booked:,.1f} GPU-h, "
                                       f"{2 * booked:,.1f} CPU-h, {8 * booked:,.1f} GB-h; held ")
            cut = lines.index("Cancelled:")
            assert lines[cut + 1].startswith(f"• #{cancelled.id} `bob` cpus=1 memory=4 gpus=0 <t:")
            assert followup.body["flags"] == 64
            assert followup.body["attachments"][0]["filename"] == "usage.png"
            assert followup.files["usage.png"].startswith(PNG_MAGIC)

            refused = await discord_.reply(slash(BOB, "capacity", "report"))
            assert refused["content"] == "Only booking admins (alice) may use /capacity."
            bad = await discord_.reply(slash(ALICE, "capacity", "report", {"month": "2026-13"}))
            assert bad["content"] == "`2026-13` is not a month; use YEAR-MONTH, such as 2026-11."

    asyncio.run(scenario())


def test_a_range_of_days_and_a_bookings_history(app: bootstrap.App) -> None:
    service = app.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "2-day", "1-day"))
    service.cancel(held.id or 0, actor="alice")
    day = f"{held.start.astimezone(service.zone_of(None)):%Y-%m-%d}"

    async def scenario() -> None:
        async with connected(app) as discord_:
            report = await discord_.reply(slash(ALICE, "capacity", "report",
                                                {"month": f"{day} to {day}"}))
            assert report["content"].startswith(f"**gpu1**: usage {day} to {day} (<t:")
            assert f"Cancelled:\n• #{held.id} `bob` cpus=2 memory=8 gpus=1 <t:" in report["content"]

            history = await discord_.reply(slash(ALICE, "capacity", "history", {"booking": held.id}))
            lines = history["content"].splitlines()
            assert lines[0].startswith(f"#{held.id} [cancelled] `bob` cpus=2 memory=8 gpus=1 <t:")
            assert lines[1:2] == ["Events, oldest first:"]
            assert lines[2].endswith(" created by `bob`")
            assert " cancelled by `alice`" in lines[3]
            missing = await discord_.reply(slash(ALICE, "capacity", "history", {"booking": 999}))
            assert missing["content"] == "There is no booking #999; `/capacity` shows the current ones."
            refused = await discord_.reply(slash(BOB, "capacity", "history", {"booking": held.id}))
            assert refused["content"] == "Only booking admins (alice) may use /capacity."

    asyncio.run(scenario())


def test_in_a_pool_the_report_has_a_section_per_server_and_history_finds_gpu2(
    pool: bootstrap.App,  # noqa: F811
) -> None:
    service = pool.service
    on_gpu1 = service.book(BookingRequest("bob", Resources(2, 8, 2), "now", "1-day", server="gpu1"))
    on_gpu2 = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day", server="gpu2"))
    assert (on_gpu1.server, on_gpu2.server) == ("gpu1", "gpu2")

    async def scenario() -> None:
        async with connected(pool) as discord_:
            calls = await discord_.interact(slash(ALICE, "capacity", "report"))
            (followup,) = [c for c in calls if c.path.startswith("/webhooks/")]
            lines = followup.body["content"].splitlines()
            assert lines[0].startswith("**gpu1, gpu2**: usage "), lines[0]
            gpu1, gpu2 = lines.index("**gpu1** per member:"), lines.index("**gpu2** per member:")
            assert lines[gpu1 + 1].startswith("• `bob` (1 booking): booked ")
            assert lines[gpu1 + 2].startswith("• **Whole gpu1** (1 booking): booked ")
            assert lines[gpu2 + 2].startswith("• **Whole gpu2** (1 booking): booked ")
            assert lines[gpu2 + 3].startswith("• **Whole pool** (2 bookings): booked ")
            assert followup.files["usage.png"].startswith(PNG_MAGIC)

            history = await discord_.reply(slash(ALICE, "capacity", "history",
                                                 {"booking": on_gpu2.id}))
            assert history["content"].startswith(f"#{on_gpu2.id} on gpu2 [booked] `bob` "), history

    asyncio.run(scenario())
