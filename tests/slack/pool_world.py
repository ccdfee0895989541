"""A Slack world (the Bolt app over HTTP, the local Web API) on a pool of two servers:
gpu1 with 4 GPUs and gpu2 with 2 (tests/support/pool_config.py), real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot import bootstrap
from bot.slack import slack_adapter_from_env
from tests.slack.blockkit import check_everything_sent
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, FakeSlackApi, SlackClient, SlackWorld
from tests.support.pool_config import write_pool_config


@contextmanager
def pool_slack_world(tmp_path: Path, members: dict[str, str],
                     **config: Any) -> Iterator[SlackWorld]:
    """`members`: account name -> Slack user id (`alice` is an admin); `config`: sections
    of the pool's config to override."""
    api = FakeSlackApi().start()
    environment = bootstrap.Environment(
        booking_config=write_pool_config(tmp_path / "booking.yaml", **config),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        slack_bot_token=BOT_TOKEN, slack_app_token=None, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=api.base_url, booking_slack_port=0, booking_data_dir=tmp_path)
    booking = bootstrap.build(environment)
    adapter = slack_adapter_from_env(booking, environment, host="127.0.0.1")
    assert adapter is not None
    adapter.start()
    for name, user in members.items():
        booking.service.add_account(name, admin=name == "alice", slack_id=user)
    try:
        yield SlackWorld(booking, adapter, api,
                         SlackClient(f"http://127.0.0.1:{adapter.port}/slack/events", api),
                         tmp_path / "booking.db")
        check_everything_sent(api.calls)
    finally:
        adapter.stop()
        api.stop()
