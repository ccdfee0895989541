"""A GPU timeline chart (PNG): who holds which GPU when, a panel per server of a pool.
Shared by the chat adapters."""

from __future__ import annotations

import colorsys
import io
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from core.chat.admin_views import AdminView, GpuTimeline
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
    return _figure([GpuTimeline(tuple(bookings), gpu_count, start, end, zone, title)])


def _figure(panels: Sequence[GpuTimeline]) -> bytes:
    """A panel per timeline (a pool's servers), one under the other, each under its title;
    one legend below them all, a member in the same colour in every panel."""
    owners = sorted({b.account for panel in panels for b in panel.bookings if b.gpu_ids})
    colours = member_colours(owners)
    heights = [TOP + max(panel.gpu_count, 1) * ROW + AXIS for panel in panels]
    legend_lines = (len(owners) + 4) // 5
    image = Image.new("RGB", (WIDTH, sum(heights) + legend_lines * LEGEND_ROW + 10), "white")
    draw = ImageDraw.Draw(image)
    top = 0
    for panel, height in zip(panels, heights, strict=True):
        _panel(draw, top, panel, colours)
        top += height
    for i, name in enumerate(owners):
        x = LEFT + (i % 5) * 200
        y = top + (i // 5) * LEGEND_ROW
        draw.rectangle((x, y + 2, x + 14, y + 16), fill=colours[name])
        draw.text((x + 20, y + 2), name[:24], fill="black", font=font(12))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _panel(draw: ImageDraw.ImageDraw, origin: int, panel: GpuTimeline,
           colours: dict[str, str]) -> None:
    start, end, gpu_count = panel.start, panel.end, panel.gpu_count
    rows = max(gpu_count, 1)
    span = (end - start).total_seconds() or 1.0
    plot_width = WIDTH - LEFT - RIGHT
    head = origin + TOP

    def x_of(moment: datetime) -> float:
        seconds = (moment - start).total_seconds()
        return LEFT + plot_width * min(max(seconds / span, 0.0), 1.0)

    draw.text((LEFT, origin + 12), panel.title, fill="black", font=font(18))
    bottom = head + rows * ROW
    for gpu in range(rows):
        top = head + gpu * ROW
        draw.rectangle((LEFT, top, WIDTH - RIGHT, top + ROW), outline="#dddddd",
                       fill="#f7f7f7" if gpu % 2 else "white")
        draw.text((8, top + ROW / 2 - 7), f"GPU {gpu}" if gpu_count else "no GPUs",
                  fill="black", font=font(13))
    for tick in _ticks(start, end, panel.zone):
        x = x_of(tick)
        draw.line((x, head, x, bottom), fill="#cccccc")
        label = f"{tick:%a %d %H:%M}"
        draw.text((x - 30, bottom + 6), label, fill="#333333", font=font(11))
    for booking in panel.bookings:
        if booking.end <= start or booking.start >= end:
            continue
        x0, x1 = x_of(booking.start), x_of(booking.end)
        for gpu in booking.gpu_ids:
            if gpu >= rows:
                continue
            top = head + gpu * ROW + 4
            draw.rectangle((x0, top, max(x1 - 1, x0 + 1), top + ROW - 8),
                           fill=colours[booking.account], outline="white")
            label = f"#{booking.id} {booking.account}"
            if draw.textlength(label, font=font(12)) < x1 - x0 - 6:
                draw.text((x0 + 4, top + 6), label, fill="white", font=font(12))


def timeline_png(timeline: GpuTimeline | Sequence[GpuTimeline]) -> bytes | None:
    """An admin view's GPU timeline as PNG, or a pool's timelines as one figure with a panel
    per server; None when drawing failed (the text has it all)."""
    panels = [timeline] if isinstance(timeline, GpuTimeline) else list(timeline)
    if not panels:
        return None
    try:
        return _figure(panels)
    except Exception:
        log.exception("drawing the GPU timeline failed")
        return None


def charts_title(view: AdminView) -> str:
    """The chart's title as a file's: the server's chart's own; a pool's names each server
    (`gpu1, gpu2: who holds which GPU, next 3 days`)."""
    if len(view.charts) == 1:
        return view.charts[0].title
    names = ", ".join(chart.title.partition(":")[0] for chart in view.charts)
    return names + ":" + view.charts[0].title.partition(":")[2] if view.charts else ""
