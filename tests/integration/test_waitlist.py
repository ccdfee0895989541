"""The waitlist through the chat engine and the service, on real SQLite and PostgreSQL
(README, "Waitlist"): refused for lack of room -> `notify me` -> someone cancels -> a direct
message with *Book it* carrying the whole request; the first press books, a later one is
answered with the state; `notify me auto` books and tells; entries end with their window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.bootstrap import App
from core.chat import notice_words, waitlist_words
from core.chat.actions import Action
from core.chat.conversation import ConversationEngine
from core.chat.messages import Reply
from core.domain.gpus import GpuInventory
from core.domain.model import Resources, Status
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from core.services.ports import OutboxItem
from tests.factories import Clock

NOW = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Taipei, the server's zone
T1 = NOW + timedelta(days=1)


def taipei(moment: datetime) -> str:
    """A time as a member types it (the old form, in the server's zone, UTC+8)."""
    return f"{moment + timedelta(hours=8):%Y %m %d %H %M}"


class Lab:
    def __init__(self, app: App) -> None:
        self.clock = Clock(NOW)
        self.service = BookingService(config=app.config, uow=app.service.unit,
                                      gpus=GpuInventory(4), notices=notice_words, clock=self.clock)
        self.service.waitlist_words = waitlist_words
        self.engine = ConversationEngine(self.service)
        for name in ("alice", "bob", "carol"):
            self.service.add_account(name)
            self.service.set_limits(name, {"gpus": "4"})

    def say(self, member: str, text: str) -> Reply:
        [reply] = self.engine.handle(self.service.account(member), text)
        return reply

    def hold(self, member: str, start: datetime, hours: int, gpus: int = 4) -> int:
        booking = self.service.book(BookingRequest(
            member, Resources(2, 4, gpus), taipei(start), taipei(start + timedelta(hours=hours))))
        assert booking.id is not None
        return booking.id

    def outbox(self, member: str) -> list[OutboxItem]:
        with self.service.unit() as uow:
            return [i for i in uow.outbox.due(self.clock() + timedelta(days=30), 100)
                    if i.recipient == member]


@pytest.fixture
def lab(make_app: Callable[..., App]) -> Lab:
    """gpu1: 16 CPUs, 64 GB, 4 GPUs; alice, bob and carol may each book all four."""
    return Lab(make_app())


def ask(lab: Lab, member: str, start: datetime, hours: int, gpus: int = 3) -> Reply:
    return lab.say(member, f"book {gpus} gpus 2 cpus 4g {taipei(start)} to "
                           f"{taipei(start + timedelta(hours=hours))}")


def test_notify_me_then_a_cancel_sends_book_it_and_the_first_press_gets_it(lab: Lab) -> None:
    alices = lab.hold("alice", T1, 6)
    refused = ask(lab, "bob", T1 + timedelta(hours=1), 2)
    assert refused.text.startswith("Not enough free for that window: GPUs (3 asked, 0 free)")
    assert [a.label for a in refused.actions][1] == "Notify me"
    joined = lab.say("bob", "notify me")  # typed, right after the refusal
    assert joined.text.startswith(
        "OK: I will message you when 2 CPUs, 4 GB, 3 GPUs for 2 h fits, starting from "
        "2026-11-03 09:00 CST and before 2026-11-03 11:00 CST.")
    # carol presses her refusal's Notify me button, from a fresh engine (nothing in memory)
    carols = ask(lab, "carol", T1 + timedelta(hours=1), 2)
    notify = carols.actions[1]
    pressed = ConversationEngine(lab.service).press(lab.service.account("carol"), notify.command)
    assert pressed.replies[0].text.startswith("OK: I will message you when 2 CPUs, 4 GB, 3 GPUs")
    lab.engine.press(lab.service.account("carol"), notify.command)  # pressed again: still one
    assert lab.say("carol", "waitlist").text.count("\n1. ") == 1
    assert "\n2. " not in lab.say("carol", "waitlist").text
    assert lab.outbox("bob") == []

    lab.service.cancel(alices, actor="alice")

    book_its = []
    for member in ("bob", "carol"):
        [dm] = lab.outbox(member)
        assert dm.text.startswith(
            "Room freed up for what you wait for: 2 CPUs, 4 GB, 3 GPUs for 2 h fits from "
            "2026-11-03 09:00 CST to 2026-11-03 11:00 CST.")
        [button] = [Action.from_dict(a) for a in dm.actions]
        assert button.label == "Book it"
        # the whole request, so the button books exactly that after a restart too
        assert button.command == "book 2 cpus 4g 3 gpus 2026 11 03 09 00 to 2026 11 03 11 00"
        book_its.append(button)

    first = lab.engine.press(lab.service.account("carol"), book_its[1].command)
    assert first.update is not None and first.update.text.startswith("Booked: #2 [booked] carol:")
    later = lab.engine.press(lab.service.account("bob"), book_its[0].command)
    assert later.update is not None and later.update.text.startswith(
        "Not enough free for that window: GPUs (3 asked, 1 free). The earliest start that "
        "fits is 2026 11 03 11 00 (CST).")
    assert lab.service.bookings("bob") == []
    # carol's entry is done; bob still waits, and is not told the same start twice
    assert lab.say("carol", "waitlist").text.startswith("You wait for nothing")
    assert lab.say("bob", "waitlist").text.startswith("You wait for:\n1. 2 CPUs, 4 GB, 3 GPUs")
    lab.service.cancel(lab.hold("alice", T1 + timedelta(days=2), 1, gpus=1), actor="alice")
    assert len(lab.outbox("bob")) == 1


def test_notify_me_auto_books_for_the_member_and_tells_them(lab: Lab) -> None:
    alices = lab.hold("alice", T1, 6)
    ask(lab, "bob", T1 + timedelta(hours=1), 2)
    joined = lab.say("bob", "notify me auto")
    assert joined.text.startswith("OK: I will book it for you and tell you when 2 CPUs, 4 GB, 3 GPUs")

    lab.service.cancel(alices, actor="alice")

    [booking] = lab.service.bookings("bob")
    assert (booking.start, booking.end, booking.resources.gpus) == (
        T1 + timedelta(hours=1), T1 + timedelta(hours=3), 3)
    [dm] = lab.outbox("bob")
    assert dm.text.startswith(f"Booked for you from your waitlist: #{booking.id} [booked] bob: "
                              "2026-11-03 09:00 CST -> 2026-11-03 11:00 CST")
    assert [Action.from_dict(a).label for a in dm.actions][:1] == [f"Cancel #{booking.id}"]
    assert lab.say("bob", "waitlist").text.startswith("You wait for nothing")


def test_a_later_start_within_the_window_is_offered_and_one_after_it_is_not(lab: Lab) -> None:
    lab.hold("alice", T1, 2)
    carols = lab.hold("carol", T1 + timedelta(hours=2), 6)
    ask(lab, "bob", T1 + timedelta(hours=1), 2)  # 2 hours, starting from T1+1h, before T1+3h
    lab.say("bob", "notify me")
    lab.service.cancel(carols, actor="carol")  # free from T1+2h: within bob's window
    [dm] = lab.outbox("bob")
    assert "fits from 2026-11-03 10:00 CST to 2026-11-03 12:00 CST" in dm.text

    ask(lab, "carol", T1 + timedelta(hours=1), 1)  # 1 hour, starting before T1+2h
    lab.say("carol", "notify me")
    lab.hold("bob", T1 + timedelta(hours=2), 4)
    lab.service.cancel(lab.hold("alice", T1 + timedelta(hours=6), 1), actor="alice")
    assert lab.outbox("carol") == []  # what is free starts too late for her window


def test_an_entry_ends_with_its_window_and_clear_drops_the_rest(lab: Lab) -> None:
    alices = lab.hold("alice", T1, 6)
    ask(lab, "bob", T1 + timedelta(hours=1), 2)
    lab.say("bob", "notify me")
    ask(lab, "bob", T1 + timedelta(hours=4), 1)
    lab.say("bob", "notify me auto")
    listed = lab.say("bob", "waitlist").text.split("\n")
    assert listed[1].startswith("1. 2 CPUs, 4 GB, 3 GPUs for 2 h, starting from 2026-11-03 09:00")
    assert listed[2].endswith("before 2026-11-03 13:00 CST (I book it for you)")

    lab.clock.advance(days=1, hours=3)  # T1 + 3h: no start is left in bob's first window
    lab.service.cancel(alices, actor="alice")
    [dm] = lab.outbox("bob")  # only the second entry: booked for him
    assert dm.text.startswith("Booked for you from your waitlist: #2 [booked] bob: "
                              "2026-11-03 12:00 CST -> 2026-11-03 13:00 CST")
    assert lab.say("bob", "waitlist").text.startswith("You wait for nothing")

    lab.hold("carol", T1 + timedelta(hours=5), 2)
    ask(lab, "bob", T1 + timedelta(hours=5), 1)
    lab.say("bob", "notify me")
    assert lab.say("bob", "waitlist clear").text == "Dropped 1 waiting request."
    assert lab.say("bob", "waitlist").text.startswith("You wait for nothing")


def test_notify_me_needs_a_refusal_and_says_so_when_it_fits_now(lab: Lab) -> None:
    assert lab.say("bob", "notify me").text.startswith("There is nothing to wait for: say `notify me`")
    alices = lab.hold("alice", T1, 6)
    refused = ask(lab, "bob", T1 + timedelta(hours=1), 2)
    lab.service.cancel(alices, actor="alice")  # freed before bob asked to be told
    fits = lab.engine.press(lab.service.account("bob"), refused.actions[1].command)
    assert fits.replies[0].text.startswith("It fits now: 2 CPUs, 4 GB, 3 GPUs for 2 h from "
                                           "2026-11-03 09:00 CST.")
    assert [a.label for a in fits.replies[0].actions] == ["Book it"]
    assert lab.say("bob", "waitlist").text.startswith("You wait for nothing")
    assert lab.say("bob", "waitlist please").text.startswith("Say `waitlist` to see")


def test_removing_a_maintenance_window_tells_those_waiting_for_its_room(lab: Lab) -> None:
    lab.service.add_maintenance(taipei(T1), taipei(T1 + timedelta(hours=6)), None, "new fans",
                                actor="alice")
    refused = ask(lab, "bob", T1 + timedelta(hours=1), 2)
    assert refused.text.startswith("That window overlaps maintenance of the whole server")
    lab.say("bob", "notify me")
    [window] = lab.service.maintenance_windows(actor="alice")
    assert window.id is not None

    lab.service.remove_maintenance(window.id, actor="alice")

    [dm] = lab.outbox("bob")
    assert dm.text.startswith("Room freed up for what you wait for: 2 CPUs, 4 GB, 3 GPUs for 2 h "
                              "fits from 2026-11-03 09:00 CST")


def test_ending_a_running_booking_early_offers_its_rest_to_a_now_request(lab: Lab) -> None:
    alices = lab.hold("alice", NOW, 6)
    with lab.service.unit() as uow:  # as the scheduler leaves it once the container runs
        running = uow.bookings.get(alices)
        assert running is not None
        uow.bookings.save(replace(running, status=Status.RUNNING))
        uow.commit()
    refused = lab.say("bob", "book 3 gpus 2 cpus 4g now to 2026 11 02 12 00")  # 4 hours
    assert refused.actions[1].command == "notify me 2 cpus 4g 3 gpus now to 2026 11 02 12 00"
    lab.say("bob", "notify me")
    lab.clock.advance(minutes=40)

    ended = lab.say("alice", f"end {alices}").text
    assert ended == f"Booking #{alices} ends now; its files are backed up first."

    [dm] = lab.outbox("bob")  # from the next slot after alice's end, for the same 4 hours
    assert "fits from 2026-11-02 09:00 CST to 2026-11-02 13:00 CST" in dm.text
    [button] = [Action.from_dict(a) for a in dm.actions]
    pressed = lab.engine.press(lab.service.account("bob"), button.command)
    assert pressed.update is not None and pressed.update.text.startswith("Booked: #2 [booked] bob:")


def test_notify_me_for_a_booking_the_member_holds_already_adds_nothing(lab: Lab) -> None:
    alices = lab.hold("alice", T1, 6)
    refused = ask(lab, "bob", T1 + timedelta(hours=1), 2)
    lab.service.cancel(alices, actor="alice")
    booked = ask(lab, "bob", T1 + timedelta(hours=1), 2)  # the same request, booked outright
    assert booked.text.startswith("Booked: #2 [booked] bob:")
    # the refusal's Notify me, pressed afterwards: not "OK, I will message you" for nothing
    late = lab.engine.press(lab.service.account("bob"), refused.actions[1].command)
    assert late.replies[0].text == (
        "You hold that already: booking #2; nothing was added to the waitlist.")
    assert lab.say("bob", "waitlist").text.startswith("You wait for nothing")
