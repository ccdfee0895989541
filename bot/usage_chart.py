"""The usage report's chart (PNG): per member, GPU-hours booked (a pale bar) and held (a
solid bar over it), in the member's colour (bot/charts.member_colours). Shared by the chat
adapters; what it draws is core/chat/report_words.UsageBars."""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageDraw

from bot.charts import font, member_colours
from core.chat.report_words import UsageBars, hours

log = logging.getLogger(__name__)

WIDTH = 900
LEFT = 160  # member names
RIGHT = 150  # the numbers
TOP = 48
BAR = 30  # one member's row
LEGEND = 36


def bar_width(value: float, largest: float) -> float:
    """Pixels for `value` on a scale where `largest` fills the plot."""
    return (WIDTH - LEFT - RIGHT) * (value / largest if largest > 0 else 0.0)


def _pale(hex_colour: str) -> tuple[int, int, int]:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(int(c + (255 - c) * 0.65) for c in (red, green, blue))  # type: ignore[return-value]


def usage_bars_png(bars: UsageBars) -> bytes:
    colours = member_colours(list(bars.members))
    height = TOP + max(len(bars.members), 1) * BAR + LEGEND
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 12), bars.title, fill="black", font=font(18))
    largest = max((*bars.booked, *bars.held, 0.0))
    if not bars.members:
        draw.text((LEFT, TOP + 6), "No booked time in this period.", fill="#333333", font=font(13))
    for row, (name, booked, held) in enumerate(zip(bars.members, bars.booked, bars.held,
                                                   strict=True)):
        top = TOP + row * BAR
        draw.text((12, top + 8), name[:20], fill="black", font=font(13))
        if booked > 0:
            draw.rectangle((LEFT, top + 4, LEFT + bar_width(booked, largest), top + BAR - 4),
                           fill=_pale(colours[name]))
        if held > 0:
            draw.rectangle((LEFT, top + 9, LEFT + bar_width(held, largest), top + BAR - 9),
                           fill=colours[name])
        draw.text((WIDTH - RIGHT + 8, top + 8), f"{hours(held)} / {hours(booked)}",
                  fill="#333333", font=font(12))
    draw.text((LEFT, height - LEGEND + 10),
              "GPU-hours: pale = booked, solid = held (held / booked on the right)",
              fill="#333333", font=font(12))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def usage_png(bars: UsageBars) -> bytes | None:
    """The chart, or None when there is nothing to draw or drawing failed (the text has it all)."""
    if not bars.members:
        return None
    try:
        return usage_bars_png(bars)
    except Exception:
        log.exception("drawing the usage chart failed")
        return None
