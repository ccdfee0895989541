"""The conversation engine, as a member sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.chat.actions import parse_press
from core.chat.conversation import ConversationEngine
from core.chat.messages import Reply
from core.domain.model import Status
from core.domain.passwords import PasswordDeriver
from tests.factories import fake_service


def chat(engine: ConversationEngine, service, user: str, *lines: str) -> list[Reply]:  # type: ignore[no-untyped-def]
    replies: list[Reply] = []
    for line in lines:
        replies = engine.handle(service.account(user), line)
    return replies


@pytest.fixture
def setup():  # type: ignore[no-untyped-def]
    service, store = fake_service()
    return ConversationEngine(service), service, store


def test_one_line_books_everything(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [reply] = chat(engine, service, "bob", "book 2 gpus 8 cpus 32g now 3-day")
    assert reply.text.startswith("Booked: #1 [booked] bob: 2026-11-29 12:00 CST -> 2026-12-02 12:00 CST")
    assert "8 CPUs, 32 GB, 2 GPUs (ids 0,1)" in reply.text
    assert [(a.label, a.command) for a in reply.actions] == [
        ("Cancel #1", "cancel 1"), ("Extend #1 to Thu 03 Dec 12:00", "extend 1 to 2026 12 03 04 00 UTC")]


def test_unnamed_resources_take_the_configured_defaults(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [reply] = chat(engine, service, "bob", "book 1 gpu tomorrow 9am for 1-week")
    assert "2026-11-30 09:00 CST -> 2026-12-07 09:00 CST, 4 CPUs, 16 GB, 1 GPU" in reply.text


def test_missing_parts_are_asked_in_the_old_order(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, store = setup
    [ask] = chat(engine, service, "bob", "book")
    assert "Your maximum: cpus=8 memory=32 gpus=2" in ask.text
    [ask] = chat(engine, service, "bob", "9 32 1")
    assert "Over your maximum" in ask.text and "How much do you need?" in ask.text
    [ask] = chat(engine, service, "bob", "4 16 1")
    assert ask.text.startswith("When should it start?")
    [ask] = chat(engine, service, "bob", "yesterday at noon")
    assert "start is in the past" in ask.text and "When should it start?" in ask.text
    [ask] = chat(engine, service, "bob", "tomorrow 9am")
    assert ask.text.startswith("When should it end?")
    [done] = chat(engine, service, "bob", "3-day")
    assert "2026-11-30 09:00 CST -> 2026-12-03 09:00 CST, 4 CPUs, 16 GB, 1 GPU" in done.text
    assert store.conversations["bob"] == {}


def test_state_survives_a_new_engine(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    chat(engine, service, "bob", "book 1 gpu now")
    restarted = ConversationEngine(service)  # as after a restart: state is in the store
    [done] = chat(restarted, service, "bob", "1-day")
    assert done.text.startswith("Booked: #1")


def test_abort_forgets_the_request(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, store = setup
    chat(engine, service, "bob", "book 1 gpu")
    [reply] = chat(engine, service, "bob", "abort")
    assert "forgot" in reply.text
    [reply] = chat(engine, service, "bob", "now")
    assert "did not understand" in reply.text
    assert store.bookings == {}


def test_a_refusal_offers_the_earliest_start_and_yes_takes_it(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    chat(engine, service, "alice", "book 4 gpus 2 cpus 8g now 1-day")
    [offer] = chat(engine, service, "bob", "book 1 gpu now 2-day")
    assert "GPUs (1 asked, 0 free)" in offer.text
    assert "earliest start that fits is 2026 11 30 12 00 (CST)" in offer.text
    take, notify = offer.actions
    assert take.command == "book 4 cpus 16g 1 gpus 2026 11 30 12 00 to 2026 12 02 12 00"
    assert (notify.label, notify.command) == (
        "Notify me", "notify me 4 cpus 16g 1 gpus now to 2026 12 01 12 00")
    [done] = chat(engine, service, "bob", "yes")
    assert "bob: 2026-11-30 12:00 CST -> 2026-12-02 12:00 CST" in done.text


def test_an_old_offer_button_books_what_it_offered(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    chat(engine, service, "alice", "book 4 gpus 2 cpus 8g now 1-day")
    [first] = chat(engine, service, "bob", "book 1 gpu now 2-day")
    chat(engine, service, "bob", "book 2 gpus 2 cpus 8g now 1-day")  # a newer offer
    [done] = chat(engine, service, "bob", first.actions[0].command)  # the first offer's button
    assert "bob: 2026-11-30 12:00 CST -> 2026-12-02 12:00 CST, 4 CPUs, 16 GB, 1 GPU" in done.text


def test_list_cancel_and_extend(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, store = setup
    chat(engine, service, "bob", "book 1 gpu 1-day for 1-day")
    [listing] = chat(engine, service, "bob", "list")
    assert "#1 [booked] bob: 2026-11-30 12:00 CST -> 2026-12-01 12:00 CST" in listing.text
    [extended] = chat(engine, service, "bob", "extend 1 2-day")
    assert "-> 2026-12-03 12:00 CST" in extended.text
    [other] = chat(engine, service, "carol", "cancel 1")
    assert "There is no booking #1 of yours" in other.text
    [cancelled] = chat(engine, service, "bob", "cancel #1")
    assert cancelled.text == "Booking #1 is cancelled."
    assert store.bookings[1].status == Status.CANCELLED
    [empty] = chat(engine, service, "bob", "list")
    assert "no upcoming or running bookings" in empty.text


def test_help_and_nonsense(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [reply] = chat(engine, service, "bob", "help")
    assert "book 1 gpu 8 cpus 32g now 3-day" in reply.text
    [reply] = chat(engine, service, "bob", "make me a sandwich")
    assert "I did not understand" in reply.text
    [reply] = chat(engine, service, "bob", "extend")
    assert "Which booking?" in reply.text


@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_random_text_never_crashes_the_conversation(lines: list[str]) -> None:
    service, _store = fake_service()
    engine = ConversationEngine(service)
    for line in lines:
        for reply in engine.handle(service.account("bob"), line):
            assert reply.text
            assert "Something went wrong" not in reply.text


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2bXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlr bob@laptop"


def test_members_manage_their_ssh_keys_and_time_zone(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, store = setup
    [reply] = chat(engine, service, "bob", "keys")
    assert "You have no SSH keys here" in reply.text
    [reply] = chat(engine, service, "bob", "key not-a-key")
    assert "That is not an SSH public key" in reply.text
    [reply] = chat(engine, service, "bob", f"key {KEY}")
    assert reply.text.startswith("Key saved (1 in all)")
    chat(engine, service, "bob", f"key {KEY}")  # the same key twice is kept once
    assert store.accounts["bob"].ssh_keys == KEY
    [reply] = chat(engine, service, "bob", "keys")
    assert "- ssh-ed25519 ..." in reply.text and "bob@laptop" in reply.text
    [reply] = chat(engine, service, "bob", "timezone Europe/Berlin")
    assert reply.text == "From now on your times are shown in Europe/Berlin."
    [booked] = chat(engine, service, "bob", "book 1 gpu now 1-day")
    assert "2026-11-29 05:00 CET" in booked.text
    [reply] = chat(engine, service, "bob", "keys clear")
    assert "removed" in reply.text and store.accounts["bob"].ssh_keys == ""


def test_end_with_a_duration_answers_the_question_and_cancels_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, store = setup
    chat(engine, service, "alice", "book 1 gpu 1-day for 1-day")  # booking #1
    chat(engine, service, "bob", "book 1 gpu now")
    [done] = chat(engine, service, "bob", "end 3-day")
    assert done.text.startswith("Booked: #2 [booked] bob: 2026-11-29 12:00 CST -> 2026-12-02 12:00 CST")
    [reply] = chat(engine, service, "alice", "cancel 1-day")
    assert "Which booking? Say `cancel N`" in reply.text
    assert store.bookings[1].status == "booked"


def test_a_start_that_went_by_is_asked_again_not_the_end(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    chat(engine, service, "bob", "book 1 cpu 1g today 13:00")
    service._clock.advance(hours=1, minutes=30)  # type: ignore[attr-defined]  # 13:40 now
    [reply] = chat(engine, service, "bob", "1-day")
    assert reply.text == "The start is in the past; use `now` or a later time. When should it start?"
    [reply] = chat(engine, service, "bob", "now")
    assert reply.text.startswith("Booked: #1 [booked] bob: 2026-11-29 13:30 CST -> 2026-11-30 13:30 CST")


def test_unnamed_gpus_default_is_capped_at_the_members_maximum() -> None:
    service, _store = fake_service(booking={"default_request": {"cpus": 2, "memory": 4, "gpus": 3}})
    engine = ConversationEngine(service)
    [reply] = chat(engine, service, "bob", "book 2 cpus now 1-day")
    assert "2 CPUs, 4 GB, 2 GPUs" in reply.text  # bob may have 2 GPUs at most


# ----- issue 10: buttons that name their booking and act once -----------------


def test_a_list_gives_each_booking_its_own_buttons_named_by_it(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    chat(engine, service, "bob", "book 1 gpu tomorrow 9am 1-day")
    chat(engine, service, "bob", "book 1 gpu 2026 12 05 09 00 1-day")
    [listed] = chat(engine, service, "bob", "list")
    assert [c.booking_id for c in listed.cards] == [1, 2]
    for card in listed.cards:
        assert card.text.startswith(f"#{card.booking_id} [booked] bob:")
        assert [a.label.split(" to ")[0] for a in card.actions] == [
            f"Cancel #{card.booking_id}", f"Extend #{card.booking_id}"]
        assert all(a.booking_id == card.booking_id for a in card.actions)


def test_every_destructive_verb_asks_first_and_the_others_do_not() -> None:
    assert parse_press("cancel 3").confirm.startswith("Cancel booking #3?")
    assert parse_press("end 3").confirm.startswith("End booking #3 now?")
    assert parse_press("restart 3").confirm.startswith("Restart the container of booking #3?")
    assert parse_press("extend 3 to 2026 12 01 10 00").confirm == ""
    assert parse_press("login 3").confirm == ""


def test_a_second_cancel_press_acts_once_and_answers_with_the_state(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, store = setup
    chat(engine, service, "bob", "book 1 gpu tomorrow 9am 1-day")
    first = engine.press(service.account("bob"), "cancel 1")
    second = engine.press(service.account("bob"), "cancel 1")
    assert first.update is not None and first.update.text == "Booking #1 is cancelled."
    assert first.update.actions == ()  # the message's buttons disappear
    assert second.update is not None
    assert second.update.text == "Nothing to do: Booking #1 is cancelled."
    assert [e.kind for e in store.events].count("cancelled") == 1


def test_an_extend_press_states_its_target_so_a_second_press_changes_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [done] = chat(engine, service, "bob", "book 1 gpu tomorrow 9am 1-day")
    [extend] = [a for a in done.actions if a.verb == "extend"]
    assert extend.label == "Extend #1 to Wed 02 Dec 09:00"
    first = engine.press(service.account("bob"), extend.command)
    second = engine.press(service.account("bob"), extend.command)
    assert first.update is not None and first.update.text.startswith("Extended: #1")
    assert second.update is not None and second.update.text.startswith("Already extended: #1")
    assert service.get(1).end - service.get(1).start == timedelta(days=2)
    # the updated message offers the next day, not the pressed one again
    assert any(a.label == "Extend #1 to Thu 03 Dec 09:00" for a in first.update.actions)


def test_an_offer_keeps_image_and_command_and_books_once_after_a_restart(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    image = service.config.images.allowed[-1]
    for member in ("alice", "carol"):  # all four GPUs for two days
        chat(engine, service, member, "book 2 gpus 2 cpus 8g now 2-day")
    [offer] = chat(engine, service, "bob",
                   f"book 1 gpu now 1-day image {image} command jupyter lab --port  8888")
    take, _notify = offer.actions
    assert take.label.startswith("Book from ") and take.request["image"] == image
    assert take.request["command"] == "jupyter lab --port  8888"

    restarted = ConversationEngine(service)  # nothing kept in memory
    pressed = restarted.press(service.account("bob"), take.command)
    assert pressed.update is not None and pressed.update.text.startswith("Booked: #3")
    booking = service.get(3)
    assert (booking.image, booking.command) == (image, "jupyter lab --port  8888")
    assert booking.start == service.get(1).end and booking.end - booking.start == timedelta(days=1)
    again = restarted.press(service.account("bob"), take.command)
    assert again.update is not None and again.update.text.startswith("Already booked: #3")
    assert len(service.bookings("bob")) == 1


def test_login_shows_a_running_bookings_login_privately_to_its_owner_only(setup) -> None:  # type: ignore[no-untyped-def]
    _engine, service, store = setup
    deriver = PasswordDeriver(b"0123456789abcdef0123")
    engine = ConversationEngine(service, passwords=lambda: deriver)
    chat(engine, service, "bob", "book 1 gpu now 1-day")
    [waiting] = chat(engine, service, "bob", "login 1")
    assert waiting.private and "booked" in waiting.text and "password" not in waiting.text
    store.bookings[1].status = Status.RUNNING
    [login] = chat(engine, service, "bob", "login #1")
    assert login.private
    port = service.get(1).port
    assert f"port:     {port}" in login.text
    assert f"password: {deriver.password_for(service.get(1))}" in login.text
    assert f"ssh -p {port} " in login.text
    [other] = chat(engine, service, "carol", "login 1")
    assert other.text == "There is no booking #1 of yours; `list` shows yours."


def test_a_request_over_the_maximum_is_remembered_for_the_next_answer(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [over] = chat(engine, service, "bob", "book 8 gpus tomorrow 9am 1-day")
    assert "Over your maximum" in over.text and over.text.endswith("How much do you need?")
    [done] = chat(engine, service, "bob", "1 gpu")
    assert done.text.startswith("Booked: #1 [booked] bob: 2026-11-30 09:00 CST -> 2026-12-01 09:00")



def test_a_refused_end_and_the_next_question_read_as_two_sentences(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [reply] = chat(engine, service, "bob", "book 1 gpu now", "15-day")
    assert reply.text.endswith("days go from 1 to 14. When should it end?"), reply.text


def test_a_refusal_ending_in_an_example_still_ends_its_sentence(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [reply] = chat(engine, service, "bob", "book 1 gpu now for 3.5")
    assert reply.text.endswith("`9am`. When should it end?"), reply.text


def test_a_thanks_or_a_greeting_gets_a_short_answer_and_an_offer_still_takes_ok(setup) -> None:  # type: ignore[no-untyped-def]
    engine, service, _store = setup
    [reply] = chat(engine, service, "bob", "Thanks!")
    assert reply.text == "You're welcome. Say `list` to see your bookings."
    [reply] = chat(engine, service, "bob", "hi")
    assert reply.text.startswith("Hello! Say `book 1 gpu now 1-day` to book")
    chat(engine, service, "alice", "book 4 gpus 2 cpus 8g now 1-day")
    [offer] = chat(engine, service, "bob", "book 1 gpu now 2-day")
    assert [a.verb for a in offer.actions] == ["book", "notify"]
    [booked] = chat(engine, service, "bob", "ok")  # an answer to the offer, not small talk
    assert "bob: 2026-11-30 12:00 CST -> 2026-12-02 12:00 CST" in booked.text
