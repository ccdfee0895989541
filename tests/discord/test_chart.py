"""The timeline chart /schedule free and /capacity attach gives every member their own
colour (issue 12: the palette repeated after ten members)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from bot.charts import PALETTE, gpu_timeline_png, member_colours
from core.domain.model import Booking, Resources, Status


def test_no_two_members_share_a_colour() -> None:
    owners = [f"member{i:02d}" for i in range(40)]
    colours = member_colours(owners)
    assert len(set(colours.values())) == 40
    assert [colours[o] for o in owners[:len(PALETTE)]] == list(PALETTE)


def test_a_chart_of_twelve_members_draws_twelve_colours() -> None:
    start = datetime(2026, 12, 2, tzinfo=UTC)
    bookings = [
        Booking(id=i + 1, account=f"member{i:02d}", resources=Resources(1, 1, 1),
                start=start + timedelta(hours=2 * i), end=start + timedelta(hours=2 * i + 2),
                status=Status.BOOKED, gpu_ids=(i % 4,), port=10001 + i, image="ubuntu")
        for i in range(12)
    ]
    png = gpu_timeline_png(bookings, 4, start, start + timedelta(days=1), UTC, "gpu1")
    pixels = set(Image.open(io.BytesIO(png)).convert("RGB").getdata())
    wanted = {tuple(int(c[k:k + 2], 16) for k in (1, 3, 5))
              for c in member_colours([b.account for b in bookings]).values()}
    assert wanted <= pixels
