"""`/capacity maintenance` in Discord: an admin sees whom a window meets, adds it with `yes`,
lists and removes it; a member is refused."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.discord.conftest import ALICE, BOB, connected, slash


def test_an_admin_previews_adds_lists_and_removes_a_window(app: bootstrap.App) -> None:
    service = app.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    start = f"{held.start.astimezone(service.zone_of(None)):%Y %m %d %H %M}"
    window = f"{start} to 1-day gpus 0 reason new fans"

    async def scenario() -> None:
        async with connected(app) as discord_:
            async def said(user: str, text: str) -> str:
                calls = await discord_.interact(
                    slash(user, "capacity", "maintenance", {"text": text}))
                return str([c for c in calls if c.path.startswith("/webhooks/")][-1]
                           .body["content"])

            preview = await said(ALICE, f"add {window}")
            assert "It meets 1 booking" in preview and f"#{held.id} [booked] bob" in preview
            assert preview.endswith(f"`/capacity maintenance add yes {window}`")
            added = await said(ALICE, f"add yes {window}")
            assert added.startswith("Added maintenance window #1 Maintenance of GPU 0 from ")
            assert (await said(ALICE, "")).startswith("#1 Maintenance of GPU 0 from ")
            assert (await said(ALICE, "rm 1")).startswith("Removed maintenance window #1")
            assert (await said(BOB, "")) == "Maintenance windows need an admin (alice)."

    asyncio.run(scenario())
