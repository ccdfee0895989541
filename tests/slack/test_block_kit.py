"""What the app renders stays within Slack's Block Kit limits, however much there is."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.blocks import reply_blocks, text_chunks
from bot.slack.home import home_view
from core.chat.messages import Action, Reply
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.blockkit import BlockKitError, check_blocks, check_view
from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld


def test_the_checker_rejects_what_slack_rejects():
    too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    with pytest.raises(BlockKitError, match="51 blocks"):
        check_blocks(too_many)
    twice = {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "a"}, "action_id": "same",
         "value": "list"}] * 2}
    with pytest.raises(BlockKitError, match="repeat"):
        check_blocks([twice])
    with pytest.raises(BlockKitError, match="section text"):
        check_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])


def test_a_huge_text_is_cut_at_fifty_blocks_with_a_note():
    blocks = reply_blocks([Reply("line\n" * 40000 + "y" * 7000)])

    check_blocks(blocks)
    assert len(blocks) == 50
    assert blocks[-1]["type"] == "context"  # says that the rest did not fit
    assert max(len(c) for c in text_chunks("z" * 7000)) == 3000
    assert "".join(text_chunks("z" * 7000)) == "z" * 7000


def test_many_long_buttons_are_split_into_actions_blocks_with_unique_ids():
    label = "A label far longer than Slack allows on a button " * 3
    blocks = reply_blocks([Reply("Pick one", tuple(Action(label, f"cancel {i}")
                                                   for i in range(80)))])

    check_blocks(blocks)
    rows = [b["elements"] for b in blocks if b["type"] == "actions"]
    assert [len(r) for r in rows] == [25, 25, 25, 5]
    assert all(len(e["text"]["text"]) == 75 for r in rows for e in r)
    assert [e["value"] for r in rows for e in r] == [f"cancel {i}" for i in range(80)]


def test_a_long_list_of_bookings_in_chat_and_in_the_home_stays_within_the_limits(
    world: SlackWorld,
):
    service = world.booking.service
    start = service.now() + timedelta(days=1)
    for n in range(40):
        begin = (start + timedelta(hours=2 * n)).astimezone(service.zone_of(None))
        end = begin + timedelta(hours=1)
        service.book(BookingRequest("bob", Resources(1, 1, 0), f"{begin:%Y %m %d %H} 00",
                                    f"{end:%Y %m %d %H} 00"))
    world.slack.command(BOB, "/book", "list")
    listing = world.api.wait_for("response_url")[0].args
    check_blocks(listing["blocks"])
    # 40 bookings do not fit as a section and a row of buttons each: each gets one
    # section with its own menu, named by its booking, and none is left out.
    cards = [b for b in listing["blocks"] if b.get("block_id", "").startswith("card:")]
    assert len(cards) == 40
    for card in cards:
        number = card["block_id"].split(":")[1]
        assert card["text"]["text"].startswith(f"#{number} [booked] bob:")
        menu = card["accessory"]
        assert menu["type"] == "overflow"
        assert [o["text"]["text"].split(" to ")[0] for o in menu["options"]] == [
            f"Cancel #{number}", f"Extend #{number}"]
    assert len({c["accessory"]["action_id"] for c in cards}) == 40

    view = home_view(world.adapter.slack, service.account("bob"))
    check_view(view)
    sections = [b for b in view["blocks"]
                if b["type"] == "section" and b.get("block_id", "").startswith("card:")]
    assert len(sections) == 40
