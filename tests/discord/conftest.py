"""The real application on a temporary SQLite database, and a Discord client
logged in against the local fake of Discord's HTTP API."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import yaml

from bot import bootstrap
from bot.discord.client import BookingBot
from tests.discord.fake_discord import (
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    Call,
    FakeDiscord,
    dm_channel_id,
    user,
)

ALICE, BOB, CAROL, DAVE = 1001, 1002, 1003, 1004  # alice is an admin; dave has no account
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave"}
GPUS = 4

_ids = itertools.count(920000000000000000)


@pytest.fixture
def app(tmp_path: Path) -> bootstrap.App:
    config = yaml.safe_load(Path("cfg/booking.yaml").read_text())
    config["capacity"]["gpus"] = GPUS
    path = tmp_path / "booking.yaml"
    path.write_text(yaml.safe_dump(config))
    built = bootstrap.build(bootstrap.Environment(
        booking_config=path, booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        booking_secret="a test secret of enough bytes", booking_data_dir=tmp_path,
    ))
    built.service.add_account("alice", admin=True, discord_id=str(ALICE))
    built.service.add_account("bob", discord_id=str(BOB))
    built.service.add_account("carol", discord_id=str(CAROL))
    return built


def member(user_id: int) -> dict[str, Any]:
    return {"user": user(user_id, NAMES[user_id]), "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False, "mute": False, "flags": 0, "permissions": "0"}


def _interaction(kind: int, user_id: int, data: dict[str, Any], *, guild: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(next(_ids)), "application_id": str(APP_ID), "type": kind, "data": data,
        "token": f"token-{next(_ids)}", "version": 1, "locale": "en-US", "entitlements": [],
        "app_permissions": "0", "attachment_size_limit": 8 * 1024 * 1024,
    }
    if guild:
        payload |= {
            "guild_id": str(GUILD_ID), "guild_locale": "en-US", "context": 0,
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID),
                        "name": "gpus", "position": 0, "permission_overwrites": [],
                        "nsfw": False, "parent_id": None},
            "member": member(user_id),
        }
    else:
        channel = dm_channel_id(user_id)
        payload |= {
            "context": 1, "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "channel_id": str(channel),
            "channel": {"id": str(channel), "type": 1, "recipients": [user(user_id, NAMES[user_id])]},
            "user": user(user_id, NAMES[user_id]),
        }
    return payload


def _option(name: str, value: Any, focused: bool = False) -> dict[str, Any]:
    kind = {bool: 5, int: 4, float: 10, str: 3}[type(value)]
    option = {"name": name, "type": kind, "value": value}
    if focused:
        option["focused"] = True
    return option


@dataclass(frozen=True)
class _UserRef:
    id: int


def mention(user_id: int) -> _UserRef:
    """A user option's value."""
    return _UserRef(user_id)


def slash(
    user_id: int, group: str, sub: str, options: dict[str, Any] | None = None, *,
    focused: str | None = None, guild: bool = True,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND (or, with `focused`, an AUTOCOMPLETE) interaction."""
    inner = []
    resolved: dict[str, Any] = {"users": {}, "members": {}}
    for name, value in (options or {}).items():
        if isinstance(value, _UserRef):
            inner.append({"name": name, "type": 6, "value": str(value.id)})
            resolved["users"][str(value.id)] = user(value.id, NAMES[value.id])
            resolved["members"][str(value.id)] = {k: v for k, v in member(value.id).items()
                                                  if k != "user"}
        else:
            inner.append(_option(name, value, focused=name == focused))
    data: dict[str, Any] = {
        "id": str(next(_ids)), "name": group, "type": 1,
        "options": [{"name": sub, "type": 1, "options": inner}],
    }
    if resolved["users"]:
        data["resolved"] = resolved
    return _interaction(4 if focused else 2, user_id, data, guild=guild)


def click(user_id: int, message: dict[str, Any], label: str) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction: `user_id` clicks the button `label` on `message`."""
    buttons = [c for row in message["components"] for c in row["components"]]
    found = [b for b in buttons if b["label"].startswith(label)]
    assert found, f"no button {label!r} among {[b['label'] for b in buttons]}"
    in_guild = message["channel_id"] == str(CHANNEL_ID)  # else the bot's DM channel
    payload = _interaction(3, user_id, {"custom_id": found[0]["custom_id"], "component_type": 2},
                           guild=in_guild)
    payload["message"] = message
    return payload


def submit(user_id: int, form: dict[str, Any], values: dict[str, str] | None = None, *,
           guild: bool = True) -> dict[str, Any]:
    """A MODAL_SUBMIT interaction: `user_id` sends the form `form` (the modal as the bot
    opened it) with the fields whose label starts with a key of `values` filled in so,
    the others as they were shown."""
    rows = []
    for row in form["components"]:
        inputs = []
        for field_ in row["components"]:
            value = next((v for k, v in (values or {}).items() if field_["label"].startswith(k)),
                         field_.get("value", ""))
            inputs.append({"type": 4, "custom_id": field_["custom_id"], "value": value})
        rows.append({"type": 1, "components": inputs})
    return _interaction(5, user_id, {"custom_id": form["custom_id"], "components": rows},
                        guild=guild)


def labels(message: dict[str, Any]) -> list[list[str]]:
    """The buttons a member sees on `message`, row by row."""
    return [[b["label"] for b in row["components"]] for row in message.get("components", [])]


@dataclass
class Seen:
    """What a member sees after a press: the pressed message as it is now, and what else
    they were told (follow-ups only they see), in order."""

    message: dict[str, Any]
    said: list[dict[str, Any]]

    @property
    def told(self) -> str:
        return "\n".join(m["content"] for m in self.said)


def direct_message(user_id: int, content: str) -> dict[str, Any]:
    """A MESSAGE_CREATE event for a direct message to the bot."""
    return {
        "id": str(next(_ids)), "channel_id": str(dm_channel_id(user_id)),
        "author": user(user_id, NAMES[user_id]), "content": content,
        "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": False, "type": 0,
    }


class Harness:
    """Send interactions and messages to the bot as Discord's gateway would."""

    def __init__(self, bot: BookingBot, fake: FakeDiscord) -> None:
        self.bot = bot
        self.fake = fake

    async def interact(self, payload: dict[str, Any]) -> list[Call]:
        """Dispatch an interaction and wait for its answers (the callback, then follow-ups)."""
        before = len(self.fake.calls)
        token = payload["token"]
        pressed = payload.get("message")
        self.fake.origins[token] = (int(payload["channel_id"]), pressed["id"] if pressed else None)
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

        def answered() -> list[Call] | None:
            mine = [c for c in self.fake.calls[before:] if token in c.path]
            deferred = any(c.path.endswith("/callback") and c.body["type"] in (5, 6) for c in mine)
            if deferred and not any(c.path.startswith("/webhooks/") for c in mine):
                return None
            return mine or None

        await self.fake.wait_for(answered)
        return await self.fake.settled(lambda: [
            c for c in self.fake.calls[before:] if token in c.path or c.method == "PATCH"])

    async def reply(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The one message the member sees in answer to `payload` (its JSON body)."""
        calls = await self.interact(payload)
        followups = [c for c in calls if c.path.startswith("/webhooks/")]
        if followups:
            return followups[-1].answer
        callback = next(c for c in calls if c.path.endswith("/callback"))
        return callback.body["data"]

    async def press(
        self, user_id: int, message: dict[str, Any], label: str, *, stale: bool = False
    ) -> Seen:
        """`user_id` presses `label` on `message` as it looks now (with `stale`, on the copy
        given: an old message on another device); what they see afterwards."""
        shown = message if stale else self.fake.seen(message["id"])
        self.fake.messages.setdefault(message["id"], dict(message))  # sent before a restart
        calls = await self.interact(click(user_id, shown, label))
        said = [c.body["data"] for c in calls
                if c.path.endswith("/callback") and c.body["type"] == 4]
        said += [c.answer for c in calls if c.method == "POST" and c.path.startswith("/webhooks/")]
        return Seen(self.fake.seen(message["id"]), said)

    async def form(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The modal (a form) the bot opens in answer to `payload`."""
        calls = await self.interact(payload)
        callback = next(c for c in calls if c.path.endswith("/callback"))
        assert callback.body["type"] == 9, callback.body  # MODAL
        return callback.body["data"]

    async def choices(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        calls = await self.interact(payload)
        callback = next(c for c in calls if c.path.endswith("/callback"))
        assert callback.body["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        return callback.body["data"]["choices"]

    async def dm(self, user_id: int, content: str) -> list[Call]:
        """Write to the bot in a direct message; the messages it sends back."""
        before = len(self.fake.calls)
        self.bot._connection.parse_message_create(direct_message(user_id, content))  # type: ignore[arg-type]
        path = f"/channels/{dm_channel_id(user_id)}/messages"
        return await self.fake.wait_for(
            lambda: [c for c in self.fake.calls[before:] if c.path == path]
        )


@contextlib.asynccontextmanager
async def connected(app: bootstrap.App, *, guild_id: int | None = GUILD_ID,
                    refuse_guild_commands: bool = False) -> AsyncIterator[Harness]:
    """A BookingBot logged in to the fake (login runs setup_hook, which syncs the tree)."""
    fake = FakeDiscord()
    fake.refuse_guild_commands = refuse_guild_commands
    base = await fake.start()
    saved = discord.http.Route.BASE
    discord.http.Route.BASE = base
    bot = BookingBot(app, guild_id=guild_id)
    try:
        await bot.login("test-token")
        yield Harness(bot, fake)
    finally:
        await bot.close()
        discord.http.Route.BASE = saved
        await fake.stop()
