"""What the scheduler sends a member in Slack, through the real outbox and notifier to the
local Web API (issue 11): the ready message keeps its password out of the notification
preview, reminders carry Extend and End now, and an admin's end or restart is told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from core.chat import lifecycle_messages as words
from core.domain.model import Booking, Resources, Status
from core.domain.passwords import PasswordDeriver
from core.runtime.secret_file import load_secret
from core.services.capacity import BookingRequest
from core.services.outbox import OutboxSender, enqueue
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.slack.conftest import ALICE, BOB
from tests.slack.harness import SlackWorld

Block = dict[str, Any]


def running(world: SlackWorld) -> Booking:
    service = world.booking.service
    booking = service.book(BookingRequest("bob", Resources(2, 8, 1), "now", "1-day"))
    with service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return service.get(booking.id or 0)


def sender(world: SlackWorld, passwords: PasswordDeriver) -> OutboxSender:
    engine = world.booking.engine
    assert engine is not None
    units = cast(Callable[[], SchedulerUnitOfWork],
                 lambda: SqlUnitOfWork(engine, world.booking.server_id))
    return OutboxSender(uow=units, passwords=passwords,
                        notifiers=[("slack", world.adapter.notifier)],
                        fallback=("slack", world.adapter.notifier),
                        clock=world.booking.service.now)


def send(world: SlackWorld, message: Any, passwords: PasswordDeriver) -> None:
    service = world.booking.service
    with service.unit() as uow:
        enqueue(uow.outbox, "bob", message, service.now())  # type: ignore[attr-defined]
        uow.commit()
    assert sender(world, passwords).flush() == 1


def dms_to_bob(world: SlackWorld) -> list[dict[str, Any]]:
    return [c.args for c in world.api.of("chat.postMessage") if c.args["channel"] == "D" + BOB]


def buttons(blocks: list[Block]) -> dict[str, Block]:
    return {e["text"]["text"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def test_the_ready_dm_keeps_the_password_out_of_the_preview_and_shows_it_as_code(
    world: SlackWorld, tmp_path: Path,
):
    booking = running(world)
    service = world.booking.service
    passwords = PasswordDeriver(load_secret(None, tmp_path))
    password = passwords.password_for(booking)

    send(world, words.ready(service.config, booking, service.account("bob"), []), passwords)

    [dm] = dms_to_bob(world)
    assert password not in dm["text"]  # what push notifications and lock screens show
    assert dm["text"].startswith(f"Your booking #{booking.id} is ready until ")
    assert dm["text"].endswith("Open the message for the login.")
    shown = "\n".join(b["text"]["text"] for b in dm["blocks"] if b["type"] == "section")
    assert f"password: `{password}`" in shown
    assert f"`ssh -p {booking.port} root@gpu1.example.org`" in shown
    assert "  " not in shown  # no columns aligned with spaces in a proportional font
    number = booking.id
    assert [label for label in buttons(dm["blocks"]) if f"#{number}" in label] == [
        f"Login #{number}", *[label for label in buttons(dm["blocks"])
                              if label.startswith(f"Extend #{number} to ")],
        f"Restart #{number}", f"End #{number} now"]


def test_a_reminder_offers_extend_and_end_now_and_end_asks_first(
    world: SlackWorld, tmp_path: Path,
):
    booking = running(world)
    service = world.booking.service
    number = booking.id
    send(world, words.reminder(service.config, booking, service.account("bob"), 30),
         PasswordDeriver(load_secret(None, tmp_path)))

    [dm] = dms_to_bob(world)
    assert dm["text"].startswith(f"Booking #{number} ends at ")
    shown = buttons(dm["blocks"])
    [extend] = [label for label in shown if label.startswith(f"Extend #{number} to ")]
    end = shown[f"End #{number} now"]
    assert end["confirm"]["title"]["text"] == f"End #{number} now?"  # Slack asks first
    assert "confirm" not in shown[extend]

    block = next(b for b in dm["blocks"] if b["type"] == "actions" and end in b["elements"])
    world.slack.press(BOB, end, block)  # after the member said yes in Slack's dialog
    answer = world.api.wait_for("response_url")[0].args
    assert answer["replace_original"] is True
    assert answer["text"].startswith(f"Booking #{number} ends now")
    assert service.get(number or 0).end <= service.now()


def test_the_owner_is_told_when_an_admin_ends_or_restarts_their_running_booking(
    world: SlackWorld, tmp_path: Path,
):
    service = world.booking.service
    booking = running(world)
    number = booking.id

    world.slack.command(ALICE, "/book", f"restart {number}")
    world.api.wait_for("response_url")
    world.slack.command(ALICE, "/book", f"end {number}")
    world.api.wait_for("response_url", count=2)
    assert service.get(number or 0).end <= service.now()

    sender(world, PasswordDeriver(load_secret(None, tmp_path))).flush()
    told = [dm["text"] for dm in dms_to_bob(world)]
    assert any(t.startswith(f"alice (an admin) restarted the container of your booking "
                            f"#{number};") for t in told), told
    assert any(t.startswith(f"alice (an admin) ended your booking #{number} now;")
               for t in told), told


def test_an_admin_says_why_and_the_owner_reads_it(world: SlackWorld, tmp_path: Path):
    service = world.booking.service
    first = service.book(BookingRequest("bob", Resources(1, 1, 0), "in 3 days", "1-day"))
    second = running(world)

    world.slack.command(ALICE, "/book", f"cancel {first.id} because GPU 0 goes for repair")
    world.api.wait_for("response_url")
    world.slack.command(ALICE, "/book", f"extend {second.id} 1-day Because the deadline moved")
    world.api.wait_for("response_url", count=2)
    world.slack.command(BOB, "/book", f"cancel {second.id} because I am done")  # his own
    world.api.wait_for("response_url", count=3)
    assert service.get(first.id or 0).status == Status.CANCELLED
    assert service.get(second.id or 0).end <= service.now()

    sender(world, PasswordDeriver(load_secret(None, tmp_path))).flush()
    told = sorted(dm["text"] for dm in dms_to_bob(world))
    assert len(told) == 2, told  # the owner's own cancel tells him nothing
    assert told[0].startswith(f"alice (an admin) cancelled your booking #{first.id} (")
    assert told[0].endswith("). Why: GPU 0 goes for repair")
    assert told[1].startswith(f"alice (an admin) extended your booking #{second.id}; ")
    assert told[1].endswith(". Why: the deadline moved")
