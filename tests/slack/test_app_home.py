"""The App Home through the real app: any member sees who holds which GPU until when and
what is free, their past bookings; an admin also sees failures, bookings stuck ending and
everyone's running bookings with their buttons."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from core.domain.model import Booking, Resources, Status
from core.services.capacity import BookingRequest
from tests.slack.conftest import ALICE, BOB, CAROL
from tests.slack.harness import SlackWorld


def opened_home(world: SlackWorld, user: str) -> dict[str, Any]:
    def theirs(call: Any) -> bool:
        return bool(call.args["user_id"] == user)
    world.adapter._home._worker.submit(lambda: None).result()  # earlier refreshes are out
    seen = len([c for c in world.api.of("views.publish") if theirs(c)])
    world.slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user,
                       "tab": "home"})
    return world.api.wait_for("views.publish", theirs, count=seen + 1)[-1].args["view"]


def texts(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] in ("section", "header")]


def set_status(world: SlackWorld, booking: Booking, status: Status, **changes: Any) -> None:
    with world.booking.service.unit() as uow:
        uow.bookings.save(replace(booking, status=status, **changes))
        uow.commit()


def test_a_member_sees_who_holds_which_gpu_until_when_and_their_past_bookings(
    world: SlackWorld,
):
    service = world.booking.service
    held = service.book(BookingRequest("alice", Resources(2, 8, 1), "now", "1-day"))
    over = service.book(BookingRequest("carol", Resources(1, 2, 0), "tomorrow 9am", "1-day"))
    service.cancel(over.id or 0, actor="carol")

    view = opened_home(world, CAROL)

    shown = texts(view)
    server = shown[shown.index("The server") + 1]
    assert "Who holds which GPU:" in server
    assert f"• GPU 0: alice (#{held.id}) from <!date^{int(held.start.timestamp())}^" in server
    assert f"until <!date^{int(held.end.timestamp())}^" in server
    assert "CST" not in server and "Changing limits" not in server
    past = shown[shown.index("Your past bookings") + 1]
    assert past.startswith(f"#{over.id} [cancelled] carol: <!date^")
    assert "For admins" not in shown


def test_an_admin_sees_failures_stuck_endings_and_everyones_running_bookings(
    world: SlackWorld,
):
    service = world.booking.service
    running = service.book(BookingRequest("bob", Resources(2, 8, 0), "now", "1-day"))
    set_status(world, running, Status.RUNNING)
    stuck = service.book(BookingRequest("carol", Resources(1, 2, 0), "now", "1-day"))
    set_status(world, stuck, Status.ENDING, end=service.now() - timedelta(hours=1))
    failed = service.book(BookingRequest("carol", Resources(1, 2, 0), "tomorrow 9am", "1-day"))
    set_status(world, failed, Status.FAILED)

    view = opened_home(world, ALICE)

    shown = texts(view)
    admin = shown[shown.index("For admins"):]
    assert admin[1] == "*Failed in the last 7 days*"
    assert admin[2].startswith(f"#{failed.id} [failed] carol:")
    assert admin[3] == "*Still ending (container not gone yet)*"
    assert admin[4].startswith(f"#{stuck.id} [ending] carol:")
    assert admin[5] == "*Everyone's running bookings*"
    assert admin[6].startswith(f"#{running.id} [running] bob:")
    [controls] = [b for b in view["blocks"]
                  if b.get("block_id", "").startswith(f"card:{running.id}:actions")]
    assert f"end {running.id}" in [e["value"] for e in controls["elements"]]

    bobs = texts(opened_home(world, BOB))
    assert "For admins" not in bobs
