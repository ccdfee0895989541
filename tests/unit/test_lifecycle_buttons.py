"""The scheduler's messages carry the chat layer's buttons (issue 10): each names its booking,
Extend states its new end, Restart the restarts asked before it, destructive ones ask first;
pressed twice, or pressed on an old message, they act once. Through the outbox's store."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest

from core.chat.actions import Action, restored
from core.chat.conversation import ConversationEngine
from core.services.notifier import Message, MessageKind
from tests.unit.test_scheduler_lifecycle import Rig


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def _sent(rig: Rig, kind: MessageKind) -> list[Message]:
    return [m for name, m in rig.notifier.sent if name == "bob" and m.kind == kind]


def _button(message: Message, verb: str) -> Action:
    return next(a for a in restored(message.actions) if a.verb == verb)


def test_the_ready_message_buttons_name_the_booking_and_extend_states_its_new_end(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    [ready] = _sent(rig, MessageKind.READY)
    booking = rig.service.get(booking_id)
    target = (booking.end + timedelta(days=1)).astimezone(rig.service.zone_of(
        rig.service.account("bob")))
    assert [(a.label, a.command, bool(a.confirm)) for a in restored(ready.actions)] == [
        (f"Login #{booking_id}", f"login {booking_id}", False),
        (f"Extend #{booking_id} to {target:%a %d %b %H:%M}",
         f"extend {booking_id} to {target.astimezone(UTC):%Y %m %d %H %M} UTC", False),
        (f"Restart #{booking_id}", f"restart {booking_id} after 0", True),
        (f"End #{booking_id} now", f"end {booking_id}", True),
    ]


def test_a_double_press_on_the_ready_messages_extend_extends_once(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    [ready] = _sent(rig, MessageKind.READY)
    end = rig.service.get(booking_id).end
    engine, bob = ConversationEngine(rig.service), rig.service.account("bob")
    extend = _button(ready, "extend")

    first = engine.press(bob, extend.command)
    second = engine.press(bob, extend.command)
    assert first.update is not None and first.update.text.startswith(f"Extended: #{booking_id}")
    assert second.update is not None
    assert second.update.text.startswith(f"Already extended: #{booking_id}")
    assert rig.service.get(booking_id).end == end + timedelta(days=1)


def test_an_extend_button_means_the_same_end_after_the_owner_changed_zone(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    [ready] = _sent(rig, MessageKind.READY)
    end = rig.service.get(booking_id).end
    engine = ConversationEngine(rig.service)
    engine.handle(rig.service.account("bob"), "timezone Europe/Berlin")  # was Asia/Taipei
    pressed = engine.press(rig.service.account("bob"), _button(ready, "extend").command)
    assert pressed.update is not None and pressed.update.text.startswith("Extended: ")
    assert rig.service.get(booking_id).end == end + timedelta(days=1)


def test_the_reminder_offers_extend_to_a_stated_end_and_end_now(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    rig.clock.now = rig.service.get(booking_id).end - timedelta(minutes=20)
    rig.step(booking_id)
    [reminder] = _sent(rig, MessageKind.REMINDER)
    labels = [a.label for a in restored(reminder.actions)]
    assert labels[0].startswith(f"Extend #{booking_id} to ")
    assert labels[1:] == [f"End #{booking_id} now"]
    engine, bob = ConversationEngine(rig.service), rig.service.account("bob")
    for _ in range(2):
        engine.press(bob, _button(reminder, "extend").command)
    assert rig.service.get(booking_id).end - rig.clock.now == timedelta(days=1, minutes=20)


def test_an_old_restart_press_after_the_restart_answers_with_the_state(rig: Rig) -> None:
    booking_id = rig.book()
    rig.step(booking_id)
    [ready] = _sent(rig, MessageKind.READY)
    engine, bob = ConversationEngine(rig.service), rig.service.account("bob")
    restart = _button(ready, "restart")

    asked = engine.press(bob, restart.command)
    assert asked.update is not None and asked.update.text.startswith("Restarting the container")
    rig.step(booking_id)  # the scheduler restarts it and says so
    assert rig.runtime.restarts == [f"booking-bob-{booking_id}"]
    [done] = [m for m in _sent(rig, MessageKind.INFO) if "was restarted" in m.text]

    again = engine.press(bob, restart.command)  # the ready message's button, pressed again
    rig.step(booking_id)
    assert rig.runtime.restarts == [f"booking-bob-{booking_id}"]  # not restarted again
    assert again.update is not None
    assert again.update.text.startswith("Already restarted at ")
    assert f"#{booking_id} [running] bob:" in again.update.text

    # The message that told of the restart has a Restart for the next one, which works.
    fresh = _button(done, "restart")
    assert (fresh.label, fresh.command) == (f"Restart #{booking_id}", f"restart {booking_id} after 1")
    assert fresh.confirm
    engine.press(bob, fresh.command)
    rig.step(booking_id)
    assert len(rig.runtime.restarts) == 2


def test_old_stored_actions_are_named_by_their_booking_and_still_ask_first() -> None:
    old = Action.from_dict({"label": "End now", "command": "end 12", "style": "danger"})
    assert (old.label, old.verb, old.booking_id) == ("End #12 now", "end", 12)
    assert old.confirm.startswith("End booking #12 now?")
    restart = Action.from_dict({"label": "Restart", "command": "restart 12", "style": ""})
    assert restart.label == "Restart #12" and restart.confirm
    new = Action.from_dict(Action("Extend #12 to Thu 03 Dec 10:00", "extend 12 to 2026 12 03 10 00",
                                  verb="extend", booking_id=12).to_dict())
    assert new.label == "Extend #12 to Thu 03 Dec 10:00"
