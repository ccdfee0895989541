"""The `/schedule` command group: book, list, cancel, extend, login, free, help, and the
direct-message verbs restart, keys, timezone and history (parity.py).

The option ranges are the host's capacity: the synced payload is the same for
every member, so each member's own maximum is checked when they book.
This module does not use `from __future__ import annotations`: discord.py
reads the parameter annotations, and the ranges come from the running config.
"""

from typing import Any

import discord
from discord import app_commands

from bot.discord import bookings, suggest
from bot.discord.forms import BookingForm
from bot.discord.interact import Responder, linked_account
from bot.discord.parity import add_parity_commands
from bot.discord.reading import within_budget
from core.chat.booking_requests import FormRequest
from core.chat.conversation import ConversationEngine
from core.domain.model import Resources
from core.services.booking import BookingService


def _choices(pairs: list[suggest.Choice]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=value) for name, value in pairs]


def schedule_group(
    service: BookingService, engine: ConversationEngine, respond: Responder
) -> app_commands.Group:
    host = service.host
    where = "the lab's servers" if service.config.is_pool else service.config.server.name
    group = app_commands.Group(
        name="schedule", description=f"Book CPUs, memory and GPUs on {where}"[:100]
    )

    async def run_book(interaction: discord.Interaction, start: str | None, end: str | None,
                       gpus: int | None, cpus: float | None, memory: int | None,
                       image: str | None, command: str | None, server: str | None) -> None:
        form = FormRequest(start=start or "now", end=end or "", cpus=cpus, memory=memory,
                           gpus=gpus, image=image, command=command, server=server)
        if not end:  # the form, with what was given filled in
            asked = service.config.booking.default_request
            default = Resources(asked["cpus"], int(asked["memory"]), int(asked["gpus"]))
            await interaction.response.send_modal(BookingForm(engine, respond, form, default))
            return
        await respond(interaction, lambda account: bookings.book(engine, account, form))

    book = (_pool_book(group, service, run_book) if service.config.is_pool
            else _one_server_book(group, host, run_book))

    @book.autocomplete("start")
    async def book_start(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        namespace, user_id = interaction.namespace, interaction.user.id

        def choices() -> list[suggest.Choice]:
            account = linked_account(service, user_id)
            wanted = engine.default_resources(
                account, namespace.cpus, namespace.memory, namespace.gpus
            ) if account else Resources(1, 1, namespace.gpus or 0)
            return suggest.starts(service, account, current, wanted)
        # Without the database: what was typed, or now.
        return _choices(await within_budget(choices, suggest.typed(current, "now"), "start"))

    @book.autocomplete("end")
    async def book_end(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(suggest.ends(current))

    @book.autocomplete("image")
    async def book_image(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(suggest.images(service, current))

    @group.command(name="list", description="Your upcoming and running bookings")
    async def list_(interaction: discord.Interaction) -> None:
        await respond(interaction, lambda account: bookings.said(engine, account, "list"))

    @group.command(name="cancel", description="Cancel a booking, or end a running one now")
    @app_commands.describe(booking="the booking's number (#N)")
    async def cancel(interaction: discord.Interaction, booking: int) -> None:
        await respond(interaction, lambda account: bookings.said(engine, account, f"cancel {booking}"))

    @group.command(name="extend", description="Make a booking end later")
    @app_commands.describe(
        booking="the booking's number (#N)",
        by="1-day, 3-day, 1-week longer, or a new end time",
    )
    async def extend(interaction: discord.Interaction, booking: int, by: str) -> None:
        await respond(
            interaction, lambda account: bookings.said(engine, account, f"extend {booking} {by}"))

    @group.command(name="login", description="How to log in to your running booking (only to you)")
    @app_commands.describe(booking="the booking's number (#N)")
    async def login(interaction: discord.Interaction, booking: int) -> None:
        await respond(interaction, lambda account: bookings.said(engine, account, f"login {booking}"))

    @cancel.autocomplete("booking")
    @login.autocomplete("booking")
    @extend.autocomplete("booking")
    async def own_booking(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        user_id = interaction.user.id

        def choices() -> list[suggest.Choice]:
            account = linked_account(service, user_id)
            return suggest.own_bookings(service, account, str(current))
        nothing: list[suggest.Choice] = []
        pairs = await within_budget(choices, nothing, "booking")
        return [app_commands.Choice(name=name, value=int(value)) for name, value in pairs]

    @extend.autocomplete("by")
    async def extend_by(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return _choices(suggest.ends(current))

    add_parity_commands(group, service, engine, respond, own_booking)

    max_days = service.config.booking.max_days
    few_days = min(3, max_days)

    @group.command(name="free", description="What is free, and who holds which GPU until when")
    @app_commands.describe(days=f"how many days ahead (1-{max_days})")
    async def free(
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, max_days] = few_days,
    ) -> None:
        await respond(interaction, lambda account: bookings.free(service, account, days))

    @group.command(name="help", description="What /schedule and direct messages understand")
    async def help_(interaction: discord.Interaction) -> None:
        first, *rest = bookings.help_texts()
        await interaction.response.send_message(first, ephemeral=True)
        for text in rest:
            await interaction.followup.send(text, ephemeral=True)

    return group


_BOOK_DESCRIPTION = "Book CPUs, memory and GPUs (no end: a form opens)"
_OPTIONS = dict(
    start="now (the default), a free slot, 2-day, YYYY MM DD hh mm, or tomorrow 9am",
    end="1-day, 3-day, 1-week (from the start), or a date and time",
    gpus="GPUs (your own maximum applies)",
    cpus="CPUs (default from the server's config)",
    memory="GB of RAM + swap (default from the server's config)",
    image="container image (default: yours or the server's)",
    command="extra command run in the container",
)


def _one_server_book(group: app_commands.Group, host: Resources,
                     run_book: Any) -> app_commands.Command[Any, Any, None]:
    @group.command(name="book", description=_BOOK_DESCRIPTION)
    @app_commands.describe(**_OPTIONS)
    async def book(
        interaction: discord.Interaction,
        start: str | None = None,
        end: str | None = None,
        gpus: app_commands.Range[int, 0, host.gpus] | None = None,
        cpus: app_commands.Range[float, 1.0, host.cpus] | None = None,
        memory: app_commands.Range[int, 1, host.memory] | None = None,
        image: str | None = None,
        command: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        await run_book(interaction, start, end, gpus, cpus, memory, image, command, None)
    return book


def _pool_book(group: app_commands.Group, service: BookingService,
               run_book: Any) -> app_commands.Command[Any, Any, None]:
    """A pool's `/schedule book`: the `server` option (any server when left out), and the
    largest server's resources as the options' maxima."""
    hosts = [one.host for one in service.servers().values()]
    gpus_max = max(h.gpus for h in hosts)
    cpus_max = max(h.cpus for h in hosts)
    memory_max = max(h.memory for h in hosts)
    names = [app_commands.Choice(name=n, value=n) for n in service.config.server_names[:25]]

    @group.command(name="book", description=_BOOK_DESCRIPTION)
    @app_commands.describe(**_OPTIONS, server="the server (default: any server where it fits)")
    @app_commands.choices(server=names)
    async def book(
        interaction: discord.Interaction,
        start: str | None = None,
        end: str | None = None,
        gpus: app_commands.Range[int, 0, gpus_max] | None = None,
        cpus: app_commands.Range[float, 1.0, cpus_max] | None = None,
        memory: app_commands.Range[int, 1, memory_max] | None = None,
        image: str | None = None,
        command: app_commands.Range[str, 1, 1000] | None = None,
        server: str | None = None,
    ) -> None:
        await run_book(interaction, start, end, gpus, cpus, memory, image, command, server)
    return book
