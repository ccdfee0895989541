"""The `/book` modal: pickers and choices, field errors while it stays open, a refusal
shown in the form with its offer, a booking, and what is free as the form changes."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.slack.conftest import CAROL
from tests.slack.harness import SlackWorld

IMAGE = "rober5566a/aivc-server:latest"
TAIPEI = ZoneInfo("Asia/Taipei")  # carol's Slack zone


def open_modal(world: SlackWorld, user: str = CAROL) -> dict[str, Any]:
    world.slack.command(user, "/book", "")
    return world.api.wait_for("views.update")[0].args["view"]


def form(**changes: Any) -> dict[str, Any]:
    values = {"cpus": "2", "memory": "8", "gpus": "1", "start": None, "length": "2-day",
              "until": None, "command": ""}
    return {**values, **changes}


def tomorrow_at(hour: int) -> int:
    day = datetime.now(TAIPEI).date() + timedelta(days=1)
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=TAIPEI).timestamp())


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)


def test_the_form_has_pickers_choices_and_numbers_bounded_by_the_members_maximum(
    world: SlackWorld,
):
    view = open_modal(world)

    assert element(view, "start")["type"] == "datetimepicker"
    assert element(view, "until")["type"] == "datetimepicker"
    lengths = [o["value"] for o in element(view, "length")["options"]]
    assert lengths == ["1-day", "2-day", "3-day", "5-day", "1-week", "2-week", "until"]
    cpus, gpus = element(view, "cpus"), element(view, "gpus")
    assert (cpus["min_value"], cpus["max_value"]) == ("1", "8")
    assert (gpus["min_value"], gpus["max_value"]) == ("0", "1")
    [free] = [b for b in view["blocks"] if b.get("block_id") == "free"]
    assert free["elements"][0]["text"].startswith("Free for the whole time, <!date^")


def test_a_start_in_the_past_is_shown_on_the_start_field_and_nothing_is_booked(
    world: SlackWorld,
):
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(start=int(time.time()) - 86400), IMAGE)

    answer = posted.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["start"]
    time.sleep(0.5)
    assert world.booking.service.bookings("carol") == []
    assert world.api.of("chat.postMessage") == []


def test_each_bad_field_gets_its_own_error(world: SlackWorld):
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(
        cpus="9", memory="1.5", length="until", until=None), IMAGE)

    errors = posted.json()["errors"]
    assert errors["cpus"] == "Your maximum is 8."
    assert errors["memory"] == "Enter a whole number."
    assert errors["until"] == "Choose when it should end, or a length above."
    assert "start" not in errors


def test_a_good_submission_closes_the_modal_and_books_for_the_chosen_length(world: SlackWorld):
    view = open_modal(world)

    posted = world.slack.submit_view(
        CAROL, view, form(start=tomorrow_at(9), command="jupyter lab"), IMAGE)

    assert posted.status == 200 and posted.body == b""  # an empty ack closes the modal
    assert posted.seconds < 3.0
    message = world.api.wait_for("chat.postMessage")[0].args
    assert message["channel"] == "D" + CAROL
    assert message["text"].startswith(f"Booked: #1 [booked] carol: <!date^{tomorrow_at(9)}^")
    [booking] = world.booking.service.bookings("carol")
    assert booking.command == "jupyter lab" and booking.image == IMAGE
    assert booking.end - booking.start == timedelta(days=2)


def test_until_books_up_to_the_chosen_end(world: SlackWorld):
    view = open_modal(world)

    world.slack.submit_view(CAROL, view, form(
        start=tomorrow_at(9), length="until", until=tomorrow_at(21)), IMAGE)

    world.api.wait_for("chat.postMessage")
    [booking] = world.booking.service.bookings("carol")
    assert int(booking.end.timestamp()) == tomorrow_at(21)


def test_a_capacity_refusal_is_shown_in_the_form_with_its_offer_which_books(world: SlackWorld):
    service = world.booking.service
    service.set_limits("alice", {"gpus": "4"})
    held = service.book(BookingRequest("alice", Resources(2, 8, 4), "now", "2-day"))
    view = open_modal(world)

    posted = world.slack.submit_view(CAROL, view, form(cpus="3", command="nvidia-smi"), IMAGE)

    answer = posted.json()
    assert answer["response_action"] == "update"
    redrawn = answer["view"]
    assert redrawn["blocks"][0]["text"]["text"].startswith("Not enough free")
    assert element(redrawn, "cpus")["initial_value"] == "3"  # the form as submitted
    assert element(redrawn, "command")["initial_value"] == "nvidia-smi"
    [offer] = [e for b in redrawn["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["text"]["text"].startswith("Book from ")]
    assert service.bookings("carol") == []

    world.slack.interactive({
        "type": "block_actions", "team": {"id": "T0001"}, "user": {"id": CAROL},
        "api_app_id": "A0001", "token": "legacy", "trigger_id": "t",
        "container": {"type": "view", "view_id": "VMODAL"},
        "view": {**redrawn, "id": "VMODAL"},
        "actions": [{**offer, "block_id": "notice:1", "action_ts": "1"}]})

    booked = world.api.wait_for("chat.postMessage")[0].args
    assert booked["text"].startswith("Booked: #2")
    shown = world.api.wait_for("views.update", lambda c: c.args.get("view_id") == "VMODAL")
    assert "Booked: #2" in shown[0].args["view"]["blocks"][0]["text"]["text"]
    [booking] = service.bookings("carol")
    assert booking.start == held.end and booking.command == "nvidia-smi"


def test_what_is_free_is_redrawn_as_the_form_changes(world: SlackWorld):
    service = world.booking.service
    service.set_limits("alice", {"gpus": "4"})
    service.book(BookingRequest("alice", Resources(2, 8, 4), "now", "1-day"))
    view = open_modal(world)

    world.slack.change(CAROL, view, "gpus", "1")

    redrawn = world.api.wait_for("views.update", count=2)[1].args
    assert redrawn["view_id"] == "VMODAL" and redrawn["hash"] == "2.abc"
    assert free_words(redrawn["view"]).endswith(
        ": 60 CPUs, 32 GB, 0 GPUs. Not enough GPUs then: booking offers the earliest start "
        "that fits.")

    world.slack.change(CAROL, view, "start", tomorrow_at(9) + 86400, {"gpus": "1"})

    later = world.api.wait_for("views.update", count=3)[2].args["view"]
    assert free_words(later).endswith("4 GPUs. Your request fits.")


def free_words(view: dict[str, Any]) -> str:
    [free] = [b for b in view["blocks"] if b.get("block_id") == "free"]
    return str(free["elements"][0]["text"])
