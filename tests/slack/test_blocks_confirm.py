"""Buttons that destroy work ask first; the others act at once."""

from bot.slack.blocks import button
from core.conversation import booking_actions


def test_end_now_and_cancel_ask_before_acting_extend_does_not() -> None:
    end_now, extend, restart = (button(a, n) for n, a in enumerate(booking_actions(7, running=True)))
    assert end_now["text"]["text"] == "End now"
    confirm = end_now["confirm"]
    assert confirm["title"]["text"] == "End now?"
    assert confirm["confirm"]["text"] == "End now" and confirm["deny"]["text"] == "Keep it"
    assert len(confirm["text"]["text"]) <= 300
    assert "confirm" not in extend and "confirm" not in restart
    cancel = button(booking_actions(7)[0], 0)
    assert cancel["confirm"]["title"]["text"] == "Cancel?"
