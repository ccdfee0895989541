"""A GPU timeline chart (PNG): who holds which GPU when. Shared by the chat adapters."""

from __future__ import annotations

import colorsys
import io
import logging
from datetime import datetime, timedelta, tzinfo
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from core.chat.admin_views import GpuTimeline
from core.domain.model import Booking

log = logging.getLogger(__name__)

WIDTH = 1100
ROW = 34
LEFT = 70
RIGHT = 20
TOP = 44
AXIS = 40
LEGEND_ROW = 22
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)
_TICK_STEPS_HOURS = (1, 2, 3, 6, 12, 24, 48, 72, 168)


def member_colours(owners: list[str]) -> dict[str, str]:
    """A colour per member, none repeated: the palette, then hues a golden angle apart."""
    def colour(i: int) -> str:
        if i < len(PALETTE):
            return PALETTE[i]
        red, green, blue = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.55 + 0.1 * (i % 3), 0.8)
        return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"
    found: dict[str, str] = {}
    used: set[str] = set()
    for i, name in enumerate(owners):
        step = i
        while colour(step) in used:  # two hues rounded to the same colour
            step += 1
        found[name] = colour(step)
        used.add(found[name])
    return found

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(size: int) -> Font:
    """The charts' font at `size` (the usage chart draws with it too)."""
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, TypeError, OSError):  # no FreeType: the small bitmap font
        return ImageFont.load_default()


def _tick_step(span: timedelta) -> timedelta:
    hours = span.total_seconds() / 3600
    for step in _TICK_STEPS_HOURS:
        if hours / step <= 12:
            return timedelta(hours=step)
    return timedelta(hours=_TICK_STEPS_HOURS[-1])


def _ticks(start: datetime, end: datetime, zone: tzinfo) -> list[datetime]:
    step = _tick_step(end - start)
    local = start.astimezone(zone)
    hours = int(step.total_seconds() // 3600)
    if hours >= 24:
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        first = local.replace(hour=local.hour - local.hour % hours, minute=0, second=0,
                              microsecond=0)
    moments = []
    moment = first
    while moment <= end:
        if moment >= start:
            moments.append(moment)
        moment += step
    return moments


def gpu_timeline_png(
    bookings: list[Booking], gpu_count: int, start: datetime, end: datetime, zone: tzinfo,
    title: str,
) -> bytes:
    """A row per GPU, a bar per booking that holds it, coloured by member; times in `zone`."""
    owners = sorted({b.account for b in bookings if b.gpu_ids})
    colours = member_colours(owners)
    rows = max(gpu_count, 1)
    legend_lines = (len(owners) + 4) // 5
    height = TOP + rows * ROW + AXIS + legend_lines * LEGEND_ROW + 10
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    span = (end - start).total_seconds() or 1.0
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(moment: datetime) -> float:
        seconds = (moment - start).total_seconds()
        return LEFT + plot_width * min(max(seconds / span, 0.0), 1.0)

    draw.text((LEFT, 12), title, fill="black", font=font(18))
    bottom = TOP + rows * ROW
    for gpu in range(rows):
        top = TOP + gpu * ROW
        draw.rectangle((LEFT, top, WIDTH - RIGHT, top + ROW), outline="#dddddd",
                       fill="#f7f7f7" if gpu % 2 else "white")
        draw.text((8, top + ROW / 2 - 7), f"GPU {gpu}" if gpu_count else "no GPUs",
                  fill="black", font=font(13))
    for tick in _ticks(start, end, zone):
        x = x_of(tick)
        draw.line((x, TOP, x, bottom), fill="#cccccc")
        label = f"{tick:%a %d %H:%M}"
        draw.text((x - 30, bottom + 6), label, fill="#333333", font=font(11))
    for booking in bookings:
        if booking.end <= start or booking.start >= end:
            continue
        x0, x1 = x_of(booking.start), x_of(booking.end)
        for gpu in booking.gpu_ids:
            if gpu >= rows:
                continue
            top = TOP + gpu * ROW + 4
            draw.rectangle((x0, top, max(x1 - 1, x0 + 1), top + ROW - 8),
                           fill=colours[booking.account], outline="white")
            label = f"#{booking.id} {booking.account}"
            if draw.textlength(label, font=font(12)) < x1 - x0 - 6:
                draw.text((x0 + 4, top + 6), label, fill="white", font=font(12))
    legend_top = bottom + AXIS
    for i, name in enumerate(owners):
        x = LEFT + (i % 5) * 200
        y = legend_top + (i // 5) * LEGEND_ROW
        draw.rectangle((x, y + 2, x + 14, y + 16), fill=colours[name])
        draw.text((x + 20, y + 2), name[:24], fill="black", font=font(12))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def timeline_png(timeline: GpuTimeline) -> bytes | None:
    """An admin view's GPU timeline as PNG; None when drawing failed (the text has it all)."""
    try:
        return gpu_timeline_png(list(timeline.bookings), timeline.gpu_count, timeline.start,
                                timeline.end, timeline.zone, timeline.title)
    except Exception:
        log.exception("drawing the GPU timeline failed")
        return None
