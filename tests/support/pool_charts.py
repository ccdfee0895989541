"""What a pool's GPU timeline looks like (issue 14): one figure, a panel per server, one
under the other in the pool's order, each with a row per GPU."""

from __future__ import annotations

import io

from PIL import Image

from bot.charts import AXIS, LEFT, LEGEND_ROW, PALETTE, ROW, TOP, WIDTH


def assert_panel_per_server(png: bytes, gpus: dict[str, int], *, holder_on: str) -> None:
    """`png` has a panel per server of `gpus` (name -> GPU count) and one legend row (one
    member); that member's bar is on GPU 0 of `holder_on`'s panel and nowhere else."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    heights = [TOP + count * ROW + AXIS for count in gpus.values()]
    assert image.size == (WIDTH, sum(heights) + LEGEND_ROW + 10), image.size
    colour = tuple(int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5))
    origin = 0
    for name, height in zip(gpus, heights, strict=True):
        for gpu in range(gpus[name]):
            pixel = image.getpixel((LEFT + 10, origin + TOP + gpu * ROW + ROW // 2))
            held = name == holder_on and gpu == 0
            assert (pixel == colour) == held, (name, gpu, pixel)
        origin += height
