"""`/capacity link` that would move someone else's link, in Discord: a button that asks the
core's question in place (Yes / No), moves the link once on Yes, and edits the message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot import bootstrap
from tests.discord.conftest import ALICE, BOB, CAROL, DAVE, connected, labels, mention, slash


def test_the_link_button_asks_first_then_moves_the_link_once(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            asked = await discord_.reply(
                slash(ALICE, "capacity", "link", {"member": mention(DAVE), "lab_id": "bob"}))
            assert asked["content"].startswith(f"`bob` is linked to discord user {BOB} now;")
            assert labels(asked) == [[f"Link bob to discord user {DAVE}"]]
            old = dict(asked)  # the message as another device still shows it

            question = await discord_.press(ALICE, asked, "Link bob")
            assert question.message["content"].endswith(
                f"Link Discord user {DAVE} to bob? Discord user {BOB} is unlinked from bob; "
                "both are told.")
            assert labels(question.message) == [[f"Yes, link bob to discord user {DAVE}",
                                                 "No, leave it"]]
            assert service.account("bob").discord_id == str(BOB)  # asking moved nothing

            kept = await discord_.press(ALICE, question.message, "No")
            assert kept.message["content"] == asked["content"]
            assert labels(kept.message) == [[f"Link bob to discord user {DAVE}"]]
            assert service.account("bob").discord_id == str(BOB)

            again = await discord_.press(ALICE, kept.message, "Link bob")
            done = await discord_.press(ALICE, again.message, "Yes")
            assert done.message["content"] == f"<@{DAVE}> is linked to `bob`."
            assert labels(done.message) == []  # the button is gone with the question
            assert service.account("bob").discord_id == str(DAVE)

            stale = await discord_.press(ALICE, old, "Link bob", stale=True)
            assert stale.message["content"] == f"<@{DAVE}> is linked to `bob`."
            assert service.account("bob").discord_id == str(DAVE)

    asyncio.run(scenario())
    with service.unit() as uow:  # each of the two was told once, not once per press
        due = uow.outbox.due(datetime.now(UTC) + timedelta(days=1), 100)  # type: ignore[attr-defined]
    told = sorted(item.recipient for item in due if "link" in item.text)
    assert told == sorted([f"discord:{BOB}", f"discord:{DAVE}"])


def test_yes_after_the_links_changed_asks_about_what_is_there_now(app: bootstrap.App) -> None:
    service = app.service

    async def scenario() -> None:
        async with connected(app) as discord_:
            asked = await discord_.reply(
                slash(ALICE, "capacity", "link", {"member": mention(DAVE), "lab_id": "bob"}))
            question = await discord_.press(ALICE, asked, "Link bob")
            service.add_account("bob", discord_id=str(CAROL), confirm=True)  # meanwhile

            pressed = await discord_.press(ALICE, question.message, "Yes")
            assert pressed.message["content"].startswith(
                f"`bob` is linked to discord user {CAROL} now;")
            assert labels(pressed.message) == [[f"Link bob to discord user {DAVE}"]]
            assert service.account("bob").discord_id == str(CAROL)

            refused = await discord_.press(CAROL, pressed.message, "Link bob")  # now bob: a member
            assert refused.told == "Only booking admins (alice) may use /capacity."
            assert service.account("bob").discord_id == str(CAROL)

    asyncio.run(scenario())
