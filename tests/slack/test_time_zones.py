"""A member's zone: the Slack profile's, read again hourly; a zone chosen with `timezone`
wins until the profile's zone itself changes."""

from __future__ import annotations

import time

from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld


def said(world: SlackWorld, count: int) -> str:
    return str(world.api.wait_for("chat.postMessage", count=count)[count - 1].args["text"])


def test_a_chosen_zone_is_kept_over_the_profile_until_the_profile_changes(world: SlackWorld):
    service = world.booking.service
    world.slack.dm(BOB, "list")
    said(world, 1)
    assert service.account("bob").timezone == "Europe/Berlin"  # from his Slack profile

    world.slack.dm(BOB, "timezone Asia/Tokyo")
    said(world, 2)
    world.adapter.slack.members.profile_ttl_s = 0  # every message reads the profile again
    world.slack.dm(BOB, "list")
    said(world, 3)
    assert service.account("bob").timezone == "Asia/Tokyo"  # his choice, not undone

    world.api.timezones[BOB] = "America/Chicago"  # he travels; Slack's zone follows
    world.slack.dm(BOB, "list")
    said(world, 4)
    assert service.account("bob").timezone == "America/Chicago"
    assert len(world.api.of("users.info")) >= 3  # read again, not kept forever


def test_a_profile_change_event_moves_a_members_zone_at_once(world: SlackWorld):
    service = world.booking.service
    world.slack.dm(BOB, "list")
    said(world, 1)
    assert service.account("bob").timezone == "Europe/Berlin"
    reads = len(world.api.of("users.info"))

    world.slack.event({"type": "user_change", "user": {
        "id": BOB, "name": "bob", "tz": "America/Chicago", "tz_label": "Central Standard Time"}})

    deadline = time.monotonic() + 10  # the event is handled after its ack, in Bolt's thread
    while service.account("bob").timezone != "America/Chicago" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.account("bob").timezone == "America/Chicago"
    assert len(world.api.of("users.info")) == reads  # the event's profile, not another read

