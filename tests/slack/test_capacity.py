"""`/capacity`: everyone sees what is free, who holds which GPU and the chart; admins edit
limits and accounts."""

from __future__ import annotations

import time

from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld


def test_an_admin_gets_the_summary_and_a_gpu_chart_uploaded_to_their_dms(world: SlackWorld):
    world.slack.command(BOB, "/book", "1 gpu now 1-day")
    world.api.wait_for("response_url")

    world.slack.command(ALICE, "/capacity", "")

    summary = world.api.wait_for("response_url", count=2)[1].args["text"]
    lines = summary.splitlines()
    assert lines[0] == "*gpu1*: 62 CPUs, 40 GB, 4 GPUs"
    assert lines[1] == "Free in the next 3 days:"
    assert lines[2].startswith("• ") and lines[2].endswith(": 58 CPUs, 24 GB, GPUs free: 1,2,3")
    assert "Who holds which GPU:" in lines  # bob holds GPU 0 for a day
    assert any(line.startswith("• GPU 0: bob (#1) from ") for line in lines)
    completed = world.api.wait_for("files.completeUploadExternal")[0].args
    assert completed["channel_id"] == "D" + ALICE
    [uploaded] = completed["files"]
    [upload] = [c for c in world.api.calls if c.method == f"upload/{uploaded['id']}"]
    assert upload.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert world.api.of("files.getUploadURLExternal")[0].args["filename"] == "gpu-timeline.png"


def test_an_admin_views_and_sets_a_members_limits(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", f"limits <@{BOB}|bob> gpus=2 cpus=max")

    reply = world.api.wait_for("response_url")[0].args["text"]
    assert reply == "bob may now book up to cpus=62 memory=32 gpus=2."
    assert world.booking.service.limits_of(world.booking.service.account("bob")).gpus == 2

    world.slack.command(ALICE, "/capacity", "users")
    users = world.api.wait_for("response_url", count=2)[1].args["text"]
    assert f"• bob: max cpus=62 memory=32 gpus=2, port -, <@{BOB}>" in users


def test_an_admin_links_a_slack_user_to_a_new_account(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> r11922001")

    assert world.api.wait_for("response_url")[0].args["text"] == "<@UDAVE> is linked to r11922001."
    assert world.booking.service.account("r11922001").slack_id == "UDAVE"


def test_a_member_sees_who_holds_which_gpu_until_when_and_cannot_edit(world: SlackWorld):
    held = world.booking.service.book(BookingRequest("alice", Resources(2, 8, 1), "now", "1-day"))
    world.slack.command(BOB, "/capacity", "")
    summary = world.api.wait_for("response_url")[0].args["text"]
    assert "Free in the next 3 days:" in summary
    assert (f"• GPU 0: alice (#{held.id}) from <!date^{int(held.start.timestamp())}^"
            "{date_short_pretty} {time}|") in summary  # each reader's own zone
    assert "CST" not in summary
    assert summary.endswith("Changing limits or accounts needs an admin.")
    completed = world.api.wait_for("files.completeUploadExternal")[0].args
    assert completed["channel_id"] == "D" + BOB  # the timeline chart, for members too

    world.slack.command(BOB, "/capacity", "limits bob gpus=4")
    refused = world.api.wait_for("response_url", count=2)[1].args["text"]
    assert refused.startswith("That needs an admin (alice)")
    time.sleep(0.3)
    assert world.booking.service.limits_of(world.booking.service.account("bob")).gpus == 1

    world.slack.command(BOB, "/capacity", "limits")
    own = world.api.wait_for("response_url", count=3)[2].args["text"]
    assert own == "bob may book up to cpus=8 memory=32 gpus=1."


def test_users_with_fifty_accounts_are_all_shown_in_sections_that_fit(world: SlackWorld):
    for n in range(47):
        world.booking.service.add_account(f"r1192{n:04d}", slack_id=f"UMEMBER{n:02d}")

    world.slack.command(ALICE, "/capacity", "users")

    answer = world.api.wait_for("response_url")[0].args
    texts = [block["text"]["text"] for block in answer["blocks"]]
    assert len(texts) > 1 and all(len(text) <= 3000 for text in texts)
    rows = [line for text in texts for line in text.splitlines() if line.startswith("• ")]
    assert len(rows) == 50
    assert rows[-1].startswith("• r11920046: max cpus=8 memory=32 gpus=1, port -, <@UMEMBER46>")
    assert texts[-1].endswith(" of 50)")
