"""The conversation in a pool of servers (issue 14), on real SQLite: `on gpu2`, placement
of unnamed requests, refusals per server and the offer that books on the offered server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import bootstrap
from core.chat.messages import booking_dict
from core.domain.model import Status
from tests.support.pool_config import build_pool


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[bootstrap.App]:
    yield build_pool(tmp_path, "bob", "carol", "dave")


def say(app: bootstrap.App, user: str, text: str):  # type: ignore[no-untyped-def]
    return app.conversation.handle(app.service.account(user), text)


def test_a_request_on_gpu2_lands_there_and_the_reply_says_so(pool) -> None:  # type: ignore[no-untyped-def]
    [reply] = say(pool, "bob", "book 1 gpu now 1-day on gpu2")
    assert reply.text.startswith("Booked: #1 on gpu2 [booked] bob:"), reply.text
    [booking] = pool.service.bookings("bob")
    assert booking.server == "gpu2"
    assert booking_dict(booking, pool.service.zone_of(pool.service.account("bob")))["server"] == "gpu2"
    [listing] = say(pool, "bob", "list")
    assert "#1 on gpu2 [booked]" in listing.text


def test_an_unnamed_four_gpu_request_lands_on_gpu1(pool) -> None:  # type: ignore[no-untyped-def]
    [reply] = say(pool, "bob", "book 4 gpus now 1-day")
    assert reply.text.startswith("Booked: #1 on gpu1 [booked]"), reply.text


def test_an_unknown_server_is_refused_with_the_names(pool) -> None:  # type: ignore[no-untyped-def]
    [reply] = say(pool, "bob", "book 1 gpu now 1-day on gpu9")
    assert reply.text == "There is no server `gpu9`; the servers are gpu1, gpu2."
    assert pool.service.bookings("bob") == []
    [reply] = say(pool, "bob", "book 1 gpu now 1-day on " + "x9" * 200)
    assert "too long" in reply.text  # capped before anything reads it


def test_on_a_weekday_stays_a_time(pool) -> None:  # type: ignore[no-untyped-def]
    [reply] = say(pool, "bob", "book 1 gpu on monday 9am for 1-day")
    assert reply.text.startswith("Booked: #1 on gpu"), reply.text


def test_when_both_are_full_the_refusal_says_each_and_the_offer_books_on_that_server(pool) -> None:  # type: ignore[no-untyped-def]
    assert "on gpu1" in say(pool, "carol", "book 4 gpus now 2-day on gpu1")[0].text
    assert "on gpu2" in say(pool, "dave", "book 2 gpus now 1-day on gpu2")[0].text
    [refused] = say(pool, "bob", "book 2 gpus now 1-day")
    assert refused.text.startswith("No server has room for that. gpu1: "), refused.text
    assert " gpu2: " in refused.text and "on gpu2." in refused.text  # gpu2 frees up first
    take = next(a for a in refused.actions if a.verb == "book")
    assert take.command.endswith(" on gpu2") and take.request["server"] == "gpu2"
    notify = next(a for a in refused.actions if a.verb == "notify")
    assert notify.command.endswith(" on gpu2")
    [done] = say(pool, "bob", "yes")
    assert done.text.startswith("Booked: #3 on gpu2"), done.text
    [booking] = pool.service.bookings("bob")
    assert (booking.server, booking.status) == ("gpu2", Status.BOOKED)


def test_the_offer_button_books_on_the_offered_server(pool) -> None:  # type: ignore[no-untyped-def]
    say(pool, "carol", "book 4 gpus now 1-day on gpu1")
    say(pool, "dave", "book 2 gpus now 2-day on gpu2")
    [refused] = say(pool, "bob", "book 2 gpus now 1-day")
    take = next(a for a in refused.actions if a.verb == "book")
    assert take.command.endswith(" on gpu1")
    pressed = pool.conversation.press(pool.service.account("bob"), take.command)
    assert pressed.update is not None and pressed.update.text.startswith("Booked: #3 on gpu1")


def test_a_named_full_server_offers_its_own_earliest_start(pool) -> None:  # type: ignore[no-untyped-def]
    say(pool, "dave", "book 2 gpus now 1-day on gpu2")
    [refused] = say(pool, "bob", "book 1 gpu now 1-day on gpu2")
    take = next(a for a in refused.actions if a.verb == "book")
    assert take.command.endswith(" on gpu2")
    [done] = say(pool, "bob", "yes")
    assert done.text.startswith("Booked: #2 on gpu2"), done.text


def test_notify_me_waits_on_the_named_server(pool) -> None:  # type: ignore[no-untyped-def]
    say(pool, "dave", "book 2 gpus now 1-day on gpu2")
    say(pool, "bob", "book 1 gpu now 1-day on gpu2")
    [joined] = say(pool, "bob", "notify me")
    assert "tell you" in joined.text.lower() or "wait" in joined.text.lower(), joined.text
    assert len(pool.service.servers()["gpu2"].waitlist("bob")) == 1


def test_capacity_and_the_board_show_each_server(pool) -> None:  # type: ignore[no-untyped-def]
    from core.chat import admin_views
    from core.chat.board import board

    say(pool, "bob", "book 1 gpu now 1-day on gpu2")
    zone = pool.service.zone_of(None)
    view = admin_views.capacity_summary(pool.service, zone, admin=True)
    titles = [section.title for section in view.sections]
    assert [t[0].text for t in titles if t and isinstance(t[0], admin_views.Strong)] == [
        "gpu1", "gpu2"]
    assert {record["server"] for record in view.records} == {"gpu1", "gpu2"}
    shown = board(pool.service)
    assert shown.startswith("**Bookings on gpu1, gpu2**")
    gpu1, gpu2 = shown.split("__gpu2__")
    assert "#1 bob" not in gpu1 and "#1 bob" in gpu2
