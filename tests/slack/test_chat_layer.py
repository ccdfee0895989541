"""Issue 10 through the real Bolt app: buttons that name their booking, act once, redraw
the message they came in, offers that survive a restart, `login N`, and the owner told."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from core.domain.model import Booking, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.runtime.secret_file import load_secret
from core.services.capacity import BookingRequest
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.slack.conftest import ALICE, BOB, CAROL
from tests.slack.harness import Call, SlackWorld, slack_world

IMAGE = "rober5566a/aivc-server:latest"
Block = dict[str, Any]


def book(world: SlackWorld, user: str = "bob", start: str = "tomorrow 9am", gpus: int = 1,
         end: str = "1-day") -> Booking:
    request = BookingRequest(user=user, resources=Resources(2, 8, gpus), start=start, end=end)
    return world.booking.service.book(request)


def cards(blocks: list[Block]) -> dict[int, tuple[str, list[tuple[Block, Block]]]]:
    """Booking id -> (its section's text, [(its actions block, a button)])."""
    found: dict[int, tuple[str, list[tuple[Block, Block]]]] = {}
    for block in blocks:
        parts = block.get("block_id", "").split(":")
        if parts[0] != "card":
            continue
        number = int(parts[1])
        if block["type"] == "section":
            found[number] = (block["text"]["text"], [])
        else:
            found[number][1].extend((block, e) for e in block["elements"])
    return found


def button(blocks: list[Block], label: str) -> tuple[Block, Block]:
    [found] = [(b, e) for b in blocks if b["type"] == "actions" for e in b["elements"]
               if e["text"]["text"] == label]
    return found


def responses(world: SlackWorld, count: int) -> list[dict[str, Any]]:
    return [c.args for c in world.api.wait_for("response_url", count=count)]


def test_a_list_gives_each_booking_its_own_buttons_and_a_press_redraws_the_list(
    world: SlackWorld,
):
    first = book(world)
    second = book(world, start="in 3 days")
    world.slack.command(BOB, "/book", "list")
    [listing] = responses(world, 1)

    shown = cards(listing["blocks"])
    assert list(shown) == [first.id, second.id]
    for number, (text, buttons) in shown.items():
        assert text.startswith(f"#{number} [booked] bob:")
        labels = [e["text"]["text"] for _, e in buttons]
        assert labels[0] == f"Cancel #{number}" and labels[1].startswith(f"Extend #{number} to ")
        cancel = buttons[0][1]
        assert cancel["confirm"]["title"]["text"] == f"Cancel #{number}?"
        assert "confirm" not in buttons[1][1]

    block, cancel = shown[second.id][1][0]
    world.slack.press(BOB, cancel, block)
    [_, redrawn] = responses(world, 2)
    assert redrawn["replace_original"] is True
    assert redrawn["blocks"][0]["text"]["text"].startswith(f"Booking #{second.id} is cancelled.")
    assert list(cards(redrawn["blocks"])) == [first.id]  # the cancelled one's buttons are gone

    world.slack.press(BOB, cancel, block)  # the same button again (a double click)
    [_, _, again] = responses(world, 3)
    assert again["text"].startswith(f"Nothing to do: Booking #{second.id} is cancelled.")
    with world.booking.service.unit() as uow:
        kinds = [e.kind for e in uow.bookings.events(second.id or 0)]
    assert kinds.count("cancelled") == 1


def test_extend_pressed_twice_extends_once_and_the_message_offers_the_next_day(
    world: SlackWorld,
):
    world.slack.command(BOB, "/book", "1 gpu tomorrow 9am 1-day")
    booked = world.api.wait_for("chat.postMessage")[0].args  # kept in the DM, with buttons
    responses(world, 1)  # the pointer to it, where it was asked
    [booking] = world.booking.service.bookings("bob")
    zone = ZoneInfo("Europe/Berlin")

    def label(days: int) -> str:
        return f"Extend #1 to {(booking.end + timedelta(days=days)).astimezone(zone):%a %d %b %H:%M}"

    block, extend = button(booked["blocks"], label(1))

    world.slack.press(BOB, extend, block)
    world.slack.press(BOB, extend, block)

    # The two presses run side by side: either may answer first.
    first, second = sorted(responses(world, 3)[1:], key=lambda a: a["text"], reverse=True)
    assert first["replace_original"] is True and first["text"].startswith("Extended: #1")
    button(first["blocks"], label(2))  # the next day, not this one again
    assert second["text"].startswith("Already extended: #1")
    assert world.booking.service.get(1).end == booking.end + timedelta(days=1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "server"


def started(folder: Path) -> Iterator[SlackWorld]:
    return slack_world(folder, timezones={BOB: "Europe/Berlin"})  # type: ignore[return-value]


def test_a_modal_offer_keeps_image_and_command_and_books_once_after_a_restart(folder: Path):
    with started(folder) as world:
        service = world.booking.service
        service.add_account("alice", admin=True, slack_id=ALICE)
        service.add_account("carol", slack_id=CAROL)
        service.set_limits("alice", {"gpus": "4"})
        book(world, "alice", start="now", gpus=4, end="2-day")
        world.slack.command(CAROL, "/book", "")
        view = world.api.wait_for("views.update")[0].args["view"]
        answer = world.slack.submit_view(CAROL, view, {
            "cpus": "2", "memory": "8", "gpus": "1", "length": "1-day",
            "command": "jupyter lab --ip 0.0.0.0"}, IMAGE).json()
        assert answer["response_action"] == "update"  # the refusal, shown in the form
        shown = answer["view"]["blocks"]
        assert shown[0]["text"]["text"].startswith("Not enough free")
        block, offer = button(shown, next(e["text"]["text"] for b in shown
                                          if b["type"] == "actions" for e in b["elements"]))
        assert offer["text"]["text"].startswith("Book from ")
        assert offer["value"].endswith(f"image {IMAGE} command jupyter lab --ip 0.0.0.0")
        held_end = service.get(1).end

    with started(folder) as world:  # a new app over the same database: a restart
        world.slack.press(CAROL, offer, block)
        world.slack.press(CAROL, offer, block)
        answers = responses(world, 2)  # the two presses run side by side: either may answer first
        assert all(a["replace_original"] is True for a in answers)
        assert sorted(a["text"].split(":")[0] for a in answers) == ["Already booked", "Booked"]
        [booking] = world.booking.service.bookings("carol")
        assert (booking.image, booking.command) == (IMAGE, "jupyter lab --ip 0.0.0.0")
        assert booking.start == held_end and booking.end - booking.start == timedelta(days=1)


def test_login_n_shows_the_login_only_to_its_owner(world: SlackWorld, tmp_path: Path):
    booking = book(world, start="now")
    with world.booking.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()

    world.slack.command(BOB, "/book", f"login {booking.id}")
    world.slack.command(CAROL, "/book", f"login {booking.id}")

    answers = responses(world, 2)  # the two commands are answered side by side
    [theirs] = [a for a in answers if a["text"].startswith("There is no booking")]
    [mine] = [a for a in answers if a is not theirs]
    password = PasswordDeriver(load_secret(None, tmp_path)).password_for(booking)
    assert mine["response_type"] == "ephemeral"
    assert f"password: {password}" in mine["text"]
    assert f"ssh -p {booking.port} " in mine["text"] and "host:     gpu1.example.org" in mine["text"]
    assert password not in theirs["text"]


def flush_outbox(world: SlackWorld) -> int:
    engine = world.booking.engine
    assert engine is not None
    units = cast(Callable[[], SchedulerUnitOfWork],
                 lambda: SqlUnitOfWork(engine, world.booking.server_id))
    sender = OutboxSender(uow=units, passwords=PasswordDeriver(b"x" * 32),
                          notifiers=[("slack", world.adapter.notifier)],
                          fallback=("slack", world.adapter.notifier),
                          clock=world.booking.service.now)
    return sender.flush()


def dms_to(world: SlackWorld, user: str) -> list[Call]:
    return [c for c in world.api.of("chat.postMessage") if c.args["channel"] == "D" + user]


def test_the_owner_is_told_when_an_admin_cancels_or_extends_their_booking(world: SlackWorld):
    booking = book(world)
    # Far enough after `booking` that neither extension below reaches it, whatever the
    # hour (the admin's extend and cancel run side by side, in either order).
    other = book(world, start="in 6 days")

    world.slack.click(ALICE, f"extend {booking.id} 1-day")
    world.slack.click(ALICE, f"cancel {other.id}")
    responses(world, 2)
    world.slack.click(BOB, f"extend {booking.id} 1-day")  # the owner's own: no news
    responses(world, 3)

    assert flush_outbox(world) == 2
    told = sorted(c.args["text"] for c in dms_to(world, BOB))
    assert told[0].startswith(f"alice (an admin) cancelled your booking #{other.id} (")
    assert told[1].startswith(f"alice (an admin) extended your booking #{booking.id}; "
                              "it now ends at ")


def test_a_request_over_the_maximum_is_remembered_in_the_direct_messages(world: SlackWorld):
    world.slack.command(BOB, "/book", "8 gpus tomorrow 9am 1-day")
    asked = world.api.wait_for("chat.postMessage")[0].args
    assert asked["channel"] == "D" + BOB
    assert "Over your maximum" in asked["text"] and asked["text"].endswith("How much do you need?")

    world.slack.dm(BOB, "1 gpu")

    booked = world.api.wait_for("chat.postMessage", count=2)[1].args
    assert booked["text"].startswith("Booked: #1 [booked] bob:")


def test_a_menu_entry_that_destroys_asks_in_a_message_first(world: SlackWorld):
    service = world.booking.service
    start = service.now() + timedelta(days=1)
    for n in range(30):  # too many for a row of buttons each: one menu per booking
        begin = (start + timedelta(hours=2 * n)).astimezone(service.zone_of(None))
        service.book(BookingRequest("bob", Resources(1, 1, 0), f"{begin:%Y %m %d %H} 00",
                                    "1-hour"))
    world.slack.command(BOB, "/book", "list")
    [listing] = responses(world, 1)
    [section] = [b for b in listing["blocks"] if b.get("block_id") == "card:7"]
    menu = section["accessory"]
    cancel = next(o for o in menu["options"] if o["text"]["text"] == "Cancel #7")

    world.slack.choose(BOB, menu, cancel, section)
    [_, question] = responses(world, 2)
    assert question["text"].startswith("Cancel booking #7?")
    assert service.get(7).status == Status.BOOKED  # nothing happened yet
    block, yes = button(question["blocks"], "Yes: Cancel #7")

    world.slack.press(BOB, yes, block)
    [_, _, done] = responses(world, 3)
    assert done["replace_original"] is True and done["text"] == "Booking #7 is cancelled."
    assert service.get(7).status == Status.CANCELLED
