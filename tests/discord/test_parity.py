"""The direct-message verbs as /schedule commands (issue 12): restart asks first and acts
once, keys through a form (a pasted key's backticks accepted), timezone with bounded
autocomplete, history paged; each answered only to the member."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot import bootstrap
from core.domain.model import Booking, Resources, Status
from core.services.capacity import BookingRequest
from tests.discord.conftest import BOB, CAROL, connected, labels, slash, submit

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDx7d2S4Xb1cCq0rJ5vZbWkGzK7n2f1H0aQe9w3pYtUv bob@laptop"


def _running(app: bootstrap.App) -> Booking:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with app.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    return app.service.get(booking.id or 0)


def _restarts(app: bootstrap.App, number: int) -> int:
    with app.service.unit() as uow:
        return [e.kind for e in uow.bookings.events(number)].count("restart_requested")


def test_restart_asks_first_no_keeps_and_yes_restarts_once(app: bootstrap.App) -> None:
    number = _running(app).id or 0

    async def scenario() -> None:
        async with connected(app) as discord_:
            asked = await discord_.reply(slash(BOB, "schedule", "restart", {"booking": number}))
            assert asked["flags"] & 64
            assert asked["content"].startswith(f"#{number} [running] bob: <t:")
            assert "❓" in asked["content"] and f"#{number}" in asked["content"].split("❓")[1]
            assert labels(asked) == [[f"Yes, restart #{number}", "No, keep it"]]

            kept = await discord_.press(BOB, asked, "No")
            assert "❓" not in kept.message["content"]
            assert _restarts(app, number) == 0

            again = await discord_.reply(slash(BOB, "schedule", "restart", {"booking": number}))
            done = await discord_.press(BOB, again, "Yes")
            assert done.message["content"].startswith(
                f"Restarting the container of booking #{number}")
            assert _restarts(app, number) == 1
            twice = await discord_.press(BOB, again, "Yes", stale=True)  # another device
            assert "already on its way" in twice.message["content"]
            assert _restarts(app, number) == 1

            others = await discord_.reply(slash(CAROL, "schedule", "restart", {"booking": number}))
            assert others["content"].startswith(f"There is no booking #{number}")
            assert others.get("components", []) == []

    asyncio.run(scenario())


def test_restart_of_a_booking_not_running_says_why_and_asks_nothing(app: bootstrap.App) -> None:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "tomorrow 9am", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            said = await discord_.reply(slash(BOB, "schedule", "restart", {"booking": booking.id}))
            assert "❓" not in said["content"]
            assert "Yes, restart" not in str(labels(said))
            assert _restarts(app, booking.id or 0) == 0

    asyncio.run(scenario())


def test_keys_added_through_a_form_listed_and_cleared(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            form = await discord_.form(slash(BOB, "schedule", "keys", {"action": "add"}))
            assert form["title"] == "Add an SSH public key"
            pasted = submit(BOB, form, {"Public key": f"```text\n{KEY}\n```"})
            saved = await discord_.reply(pasted)
            assert saved["content"].startswith("Key saved (1 in all)")
            assert saved["flags"] & 64
            assert app.service.account("bob").ssh_keys == KEY

            again = await discord_.form(slash(BOB, "schedule", "keys", {"action": "add"}))
            bad = await discord_.reply(submit(BOB, again, {"Public key": "`my password`"}))
            assert "Traceback" not in bad["content"] and "key" in bad["content"].lower()
            assert app.service.account("bob").ssh_keys == KEY

            listed = await discord_.reply(slash(BOB, "schedule", "keys"))
            assert listed["content"].startswith("Your SSH keys:\n- ssh-ed25519 ...")
            assert "bob@laptop" in listed["content"]

            cleared = await discord_.reply(slash(BOB, "schedule", "keys", {"action": "clear"}))
            assert cleared["content"].startswith("Your SSH keys are removed")
            assert app.service.account("bob").ssh_keys == ""

    asyncio.run(scenario())


def test_timezone_offers_at_most_25_zone_names_and_sets_one(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            found = await discord_.choices(
                slash(BOB, "schedule", "timezone", {"zone": "berl"}, focused="zone"))
            assert found[0]["value"] == "Europe/Berlin"
            anything = await discord_.choices(
                slash(BOB, "schedule", "timezone", {"zone": ""}, focused="zone"))
            assert len(anything) == 25
            assert await discord_.choices(
                slash(BOB, "schedule", "timezone", {"zone": "x" * 60}, focused="zone")) == []

            shown = await discord_.reply(slash(BOB, "schedule", "timezone"))
            assert shown["content"].startswith("Your times are shown in")
            made = await discord_.reply(
                slash(BOB, "schedule", "timezone", {"zone": "Asia/Taipei"}))
            assert made["content"] == "From now on your times are shown in Asia/Taipei."
            assert app.service.account("bob").timezone == "Asia/Taipei"
            wrong = await discord_.reply(slash(BOB, "schedule", "timezone", {"zone": "Mars/Base"}))
            assert "Mars/Base" in wrong["content"] and "Traceback" not in wrong["content"]
            assert app.service.account("bob").timezone == "Asia/Taipei"

    asyncio.run(scenario())


def test_history_lists_past_bookings_newest_first_in_pages(app: bootstrap.App) -> None:
    numbers = []
    for day in range(1, 13):
        booking = app.service.book(
            BookingRequest("bob", Resources(1, 1, 0), f"{day}-day", "1-day"))
        app.service.cancel(booking.id or 0, actor="bob")
        numbers.append(booking.id)
    upcoming = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))

    async def scenario() -> None:
        async with connected(app) as discord_:
            first = await discord_.reply(slash(BOB, "schedule", "history"))
            lines = first["content"].split("\n")
            assert lines[0] == "Your past bookings, newest first (1-10 of 12):"
            assert [line.split()[0] for line in lines[1:11]] == [
                f"#{n}" for n in reversed(numbers[2:])]
            assert all("[cancelled]" in line and "<t:" in line for line in lines[1:11])
            assert lines[11] == "Page 2 of 2 shows older ones."
            assert f"#{upcoming.id} " not in first["content"]
            assert first["flags"] & 64

            second = await discord_.reply(slash(BOB, "schedule", "history", {"page": 2}))
            assert second["content"].startswith("Your past bookings, newest first (11-12 of 12):")
            assert f"#{numbers[0]} " in second["content"]

            none = await discord_.reply(slash(CAROL, "schedule", "history"))
            assert none["content"].startswith("You have no past bookings yet")

    asyncio.run(scenario())
