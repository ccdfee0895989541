"""The manifest an admin pastes asks for what the app listens to and calls."""

from __future__ import annotations

import yaml

from tests.slack.conftest import BOB
from tests.slack.harness import ROOT, SlackWorld


def test_the_manifest_lists_the_apps_commands_events_and_scopes(world: SlackWorld):
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yaml").read_text())
    commands = manifest["features"]["slash_commands"]

    assert {c["command"] for c in commands} == {"/book", "/capacity"}
    assert all(c["should_escape"] for c in commands)  # mentions arrive as <@U...|name>
    capacity = next(c for c in commands if c["command"] == "/capacity")
    hinted = {w.split()[0] for w in capacity["usage_hint"].strip("[]").split(" | ")}
    assert hinted == {"limits", "users", "link", "report", "history", "maintenance", "help"}
    assert all(len(c["description"]) <= 100 and len(c["usage_hint"]) <= 100 for c in commands)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "message.im", "user_change"}
    assert {"commands", "chat:write", "im:write", "im:history", "users:read",
            "files:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    # Every command the manifest declares has a listener (Bolt answers 404 otherwise).
    for command in commands:
        assert world.slack.command(BOB, command["command"], "help").status == 200
    assert world.slack.command(BOB, "/not-ours", "help").status == 404
    world.api.wait_for("response_url", count=2)
