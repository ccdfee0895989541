"""`/capacity maintenance` in Slack: an admin sees whom a window meets, adds it with `yes`,
and the member is sent a DM with Cancel and a Book button for the earliest alternative;
a member is refused."""

from __future__ import annotations

from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld
from tests.slack.test_chat_layer import flush_outbox


def test_an_admin_adds_a_window_and_the_member_is_offered_the_earliest_alternative(
    world: SlackWorld,
) -> None:
    service = world.booking.service
    held = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    zone = service.zone_of(None)
    start = f"{held.start.astimezone(zone):%Y %m %d %H %M}"
    window = f"{start} to 1-day gpus 0 reason new fans"

    world.slack.command(ALICE, "/capacity", f"maintenance add {window}")
    preview = world.api.wait_for("response_url")[0].args["text"]
    assert "It meets 1 booking" in preview and f"#{held.id} [booked] bob" in preview
    assert preview.endswith(f"To add it and tell them: `/capacity maintenance add yes {window}`")
    assert service.maintenance_windows(actor="alice") == []

    world.slack.command(ALICE, "/capacity", f"maintenance add yes {window}")
    added = world.api.wait_for("response_url", count=2)[1].args["text"]
    assert added.startswith("Added maintenance window #1 Maintenance of GPU 0 from ")
    assert "`/capacity maintenance rm 1` removes it." in added
    assert flush_outbox(world) == 1
    dm = [c for c in world.api.of("chat.postMessage") if c.args.get("channel") == "D" + BOB][-1]
    assert "alice (an admin) scheduled maintenance of GPU 0" in dm.args["text"]
    buttons = [e for block in dm.args["blocks"] if block["type"] == "actions"
               for e in block["elements"]]
    assert [b["text"]["text"] for b in buttons][:1] == [f"Cancel #{held.id}"]
    assert buttons[1]["text"]["text"].startswith("Book from ")

    world.slack.command(BOB, "/capacity", "maintenance")
    assert world.api.wait_for("response_url", count=3)[2].args["text"] == (
        "Maintenance windows need an admin (alice).")
