"""The waitlist in a pool of servers (issue 14), on real SQLite: a member waits on one
server; only room freed there tells them, and the DM's *Book it* books there, even when
another server has room too. `notify me auto` is booked on the server it waits on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import bootstrap
from core.chat.actions import Action
from core.chat.messages import Reply
from core.domain.model import Status
from core.services.outbox import OutboxItem
from tests.support.pool_config import build_pool


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[bootstrap.App]:
    yield build_pool(tmp_path, "bob", "carol", "dave")


def say(app: bootstrap.App, user: str, text: str) -> Reply:
    [reply] = app.conversation.handle(app.service.account(user), text)
    return reply


def dms(app: bootstrap.App, member: str) -> list[tuple[str, OutboxItem]]:
    """The waitlist's DMs to `member`, with the server whose outbox holds each."""
    found = []
    for name, service in app.service.servers().items():
        with service.unit() as uow:
            due = uow.outbox.due(app.service.now() + timedelta(days=30), 100)  # type: ignore[attr-defined]
            found += [(name, i) for i in due
                      if i.recipient == member and "Room freed up" in i.text]
    return found


def waits_on_gpu2(app: bootstrap.App, auto: bool = False) -> int:
    """carol fills gpu2; bob is refused there and presses Notify me (or types it, auto).
    Returns carol's booking."""
    held = say(app, "carol", "book 2 gpus now 1-day on gpu2")
    assert held.text.startswith("Booked: #1 on gpu2"), held.text
    refused = say(app, "bob", "book 2 gpus now 1-day on gpu2")
    notify = next(a for a in refused.actions if a.verb == "notify")
    assert notify.command.endswith(" on gpu2"), notify.command
    command = notify.command.replace("notify me ", "notify me auto ") if auto else notify.command
    pressed = app.conversation.press(app.service.account("bob"), command)
    assert " fits on gpu2, starting from " in pressed.replies[0].text, pressed.replies[0].text
    [carols] = app.service.bookings("carol")
    assert carols.id is not None
    return carols.id


def test_room_freed_on_gpu2_offers_a_book_it_that_books_on_gpu2(pool: bootstrap.App) -> None:
    carols = waits_on_gpu2(pool)
    listing = say(pool, "bob", "waitlist")
    assert "\n1. 4 CPUs, 16 GB, 2 GPUs for 1 day on gpu2, starting from " in listing.text
    # a cancel on gpu1 frees room there: nothing for a request waiting on gpu2
    say(pool, "dave", "book 1 gpu now 1-day on gpu1")
    [daves] = pool.service.bookings("dave")
    assert daves.id is not None and daves.server == "gpu1"
    pool.service.cancel(daves.id, actor="dave")
    assert dms(pool, "bob") == []

    # gpu1 keeps room for bob's 2 GPUs: an unnamed request would be placed there (it
    # leaves as little free as gpu2 and comes first)
    assert say(pool, "dave", "book 2 gpus now 1-day on gpu1").text.startswith("Booked: #3 on gpu1")
    pool.service.cancel(carols, actor="carol")  # gpu2 is free now
    [(outbox, dm)] = dms(pool, "bob")
    assert outbox == "gpu2"
    assert dm.text.startswith("Room freed up for what you wait for: "), dm.text
    assert " for 1 day fits on gpu2 from " in dm.text
    [button] = [Action.from_dict(a) for a in dm.actions]
    assert button.label == "Book it" and button.command.endswith(" on gpu2"), button.command
    pressed = pool.conversation.press(pool.service.account("bob"), button.command)
    assert pressed.update is not None
    assert pressed.update.text.startswith("Booked: #4 on gpu2 [booked] bob:"), pressed.update.text
    [booking] = pool.service.bookings("bob")
    assert (booking.server, booking.status, booking.resources.gpus) == ("gpu2", Status.BOOKED, 2)
    assert say(pool, "bob", "waitlist").text.startswith("You wait for nothing.")


def test_notify_me_auto_is_booked_on_the_server_it_waits_on(pool: bootstrap.App) -> None:
    carols = waits_on_gpu2(pool, auto=True)
    assert say(pool, "bob", "waitlist").text.count(" on gpu2, starting from ") == 1
    pool.service.cancel(carols, actor="carol")
    [booking] = pool.service.bookings("bob")
    assert (booking.server, booking.status, booking.resources.gpus) == ("gpu2", Status.BOOKED, 2)


def test_the_listing_names_each_entrys_server(pool: bootstrap.App) -> None:
    say(pool, "carol", "book 4 gpus now 1-day on gpu1")
    say(pool, "dave", "book 2 gpus now 1-day on gpu2")
    say(pool, "bob", "book 1 gpu now 1-day on gpu1")
    say(pool, "bob", "notify me")
    say(pool, "bob", "book 1 gpu now 1-day on gpu2")
    say(pool, "bob", "notify me")
    lines = say(pool, "bob", "waitlist").text.splitlines()
    assert lines[0] == "You wait for:"
    assert " on gpu1, starting from " in lines[1] and lines[1].startswith("1. ")
    assert " on gpu2, starting from " in lines[2] and lines[2].startswith("2. ")
    assert say(pool, "bob", "waitlist clear").text == "Dropped 2 waiting requests."
