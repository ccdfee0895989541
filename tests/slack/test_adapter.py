"""`booking serve` gets a Slack adapter only when the environment configures one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import bootstrap
from bot.slack import SlackConfigError, slack_adapter_from_env
from tests.slack.harness import write_config


def environment(tmp_path: Path, bot_token: str | None = None) -> bootstrap.Environment:
    return bootstrap.Environment(
        booking_config=write_config(tmp_path),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        slack_bot_token=bot_token, slack_app_token=None, slack_signing_secret=None,
    )


def test_no_bot_token_means_no_slack(tmp_path: Path):
    env = environment(tmp_path)
    assert slack_adapter_from_env(bootstrap.build(env), env) is None


def test_http_mode_without_a_signing_secret_is_refused_at_start_up(tmp_path: Path):
    env = environment(tmp_path, bot_token="xoxb-1")
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        slack_adapter_from_env(bootstrap.build(env), env)
