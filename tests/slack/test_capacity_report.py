"""`/capacity report [month]`: an admin gets the usage per member and a bar chart in their
DMs; a member is refused; a bad month says what works."""

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
        "`/capacity report [2026-11]`: usage per member for a month (default: this one)")
    assert world.api.of("files.completeUploadExternal") == []
