"""The GPU timeline chart shows who holds which GPU when."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from bot.charts import LEFT, PALETTE, RIGHT, ROW, TOP, WIDTH, gpu_timeline_png
from core.domain.model import Booking, Resources

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def booking(n: int, account: str, gpus: tuple[int, ...], hours: tuple[int, int]) -> Booking:
    return Booking(account=account, start=START + timedelta(hours=hours[0]),
                   end=START + timedelta(hours=hours[1]), resources=Resources(2, 8, len(gpus)),
                   gpu_ids=gpus, port=10000 + n, image="img", id=n)


def pixel(png: bytes, gpu: int, hour: float, span_hours: float) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x = LEFT + (WIDTH - LEFT - RIGHT) * hour / span_hours
    return image.getpixel((int(x), TOP + gpu * ROW + ROW // 2))  # type: ignore[return-value]


def colour(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_each_members_bars_sit_on_their_gpus_for_their_hours():
    bookings = [booking(1, "alice", (0, 1), (0, 24)), booking(2, "bob", (2,), (36, 60))]

    png = gpu_timeline_png(bookings, 4, START, START + timedelta(days=3), ZoneInfo("Asia/Taipei"),
                           "gpu1")

    assert pixel(png, 0, 20, 72) == colour(PALETTE[0])  # alice, first in name order
    assert pixel(png, 1, 20, 72) == colour(PALETTE[0])
    assert pixel(png, 2, 20, 72) != colour(PALETTE[1])  # bob starts at hour 36
    assert pixel(png, 2, 50, 72) == colour(PALETTE[1])
    assert pixel(png, 3, 50, 72) not in (colour(PALETTE[0]), colour(PALETTE[1]))


def test_a_busy_server_is_drawn_quickly():
    bookings = [booking(n, f"member{n % 12}", (n % 8,), (n, n + 5)) for n in range(200)]
    began = time.perf_counter()
    png = gpu_timeline_png(bookings, 8, START, START + timedelta(days=14), UTC, "busy")
    assert time.perf_counter() - began < 2.0
    assert Image.open(io.BytesIO(png)).size[0] == WIDTH
