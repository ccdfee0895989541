"""`/capacity` for admins: summary with the GPU timeline, limits, users, link."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from tests.discord.conftest import ALICE, BOB, CAROL, DAVE, connected, mention, slash

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_member_cannot_edit_limits_or_link(app: bootstrap.App) -> None:
    service = app.service
    before = service.limits_of(service.account("carol"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            refused = await discord_.reply(
                slash(BOB, "capacity", "limits", {"member": mention(CAROL), "gpus": "4"}))
            assert refused["content"] == "Only booking admins (alice) may use /capacity."
            linked = await discord_.reply(
                slash(BOB, "capacity", "link", {"member": mention(DAVE), "lab_id": "dave"}))
            assert linked["content"] == "Only booking admins (alice) may use /capacity."
            summary = await discord_.reply(slash(BOB, "capacity", "summary"))
            assert summary["content"] == "Only booking admins (alice) may use /capacity."

    asyncio.run(scenario())
    assert service.limits_of(service.account("carol")) == before
    assert [a.name for a in service.accounts()] == ["alice", "bob", "carol"]


def test_an_admin_sets_and_views_limits(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            set_ = await discord_.reply(
                slash(ALICE, "capacity", "limits", {"member": mention(CAROL), "gpus": "2", "cpus": "max"}))
            assert set_["content"] == "`carol` may now book up to cpus=62 memory=32 gpus=2."
            shown = await discord_.reply(slash(ALICE, "capacity", "limits", {"member": mention(CAROL)}))
            assert shown["content"] == "`carol` may book up to cpus=62 memory=32 gpus=2."
            bad = await discord_.reply(
                slash(ALICE, "capacity", "limits", {"member": mention(CAROL), "gpus": "lots"}))
            assert bad["content"] == "`gpus=lots` is not a number; use a number or `max`."
            unknown = await discord_.reply(slash(ALICE, "capacity", "limits", {"member": mention(DAVE)}))
            assert unknown["content"].startswith(f"<@{DAVE}> has no booking account")

    asyncio.run(scenario())


def test_an_admin_links_a_member_who_can_then_book(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            linked = await discord_.reply(
                slash(ALICE, "capacity", "link", {"member": mention(DAVE), "lab_id": "r11922001"}))
            assert linked["content"] == f"<@{DAVE}> is linked to `r11922001`."
            booked = await discord_.reply(
                slash(DAVE, "schedule", "book", {"start": "now", "end": "1-day"}))
            assert booked["content"].startswith("Booked: ")
            users = await discord_.reply(slash(ALICE, "capacity", "users"))
            assert f"`r11922001`: max cpus=8 memory=32 gpus=1, port 10001, <@{DAVE}>" in users["content"]
            assert "`alice` (admin)" in users["content"]

    asyncio.run(scenario())


def test_the_summary_shows_free_capacity_and_the_gpu_timeline(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            await discord_.reply(slash(BOB, "schedule", "book", {"start": "now", "end": "1-day", "gpus": 1}))
            calls = await discord_.interact(slash(ALICE, "capacity", "summary", {"days": 2}))
            (followup,) = [c for c in calls if c.path.startswith("/webhooks/")]
            content = followup.body["content"]
            lines = content.splitlines()
            assert lines[0] == "**gpu1**: 62 CPUs, 40 GB, 4 GPUs"
            assert lines[1] == "Free in the next 2 days:"
            assert lines[2].startswith("• <t:") and lines[2].endswith(
                ": 58 CPUs, 24 GB, GPUs free: 1,2,3")
            assert lines[3].endswith(": 62 CPUs, 40 GB, GPUs free: 0,1,2,3")
            assert lines[4] == "Who holds which GPU:"
            assert lines[5].startswith("• GPU 0: `bob` (#1) from <t:")
            assert followup.body["flags"] == 64
            assert followup.body["attachments"][0]["filename"] == "gpu-timeline.png"
            assert followup.files["gpu-timeline.png"].startswith(PNG_MAGIC)

    asyncio.run(scenario())


def test_users_with_fifty_accounts_come_in_pages_that_show_every_one(app: bootstrap.App) -> None:
    for n in range(47):
        app.service.add_account(f"r1192{n:04d}", discord_id=str(5000 + n))

    async def scenario() -> list[str]:
        async with connected(app) as discord_:
            calls = await discord_.interact(slash(ALICE, "capacity", "users"))
            return [c.body["content"] for c in calls if c.path.startswith("/webhooks/")]

    pages = asyncio.run(scenario())
    assert len(pages) > 1 and all(len(page) <= 2000 for page in pages)
    rows = [line for page in pages for line in page.splitlines() if line.startswith("• ")]
    assert len(rows) == 50
    assert rows[0].startswith("• `alice` (admin): max cpus=62")
    assert "• `r11920046`: max cpus=8 memory=32 gpus=1, port -, <@5046>" in rows[-1]
    assert pages[0].endswith("(accounts 1-" + str(pages[0].count("• ")) + " of 50)")
    assert pages[-1].endswith(" of 50)")
