"""A Slack world per test: real SQLite, the adapter over HTTP, a recording Web API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack.blockkit import check_everything_sent
from tests.slack.harness import SlackWorld, slack_world

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SlackWorld]:
    with slack_world(tmp_path, timezones={BOB: "Europe/Berlin"}) as w:
        service = w.booking.service
        service.add_account("alice", admin=True, slack_id=ALICE)
        service.add_account("bob", slack_id=BOB)
        service.add_account("carol", slack_id=CAROL)
        yield w
        # Whatever a test did, everything the app sent stays within Slack's limits.
        check_everything_sent(w.api.calls)
