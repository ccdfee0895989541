"""Offline Slack: a local Web API that records calls, and requests signed as Slack signs them.

Used by the tests in this folder and by tests/perf/bench_slack_ack.py.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from slack_sdk.signature import SignatureVerifier

from bot import bootstrap
from bot.slack import SlackAdapter, slack_adapter_from_env

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0001"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    body: bytes = b""
    token: str = ""  # from the Authorization header


@dataclass
class FakeSlackApi:
    """Answers like Slack's Web API; `calls` keeps every request in order."""

    timezones: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    socket_mode_url: str = ""  # what apps.connections.open hands out
    # Answers given before the normal one, per method: (HTTP status, extra headers), as
    # an outage (503) or a rate limit (429 with Retry-After) would.
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    # Slack's own refusals, per method, answered (HTTP 200, ok false) before the normal
    # answer: "expired_trigger_id" for views.open, say.
    errors: dict[str, list[str]] = field(default_factory=dict)
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def start(self) -> FakeSlackApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = api._answer(self.path, self.headers.get("Content-Type", ""), body,
                                     self.headers.get("Authorization", "").removeprefix("Bearer "))
                status, extra = api._failure(self.path)
                if status != 200:
                    answer = {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}response/{name}-{next(self._ids)}"

    # ----- answering ------------------------------------------------------

    def _failure(self, path: str) -> tuple[int, dict[str, str]]:
        method = path.strip("/").split("?")[0].removeprefix("api/")
        with self._changed:
            queue = self.failures.get(method)
            return queue.pop(0) if queue else (200, {})

    def _answer(
        self, path: str, content_type: str, body: bytes, token: str = ""
    ) -> dict[str, Any]:
        method = path.strip("/").split("?")[0]
        if method.startswith("api/"):
            method = method[4:]
        args: dict[str, Any]
        if "json" in content_type:
            args = json.loads(body or b"{}")
        elif method.startswith("upload/"):
            args = {}
        else:
            args = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            for key in ("blocks", "view", "files"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        if method.startswith("response/"):
            method = "response_url"
        with self._changed:
            self.calls.append(Call(method, args, body, token))
            self._changed.notify_all()
            refusals = self.errors.get(method)
            if refusals:
                return {"ok": False, "error": refusals.pop(0)}
        return self._reply(method, args)

    def _reply(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://lab.slack.com/", "team": "Lab", "user": "booking",
                    "team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT"}
        if method == "users.info":
            user = args["user"]
            return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": user,
                                         "tz": self.timezones.get(user, "Asia/Taipei")}}
        if method == "apps.connections.open" and self.socket_mode_url:
            return {"ok": True, "url": self.socket_mode_url}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + args["users"]}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": args["channel"], "ts": f"{time.time():.6f}",
                    "message": {"text": args.get("text", "")}}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V1", **args.get("view", {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids)}"
            return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files", [])
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")}
                                          for f in files]}
        return {"ok": True}

    # ----- reading --------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, where: Callable[[Call], bool] = lambda c: True, *,
        count: int = 1, timeout: float = 15.0,
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method and where(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.args.get("text", "")[:80]) for c in self.calls]
                    raise AssertionError(f"no {count} x {method} within {timeout}s; saw {seen}")
                self._changed.wait(left)


# ----- signed requests -----------------------------------------------------


@dataclass
class Posted:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET,
                   timestamp: int | None = None, content_type: str) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or "",
            "Content-Type": content_type}


def post(url: str, body: bytes, headers: dict[str, str]) -> Posted:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Posted(response.status, response.read(), time.perf_counter() - began)
    except urllib.error.HTTPError as error:
        return Posted(error.code, error.read(), time.perf_counter() - began)


@dataclass
class SlackClient:
    """Sends what Slack sends, in Slack's documented formats, to the app's /slack/events."""

    events_url: str
    api: FakeSlackApi
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send_form(self, fields: dict[str, str], **signing: Any) -> Posted:
        body = urllib.parse.urlencode(fields).encode()
        headers = signed_headers(body, content_type="application/x-www-form-urlencoded",
                                 **signing)
        return post(self.events_url, body, headers)

    def command(self, user: str, command: str, text: str = "", *, channel: str = "C0GENERAL",
                **signing: Any) -> Posted:
        n = next(self._ids)
        return self.send_form({
            "token": "legacy", "team_id": TEAM, "team_domain": "lab", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(),
            "command": command, "text": text, "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": self.api.response_url("cmd"), "trigger_id": f"trigger.{n}",
        }, **signing)

    def interactive(self, payload: dict[str, Any], **signing: Any) -> Posted:
        return self.send_form({"payload": json.dumps(payload)}, **signing)

    def click(self, user: str, value: str, *, action_number: int = 1,
              in_home: bool = False, block_id: str = "b1",
              action_id: str | None = None) -> Posted:
        action: dict[str, Any] = {
            "type": "button", "block_id": block_id, "action_ts": f"{time.time():.6f}",
            "action_id": action_id or f"booking_cmd:{action_number}", "value": value,
            "text": {"type": "plain_text", "text": "button"}}
        return self._block_action(user, action, in_home=in_home)

    def press(self, user: str, element: dict[str, Any], block: dict[str, Any]) -> Posted:
        """A click on a button the app sent, as Slack reports it (after any confirm)."""
        return self.click(user, element["value"], block_id=block.get("block_id", "b1"),
                          action_id=element["action_id"])

    def choose(self, user: str, menu: dict[str, Any], option: dict[str, Any],
               block: dict[str, Any]) -> Posted:
        """An entry chosen in an overflow menu the app sent."""
        action = {"type": "overflow", "block_id": block.get("block_id", "b1"),
                  "action_id": menu["action_id"], "action_ts": f"{time.time():.6f}",
                  "selected_option": option}
        return self._block_action(user, action)

    def _block_action(self, user: str, action: dict[str, Any], *,
                      in_home: bool = False) -> Posted:
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": TEAM, "domain": "lab"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001", "token": "legacy", "trigger_id": "trigger.click",
            "actions": [action],
        }
        if in_home:
            payload["view"] = {"id": "VHOME", "type": "home", "blocks": []}
            payload["container"] = {"type": "view", "view_id": "VHOME"}
        else:
            payload["container"] = {"type": "message", "message_ts": "1.1",
                                    "channel_id": "D" + user, "is_ephemeral": False}
            payload["channel"] = {"id": "D" + user, "name": "directmessage"}
            payload["message"] = {"type": "message", "ts": "1.1", "text": "..."}
            payload["response_url"] = self.api.response_url("action")
        return self.interactive(payload)

    def submit_view(self, user: str, view: dict[str, Any], values: dict[str, Any],
                    image: str | None = None) -> Posted:
        """The view submitted with `values` per block, each as Slack reports its element."""
        state = view_state(view, {**values, **({"image": image} if image else {})})
        payload = {
            "type": "view_submission", "team": {"id": TEAM, "domain": "lab"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001", "token": "legacy", "trigger_id": "trigger.view",
            "view": {**view, "id": "VMODAL", "team_id": TEAM, "state": {"values": state},
                     "hash": "1.abc"},
            "response_urls": [],
        }
        return self.interactive(payload)

    def change(self, user: str, view: dict[str, Any], block_id: str, value: Any,
               values: dict[str, Any] | None = None) -> Posted:
        """A field of an open modal changed (one with dispatch_action), as Slack reports it."""
        state = view_state(view, {**(values or {}), block_id: value})
        action = {"block_id": block_id, "action_ts": f"{time.time():.6f}",
                  **state[block_id]["value"], "action_id": "value"}
        payload = {
            "type": "block_actions", "team": {"id": TEAM, "domain": "lab"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001", "token": "legacy", "trigger_id": "trigger.change",
            "container": {"type": "view", "view_id": "VMODAL"},
            "view": {**view, "id": "VMODAL", "state": {"values": state}, "hash": "2.abc"},
            "actions": [action],
        }
        return self.interactive(payload)

    def event(self, event: dict[str, Any], **signing: Any) -> Posted:
        n = next(self._ids)
        envelope = {
            "token": "legacy", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
            "event": {"event_ts": f"{time.time():.6f}", **event}, "event_id": f"Ev{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
        body = json.dumps(envelope).encode()
        return post(self.events_url, body,
                    signed_headers(body, content_type="application/json", **signing))

    def dm(self, user: str, text: str) -> Posted:
        return self.event({"type": "message", "channel": "D" + user, "channel_type": "im",
                           "user": user, "text": text, "ts": f"{time.time():.6f}"})


def view_state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A view's state as Slack reports it: each input's value in its element's own form;
    inputs not named keep their initial value."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind, block_id = element["type"], block["block_id"]
        value = values.get(block_id)
        if kind == "static_select":
            chosen = value or element.get("initial_option", {}).get("value")
            state[block_id] = {"value": {"type": kind, "selected_option": (
                {"value": chosen} if chosen else None)}}
        elif kind == "datetimepicker":
            chosen = value if block_id in values else element.get("initial_date_time")
            state[block_id] = {"value": {"type": kind, "selected_date_time": chosen}}
        else:
            chosen = value if block_id in values else element.get("initial_value")
            state[block_id] = {"value": {"type": kind, "value": chosen}}
    return state


# ----- the app under test --------------------------------------------------


def write_config(folder: Path, *, gpus: int = 4, **overrides: Any) -> Path:
    data = yaml.safe_load((ROOT / "cfg" / "booking.yaml").read_text())
    data["capacity"]["gpus"] = gpus
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    path = folder / "booking.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class SlackWorld:
    booking: bootstrap.App
    adapter: SlackAdapter
    api: FakeSlackApi
    slack: SlackClient
    database: Path


@contextmanager
def slack_world(folder: Path, *, timezones: dict[str, str] | None = None,
                **config: Any) -> Iterator[SlackWorld]:
    """A real SQLite database, the Slack adapter in HTTP mode on a free port, a fake Web API."""
    folder.mkdir(parents=True, exist_ok=True)
    api = FakeSlackApi(timezones=dict(timezones or {})).start()
    database = folder / "booking.db"
    environment = bootstrap.Environment(
        booking_config=write_config(folder, **config),
        booking_database_url=f"sqlite:///{database}",
        slack_bot_token=BOT_TOKEN, slack_app_token=None, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api.base_url, booking_slack_port=0, booking_data_dir=folder,
    )
    booking = bootstrap.build(environment)
    adapter = slack_adapter_from_env(booking, environment, host="127.0.0.1")
    assert adapter is not None
    adapter.start()
    try:
        yield SlackWorld(booking, adapter, api,
                         SlackClient(f"http://127.0.0.1:{adapter.port}/slack/events", api),
                         database)
    finally:
        adapter.stop()
        api.stop()

