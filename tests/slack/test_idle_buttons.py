"""The idle question in Slack (issue 15, part 4): delivered by the outbox as a DM with
Keep and End now (which asks first); Keep pressed twice keeps once. Through the idle watch,
the real Bolt app and the local Web API; the GPUs' utilisation is a stand-in (our port)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest

from core.chat import idle_words
from core.services.idle_watch import IdleWatch
from core.services.ports import SchedulerUnitOfWork
from tests.factories import Clock
from tests.slack.conftest import BOB
from tests.slack.test_chat_layer import button, dms_to, flush_outbox, responses
from tests.slack.test_lifecycle_buttons import _running


class IdleGpus:
    def utilisation(self) -> dict[int, float]:
        return {gpu: 1.0 for gpu in range(4)}


def test_the_idle_question_offers_keep_and_end_now_and_keep_acts_once(  # type: ignore[no-untyped-def]
    world, monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = world.booking.service
    booking = _running(world)
    number = booking.id or 0
    clock = Clock(service.now())
    monkeypatch.setattr(service, "now", clock)  # the outbox and the press see the same time
    watch = IdleWatch(config=service.config, uow=cast(Callable[[], SchedulerUnitOfWork], service.unit),
                      gpus=IdleGpus(), words=idle_words, clock=clock,
                      end=lambda booking_id: service.cancel(booking_id, actor=None))
    for _ in range(5 * 6):  # five idle hours, sampled every ten minutes (notify_hours: 4)
        clock.advance(minutes=10)
        watch.sample()
    assert flush_outbox(world) == 1
    [dm] = dms_to(world, BOB)
    assert f"of booking #{number} have been idle (below 5% use)" in dm.args["text"]
    blocks = dm.args["blocks"]
    shown = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["text"]["text"] for e in shown] == [f"Keep #{number}", f"End #{number} now"]
    asks = {e["text"]["text"]: e.get("confirm", {}).get("title", {}).get("text") for e in shown}
    assert asks == {f"Keep #{number}": None, f"End #{number} now": f"End #{number} now?"}

    block, keep = button(blocks, f"Keep #{number}")
    world.slack.press(BOB, keep, block)
    [first] = responses(world, 1)
    world.slack.press(BOB, keep, block)
    [_, second] = responses(world, 2)
    assert first["text"].startswith(f"Kept: booking #{number} runs on until")
    assert second["text"].startswith(f"Already kept: booking #{number}")
    with service.unit() as uow:
        kinds = [e.kind for e in uow.bookings.events(number)]
    assert kinds.count("idle_kept") == 1 and kinds.count("idle_notified") == 1
