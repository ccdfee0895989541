"""A local stand-in for Discord's HTTP API that records every call.

discord.py's HTTP layer (and its webhook adapter for interaction responses)
builds every URL from `discord.http.Route.BASE`; the tests point it here.
Answers follow Discord's documented payloads, with just the fields
discord.py reads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 900000000000000003
CHANNEL_ID = 900000000000000004

BOT_USER = {
    "id": str(BOT_ID), "username": "booking", "discriminator": "0", "global_name": "Booking",
    "avatar": None, "bot": True, "flags": 0,
}


def user(user_id: int, name: str) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None}


def dm_channel_id(user_id: int) -> int:
    return user_id + 5_000_000


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON, or payload_json of a multipart request
    files: dict[str, bytes] = field(default_factory=dict)
    answer: Any = None  # what the fake answered (a created message, for example)


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py reads a body as JSON only under exactly `application/json`.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


class FakeDiscord:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._ids = itertools.count(910000000000000000)
        self._runner: web.AppRunner | None = None
        self.base = ""
        # What members see: every message by id, as last created or edited.
        self.messages: dict[str, dict[str, Any]] = {}
        # Interaction token -> (channel id, id of the message its `@original` means: the
        # message a pressed component sits on, or the interaction's own response).
        self.origins: dict[str, tuple[int, str | None]] = {}
        # As Discord answers a guild command sync for a guild the bot is not in (or was
        # invited to without the applications.commands scope): 403, code 50001.
        self.refuse_guild_commands = False
        # Users who closed their direct messages: sending to them answers 403, code 50007.
        self.closed_dms: set[int] = set()
        # Channels the bot may not see: reading or sending there answers 403, code 50001.
        self.hidden_channels: set[int] = set()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}/api/v10"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def next_id(self) -> str:
        return str(next(self._ids))

    # ----- what the tests read ---------------------------------------------

    def seen(self, message_id: str) -> dict[str, Any]:
        """A message as it looks now, after every edit."""
        return self.messages[message_id]

    def find(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Let the client's tasks run until `predicate()` is truthy; return its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; calls so far: {[(c.method, c.path) for c in self.calls]}")
            await asyncio.sleep(0.02)

    async def settled(self, calls: Callable[[], list[Call]], quiet: float = 0.1) -> list[Call]:
        """`calls()` once it has stopped growing for `quiet` seconds."""
        seen = calls()
        while True:
            await asyncio.sleep(quiet)
            now = calls()
            if len(now) == len(seen):
                return now
            seen = now

    # ----- answers ----------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        body: Any = None
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    body = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    files[value.filename] = value.file.read()
        elif request.can_read_body:
            body = await request.json()
        call = Call(request.method, path, dict(request.query), body, files)
        if self.refuse_guild_commands and re.fullmatch(r"/applications/\d+/guilds/\d+/commands",
                                                       path):
            self.calls.append(call)
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        closed = {str(dm_channel_id(u)) for u in self.closed_dms}
        match = re.fullmatch(r"/channels/(\d+)/messages", path)
        if request.method == "POST" and match and match.group(1) in closed:
            self.calls.append(call)
            return _json({"message": "Cannot send messages to this user", "code": 50007},
                         status=403)
        hidden = re.fullmatch(r"/channels/(\d+)/messages(/\d+)?", path)
        if hidden and int(hidden.group(1)) in self.hidden_channels:
            self.calls.append(call)
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        call.answer = self._answer(call)
        self.calls.append(call)
        if call.answer is None:
            return _json({"message": "Unknown route", "code": 0}, status=404)
        return _json(call.answer)

    def _answer(self, call: Call) -> Any:
        method, path = call.method, call.path
        if method == "GET" and path == "/users/@me":
            return BOT_USER
        if method == "GET" and path == "/oauth2/applications/@me":
            return {
                "id": str(APP_ID), "name": "booking", "description": "", "icon": None,
                "bot_public": False, "bot_require_code_grant": False, "verify_key": "00",
                "owner": user(1, "owner"), "team": None, "flags": 0, "rpc_origins": [],
            }
        if method == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path):
            return [
                {**command, "id": self.next_id(), "application_id": str(APP_ID), "version": "1"}
                for command in call.body
            ]
        if method == "POST" and re.fullmatch(r"/interactions/\d+/[^/]+/callback", path):
            return self._callback(path.split("/")[2], path.split("/")[3], call.body)
        match = re.fullmatch(r"/webhooks/\d+/([^/]+)", path)
        if method == "POST" and match:
            channel, _ = self.origins.get(match.group(1), (CHANNEL_ID, None))
            return self.message(channel, BOT_USER, call.body)
        match = re.fullmatch(r"/webhooks/\d+/([^/]+)/messages/(@original|\d+)", path)
        if method == "PATCH" and match:
            token, which = match.groups()
            _, original = self.origins.get(token, (CHANNEL_ID, None))
            return self.edit(original if which == "@original" else which, call.body)
        match = re.fullmatch(r"/channels/\d+/messages/(\d+)", path)
        if method == "PATCH" and match:
            return self.edit(match.group(1), call.body)
        if method == "POST" and path == "/users/@me/channels":
            recipient = int(call.body["recipient_id"])
            return {"id": str(dm_channel_id(recipient)), "type": 1,
                    "recipients": [user(recipient, f"user{recipient}")], "last_message_id": None}
        match = re.fullmatch(r"/users/(\d+)", path)
        if method == "GET" and match:
            return user(int(match.group(1)), f"user{match.group(1)}")
        match = re.fullmatch(r"/channels/(\d+)/messages", path)
        if method == "POST" and match:
            return self.message(int(match.group(1)), BOT_USER, call.body)
        if method == "GET" and match:  # a channel's history, newest first
            limit = int(call.query.get("limit", 50))
            found = [m for m in self.messages.values() if m["channel_id"] == match.group(1)]
            return sorted(found, key=lambda m: int(m["id"]), reverse=True)[:limit]
        return None

    def _callback(self, interaction_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """An interaction's first response: 4 sends a message, 7 edits the pressed one."""
        data = body.get("data") or {}
        channel, original = self.origins.get(token, (CHANNEL_ID, None))
        resource: dict[str, Any] = {}
        if body["type"] in (4, 5):
            message = self.message(channel, BOT_USER, {**data, "content": data.get("content", "")})
            self.origins[token] = (channel, message["id"])
            resource = {"type": body["type"], "message": message}
        elif body["type"] == 7 and original is not None:
            resource = {"type": 7, "message": self.edit(original, data)}
        return {
            "interaction": {
                "id": interaction_id, "type": 2,
                "response_message_loading": body["type"] == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            },
            **({"resource": resource} if resource else {}),
        }

    def edit(self, message_id: str | None, body: dict[str, Any]) -> dict[str, Any] | None:
        if message_id is None or message_id not in self.messages:
            return None
        message = self.messages[message_id]
        for key in ("content", "components", "embeds", "flags"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = datetime.now(UTC).isoformat()
        return dict(message)

    def message(self, channel_id: int, author: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        message = {
            "id": self.next_id(), "channel_id": str(channel_id), "author": author,
            "content": body.get("content", ""), "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": body.get("embeds", []), "pinned": False,
            "type": 0, "flags": body.get("flags", 0), "components": body.get("components", []),
        }
        self.messages[message["id"]] = message
        return dict(message)
