"""Buttons that destroy work ask first, decided by the action's verb, not by its looks."""

from datetime import UTC, datetime, timedelta

from bot.slack.blocks import button
from core.chat.actions import Action, booking_actions
from core.domain.model import Booking, Resources, Status

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def running(status: Status = Status.RUNNING) -> Booking:
    return Booking(account="bob", start=START, end=START + timedelta(days=1),
                   resources=Resources(2, 8, 1), gpu_ids=(0,), port=10001, image="img",
                   status=status, id=7)


def test_end_restart_and_cancel_ask_before_acting_login_and_extend_do_not() -> None:
    login, extend, restart, end_now = (button(a, n) for n, a in
                                       enumerate(booking_actions(running(), UTC, 14)))
    assert [b["text"]["text"] for b in (login, extend, restart, end_now)] == [
        "Login #7", "Extend #7 to Thu 03 Dec 09:00", "Restart #7", "End #7 now"]
    confirm = end_now["confirm"]
    assert confirm["title"]["text"] == "End #7 now?"
    assert confirm["text"]["text"].startswith("End booking #7 now?")
    assert confirm["confirm"]["text"] == "End #7 now" and confirm["deny"]["text"] == "Keep it"
    assert restart["confirm"]["text"]["text"].startswith("Restart the container of booking #7?")
    assert "style" not in restart  # asked although it does not look dangerous
    assert "confirm" not in extend and "confirm" not in login
    cancel = button(booking_actions(running(Status.BOOKED), UTC, 14)[0], 0)
    assert cancel["confirm"]["title"]["text"] == "Cancel #7?"


def test_a_danger_style_alone_asks_nothing() -> None:
    assert "confirm" not in button(Action("Book from Thu", "book ...", "danger"), 1)
