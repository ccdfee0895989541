"""Text an admin wrote (a maintenance reason, a `because`) reaches other members' Slack
DMs escaped: `<!channel>`, `<!everyone>` and `<@U...>` arrive as text, never as mentions."""

from __future__ import annotations

import json

from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld
from tests.slack.test_chat_layer import flush_outbox

PINGS = f"<!channel> <!everyone> <!here> <@{ALICE}> <#C0GENERAL> @everyone"


def test_mentions_in_a_maintenance_reason_and_a_because_reach_the_member_as_text(
    world: SlackWorld,
) -> None:
    service = world.booking.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "2-day", "1-day"))
    start = f"{held.start.astimezone(service.zone_of(None)):%Y %m %d %H %M}"

    world.slack.command(ALICE, "/capacity", f"maintenance add yes {start} to 1-day reason fans {PINGS}")
    added = world.api.wait_for("response_url")[0].args["text"]
    assert added.startswith("Added maintenance window #1 ")
    world.slack.dm(ALICE, f"extend {held.id} 1-day because {PINGS}")
    world.api.wait_for("chat.postMessage")
    assert flush_outbox(world) == 2

    dms = [c.args for c in world.api.of("chat.postMessage") if c.args.get("channel") == "D" + BOB]
    assert len(dms) == 2
    for dm in dms:
        sent = json.dumps(dm)
        assert "&lt;!channel&gt; &lt;!everyone&gt; &lt;!here&gt;" in dm["text"]
        for mention in ("<!channel>", "<!everyone>", "<!here>", f"<@{ALICE}>", "<#C0GENERAL>"):
            assert mention not in sent, mention
