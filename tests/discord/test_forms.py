"""/schedule book without an end opens a booking form (issue 12): what was given filled
in, start `now` and `1-day` by default, the answer the same as `/schedule book`'s, bad
fields refused saying what works; and a login is an embed, in the ready DM too."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot import bootstrap
from bot.discord.notifier import DiscordNotifier
from core.chat import lifecycle_messages as words
from core.domain.model import Resources, Status
from core.domain.passwords import PASSWORD_PLACEHOLDER
from core.services.capacity import BookingRequest
from tests.discord.conftest import BOB, GPUS, connected, slash, submit
from tests.discord.fake_discord import dm_channel_id


def _fields(form: dict) -> dict[str, str]:
    return {f["label"]: f.get("value", "") for row in form["components"] for f in row["components"]}


def test_book_without_options_opens_the_form_and_books_like_the_command(
    app: bootstrap.App,
) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            form = await discord_.form(slash(BOB, "schedule", "book"))
            assert form["title"] == "Book CPUs, memory and GPUs"
            assert _fields(form) == {"Resources": "", "Start": "now", "End or length": "1-day",
                                     "Image": "", "Extra command": ""}
            booked = await discord_.reply(submit(BOB, form, {
                "Resources": "1 gpu 4 cpus", "Extra command": "cd run && python train.py"}))
            assert booked["content"].startswith("Booked: #") and booked["flags"] & 64
            (booking,) = app.service.bookings("bob")
            assert booking.resources.gpus == 1 and booking.resources.cpus == 4
            assert booking.command == "cd run && python train.py"

            typed = await discord_.reply(slash(BOB, "schedule", "book", {
                "start": "3-day", "end": "1-day", "gpus": 1}))
            assert typed["content"].startswith("Booked: #")  # the options still book at once

    asyncio.run(scenario())


def test_the_form_keeps_what_was_given_and_refuses_bad_fields_clearly(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            given = slash(BOB, "schedule", "book", {
                "gpus": 1, "memory": 8, "start": "tomorrow 9am", "image": "ubuntu"})
            form = await discord_.form(given)
            assert _fields(form) == {"Resources": "1 gpu 8g", "Start": "tomorrow 9am",
                                     "End or length": "1-day", "Image": "ubuntu",
                                     "Extra command": ""}
            bad = await discord_.reply(submit(BOB, form, {"Resources": "lots of gpus please"}))
            assert bad["content"].startswith("Resources: I did not understand `lots")
            assert "1 gpu 8 cpus 32g" in bad["content"]
            assert bad["content"].endswith("Nothing was booked; `/schedule book` opens the form again.")
            form = await discord_.form(given)
            too_many = await discord_.reply(submit(BOB, form, {"Resources": f"{GPUS + 9} gpus"}))
            assert too_many["content"].startswith("Over your maximum")
            form = await discord_.form(given)
            late = await discord_.reply(submit(BOB, form, {"Start": "the day after never"}))
            assert "Traceback" not in late["content"] and not late["content"].startswith("Booked")
            assert app.service.bookings("bob") == []

    asyncio.run(scenario())


def test_the_ready_dm_shows_the_login_as_an_embed(app: bootstrap.App) -> None:
    booking = app.service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    with app.service.unit() as uow:
        uow.bookings.save(replace(booking, status=Status.RUNNING))
        uow.commit()
    service, config = app.service, app.config
    host, user = config.server.public_host, config.container.user

    async def scenario() -> None:
        async with connected(app) as discord_:
            sender = DiscordNotifier(discord_.bot, service, timeout=10)
            ready = words.ready(config, booking, service.account("bob"), [])
            ready = replace(ready, text=ready.text.replace(PASSWORD_PLACEHOLDER, "Xk3-pw"),
                            actions=tuple(dict(a) for a in ready.actions))
            assert await asyncio.to_thread(sender.deliver, service.account("bob"), ready)
            dm = discord_.fake.find("POST", f"/channels/{dm_channel_id(BOB)}/messages")[-1].answer
            assert dm["content"].startswith(f"Your booking #{booking.id} is ready until <t:")
            assert "Xk3-pw" not in dm["content"] and "host:" not in dm["content"]
            (card,) = dm["embeds"]
            fields = {f["name"]: f["value"] for f in card["fields"]}
            assert fields == {"host": f"`{host}`", "port": f"`{booking.port}`", "user": f"`{user}`",
                              "password": "`Xk3-pw`",
                              "ssh command": f"```\nssh -p {booking.port} {user}@{host}\n```"}
            assert dm["components"]  # its buttons are still there

    asyncio.run(scenario())


def test_both_forms_keep_within_discords_limits(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            for payload in (slash(BOB, "schedule", "book", {"command": "x" * 1000}),
                            slash(BOB, "schedule", "keys", {"action": "add"})):
                form = await discord_.form(payload)
                assert 1 <= len(form["title"]) <= 45 and len(form["components"]) <= 5
                for row in form["components"]:
                    (field,) = row["components"]
                    assert 1 <= len(field["label"]) <= 45
                    assert len(field.get("placeholder") or "") <= 100
                    assert len(field.get("value") or "") <= field["max_length"] <= 4000

    asyncio.run(scenario())
