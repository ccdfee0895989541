"""`/capacity report [month | days]`: an admin gets the usage per member and a bar chart in
their DMs; a member is refused; a bad month says what works. `/capacity history N`: a
booking's events."""

from __future__ import annotations

import io

from PIL import Image

from bot.usage_chart import BAR, LEFT, TOP
from core.domain.model import Resources
from core.domain.usage import hours_within, month_period
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld


def test_an_admin_gets_the_months_usage_and_its_chart(world: SlackWorld):
    service = world.booking.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    zone = service.zone_of(None)
    month = f"{held.start.astimezone(zone):%Y-%m}"
    booked = hours_within(held.start, held.end, month_period(month, zone))

    world.slack.command(ALICE, "/capacity", f"report {month}")

    text = world.api.wait_for("response_url")[0].args["text"]
    lines = text.splitlines()
    assert lines[0].startswith(f"*gpu1*: usage {month} (<!date^")
    assert lines[1:3] == ["Per member:", f"• bob (1 booking): booked {booked:,.1f} GPU-h, "
                          f"{2 * booked:,.1f} CPU-h, {8 * booked:,.1f} GB-h; held "
                          + lines[2].split("; held ")[1]]
    assert "Cancelled:\nNone." in text and "No-shows (failed starts):\nNone." in text
    completed = world.api.wait_for("files.completeUploadExternal")[0].args
    assert completed["channel_id"] == "D" + ALICE
    [uploaded] = completed["files"]
    [upload] = [c for c in world.api.calls if c.method == f"upload/{uploaded['id']}"]
    assert world.api.of("files.getUploadURLExternal")[0].args["filename"] == "usage.png"
    chart = Image.open(io.BytesIO(upload.body)).convert("RGB")
    assert chart.getpixel((LEFT + 2, TOP + BAR // 2)) != (255, 255, 255)  # bob's bar


def test_a_member_is_refused_and_a_bad_month_says_what_works(world: SlackWorld):
    world.slack.command(BOB, "/capacity", "report")
    assert world.api.wait_for("response_url")[0].args["text"] == (
        "A usage report needs an admin (alice).")

    world.slack.command(ALICE, "/capacity", "report November")
    assert world.api.wait_for("response_url", count=2)[1].args["text"] == (
        "`November` is not a month; use YEAR-MONTH, such as 2026-11.")

    world.slack.command(ALICE, "/capacity", "help")
    assert world.api.wait_for("response_url", count=3)[2].args["text"].endswith(
        "`/capacity report [2026-11 | 2026-09-01 to 2026-11-30]`: usage per member for a month "
        "(default: this one) or a range of days, both included\n"
        "`/capacity history N`: everything recorded about booking N, oldest first")
    assert world.api.of("files.completeUploadExternal") == []


def test_a_range_of_days_and_a_bookings_history(world: SlackWorld):
    service = world.booking.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    service.cancel(held.id or 0, actor="alice")
    first = f"{held.start.astimezone(service.zone_of(None)):%Y-%m-%d}"

    world.slack.command(ALICE, "/capacity", f"report {first} to {first}")
    text = world.api.wait_for("response_url")[0].args["text"]
    assert text.startswith(f"*gpu1*: usage {first} to {first} (<!date^")
    assert f"Cancelled:\n• #{held.id} bob cpus=2 memory=8 gpus=1 " in text

    world.slack.command(ALICE, "/capacity", f"history {held.id}")
    lines = world.api.wait_for("response_url", count=2)[1].args["text"].splitlines()
    assert lines[0].startswith(f"#{held.id} [cancelled] bob cpus=2 memory=8 gpus=1 <!date^")
    assert lines[1] == "Events, oldest first:"
    assert lines[2].endswith(" created by bob") and " cancelled by alice" in lines[3]

    for said in ("history", "history 999", "report 2026-09-01 until 2026-11-30",
                 "report 2026-02-30 to 2026-03-01", "report 2026-03-02 2026-03-01"):
        world.slack.command(ALICE, "/capacity", said)
    answers = [c.args["text"] for c in world.api.wait_for("response_url", count=7)[2:]]
    assert answers == [
        "Say which booking: `/capacity history 12`.",
        "There is no booking #999; `/capacity` shows the current ones.",
        "`2026-09-01 until 2026-11-30` is not a month or a range of days; use `/capacity report` "
        "for this month, `/capacity report 2026-11`, or `/capacity report 2026-09-01 to "
        "2026-11-30`.",
        "The first day `2026-02-30` is not a date; use YEAR-MONTH-DAY, such as 2026-11-30.",
        "The last day 2026-03-01 is before the first day 2026-03-02; give the last day on or "
        "after the first."]
    world.slack.command(BOB, "/capacity", f"history {held.id}")
    assert world.api.wait_for("response_url", count=8)[7].args["text"] == (
        "A booking's history needs an admin (alice).")
