"""`slack.announce_channel`: the lab's channel gets a line when a booking starts or ends,
once, through the same outbox that tells the member."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.chat import lifecycle_messages as words
from core.domain.model import Resources, Status
from core.services.capacity import BookingRequest
from core.services.outbox import enqueue
from tests.slack.blockkit import check_everything_sent
from tests.slack.conftest import BOB
from tests.slack.harness import SlackWorld, slack_world
from tests.slack.test_chat_layer import dms_to, flush_outbox

CHANNEL = "CLAB"


@pytest.fixture
def announcing(tmp_path: Path) -> Iterator[SlackWorld]:
    with slack_world(tmp_path, timezones={BOB: "Europe/Berlin"},
                     slack={"announce_channel": CHANNEL}) as world:
        world.booking.service.add_account("bob", slack_id=BOB)
        world.booking.service.add_account("dora", discord_id="4242")
        yield world
        check_everything_sent(world.api.calls)


def announced(world: SlackWorld) -> list[str]:
    return [c.args["text"] for c in world.api.of("chat.postMessage")
            if c.args["channel"] == CHANNEL]


def start_and_end(world: SlackWorld, member: str) -> int:
    service = world.booking.service
    booking = service.book(BookingRequest(member, Resources(2, 8, 1), "now", "1-day"))
    booking = replace(booking, status=Status.RUNNING)
    account = service.account(member)
    with service.unit() as uow:
        uow.bookings.save(booking)
        enqueue(uow.outbox, member, words.ready(service.config, booking, account, []),
                service.now())
        enqueue(uow.outbox, member, words.ended(service.config, booking, [], []), service.now())
        uow.commit()
    flush_outbox(world)
    return booking.id or 0


def test_a_start_and_an_end_are_announced_once_with_a_date_token(announcing: SlackWorld):
    number = start_and_end(announcing, "bob")
    end = announcing.booking.service.get(number).end

    lines = announced(announcing)
    assert lines == [
        f"bob started booking #{number} (2 CPUs, 8 GB, GPU 0) until "
        f"<!date^{int(end.timestamp())}^{{date_short_pretty}} {{time}}|"
        f"{end:%Y-%m-%d %H:%M} UTC>.",
        f"bob's booking #{number} ended; 2 CPUs, 8 GB, GPU 0 free again."]
    assert len(dms_to(announcing, BOB)) == 2  # bob still hears of both himself


def test_a_member_of_another_chat_is_announced_too(announcing: SlackWorld):
    number = start_and_end(announcing, "dora")

    assert [line.split(" (")[0] for line in announced(announcing)][:1] == [
        f"dora started booking #{number}"]


def test_without_a_channel_nothing_is_announced(world: SlackWorld):
    start_and_end(world, "bob")

    assert [c.args["channel"] for c in world.api.of("chat.postMessage")] == ["D" + BOB] * 2
