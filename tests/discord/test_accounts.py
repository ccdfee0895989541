"""Linking from Discord: moving a link asks for `confirm`, and names are lab ids only."""

from __future__ import annotations

import asyncio

from bot import bootstrap
from tests.discord.conftest import ALICE, BOB, DAVE, connected, mention, slash


def test_an_admin_link_that_would_move_an_account_asks_for_confirm(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            asked = await discord_.reply(
                slash(ALICE, "capacity", "link", {"member": mention(DAVE), "lab_id": "bob"}))
            assert asked["content"] == (
                f"`bob` is linked to discord user {BOB} now; linking it to discord user {DAVE} "
                f"unlinks {BOB}. Both are told when you confirm. To do it, run `/capacity link` "
                "again with `confirm: True`.")
            assert service.account("bob").discord_id == str(BOB)
            moved = await discord_.reply(slash(
                ALICE, "capacity", "link",
                {"member": mention(DAVE), "lab_id": "bob", "confirm": True}))
            assert moved["content"] == f"<@{DAVE}> is linked to `bob`."
            assert service.account("bob").discord_id == str(DAVE)
            bad = await discord_.reply(
                slash(ALICE, "capacity", "link", {"member": mention(DAVE), "lab_id": "../root"}))
            assert "cannot be an account name; use 1 to 32 characters" in bad["content"]

    asyncio.run(scenario())
    assert [a.name for a in service.accounts()] == ["alice", "bob", "carol"]
