"""The command tree's payload (what `sync` uploads) obeys Discord's rules."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot import bootstrap
from bot.discord.client import BookingBot
from tests.discord.conftest import GPUS, connected
from tests.discord.fake_discord import APP_ID

OPTION_TYPES = set(range(1, 12))  # SUB_COMMAND .. ATTACHMENT
AUTOCOMPLETE_TYPES = {3, 4, 10}  # STRING, INTEGER, NUMBER


def _name_ok(name: str) -> bool:
    # ^[-_\p{L}\p{N}]{1,32}$, and lowercase for chat-input commands.
    return 1 <= len(name) <= 32 and name == name.lower() and all(
        ch.isalnum() or ch in "-_" for ch in name
    )


def rule_breaks(item: dict[str, Any], where: str = "") -> list[str]:
    """Every way `item` (a command or an option) breaks Discord's rules."""
    where = f"{where}/{item.get('name')}"
    found = []
    if not _name_ok(item["name"]):
        found.append(f"{where}: bad name")
    if not 1 <= len(item.get("description", "")) <= 100:
        found.append(f"{where}: description must be 1-100 characters")
    options = item.get("options", [])
    if len(options) > 25:
        found.append(f"{where}: more than 25 options")
    if len({o["name"] for o in options}) != len(options):
        found.append(f"{where}: option names repeat")
    required = [bool(o.get("required")) for o in options if o["type"] not in (1, 2)]
    if required != sorted(required, reverse=True):
        found.append(f"{where}: a required option follows an optional one")
    for option in options:
        found += option_breaks(option, where)
    return found


def option_breaks(option: dict[str, Any], where: str) -> list[str]:
    here = f"{where}/{option['name']}"
    found = rule_breaks(option, where)
    if option["type"] not in OPTION_TYPES:
        found.append(f"{here}: unknown option type {option['type']}")
    if len(option.get("choices") or []) > 25:
        found.append(f"{here}: more than 25 choices")
    if option.get("autocomplete") and (option.get("choices") or option["type"] not in AUTOCOMPLETE_TYPES):
        found.append(f"{here}: autocomplete needs a string/number option without choices")
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None or high is not None) and option["type"] not in (4, 10):
        found.append(f"{here}: min/max value on a non-number")
    if low is not None and high is not None and low > high:
        found.append(f"{here}: min_value above max_value")
    for key in ("min_length", "max_length"):
        if key in option and not 0 <= option[key] <= 6000:
            found.append(f"{here}: {key} outside 0-6000")
    if option["type"] in (1, 2) and any(o["type"] == 2 for o in option.get("options", [])):
        found.append(f"{here}: groups nest only one level")
    return found


def _payload(bot: BookingBot) -> list[dict[str, Any]]:
    return [c.to_dict(bot.tree) for c in bot.tree.get_commands()]


def _options(payload: list[dict[str, Any]], command: str, sub: str) -> dict[str, dict[str, Any]]:
    group = next(c for c in payload if c["name"] == command)
    subcommand = next(o for o in group["options"] if o["name"] == sub)
    return {o["name"]: o for o in subcommand.get("options", [])}


def test_every_command_obeys_discords_rules(app: bootstrap.App) -> None:
    payload = _payload(BookingBot(app))
    assert sorted(c["name"] for c in payload) == ["capacity", "schedule"]
    assert [b for command in payload for b in rule_breaks(command)] == []


def test_the_validator_catches_broken_commands() -> None:
    broken = {"name": "Book Now", "description": "x" * 101, "type": 1, "options": [
        {"name": "a", "description": "a", "type": 3},
        {"name": "b", "description": "b", "type": 4, "required": True,
         "min_value": 5, "max_value": 1},
    ]}
    problems = rule_breaks(broken)
    assert any("bad name" in p for p in problems)
    assert any("1-100" in p for p in problems)
    assert any("required option follows" in p for p in problems)
    assert any("min_value above" in p for p in problems)


def test_book_ranges_are_the_hosts_capacity(app: bootstrap.App) -> None:
    options = _options(_payload(BookingBot(app)), "schedule", "book")
    host = app.service.host
    assert (options["gpus"]["min_value"], options["gpus"]["max_value"]) == (0, GPUS)
    assert (options["cpus"]["type"], options["cpus"]["max_value"]) == (10, host.cpus)
    assert (options["memory"]["min_value"], options["memory"]["max_value"]) == (1, host.memory)
    assert all(options[name]["autocomplete"] for name in ("start", "end", "image"))
    assert [n for n, o in options.items() if o.get("required")] == []  # none: the form opens
    for sub in ("cancel", "restart"):
        assert _options(_payload(BookingBot(app)), "schedule", sub)["booking"]["autocomplete"]
    assert _options(_payload(BookingBot(app)), "schedule", "timezone")["zone"]["autocomplete"]


def test_schedule_has_the_direct_message_verbs_too(app: bootstrap.App) -> None:
    schedule = next(c for c in _payload(BookingBot(app)) if c["name"] == "schedule")
    assert sorted(o["name"] for o in schedule["options"]) == [
        "book", "cancel", "extend", "free", "help", "history", "keys", "list", "login",
        "restart", "timezone"]
    keys = _options(_payload(BookingBot(app)), "schedule", "keys")["action"]
    assert [c["value"] for c in keys["choices"]] == ["list", "add", "clear"]


def test_capacity_is_for_members_who_manage_the_server(app: bootstrap.App) -> None:
    capacity = next(c for c in _payload(BookingBot(app)) if c["name"] == "capacity")
    manage_guild = discord.Permissions(manage_guild=True).value
    assert int(capacity["default_member_permissions"]) == manage_guild
    assert capacity["contexts"] == [0]  # guild only
    assert sorted(o["name"] for o in capacity["options"]) == [
        "history", "limits", "link", "maintenance", "report", "summary", "users"]


def test_login_syncs_that_payload_globally(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app) as discord_:
            (put,) = discord_.fake.find("PUT", rf"/applications/{APP_ID}/commands")
            assert put.body == _payload(discord_.bot)

    asyncio.run(scenario())


def test_without_a_guild_the_commands_sync_globally(app: bootstrap.App) -> None:
    async def scenario() -> None:
        async with connected(app, guild_id=None) as discord_:
            assert discord_.fake.find("PUT", rf"/applications/{APP_ID}/commands")
            assert not discord_.fake.find("PUT", r".*/guilds/.*")

    asyncio.run(scenario())
