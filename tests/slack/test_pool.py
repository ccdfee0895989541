"""Slack in a pool of two servers (issue 14): `on gpu2` in a DM, the modal's Server menu,
/capacity with each server's state and section, and a chart panel per server. Real SQLite,
the adapter over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.slack.conftest import ALICE, BOB, CAROL
from tests.slack.harness import (
    SlackWorld,
)
from tests.slack.pool_world import pool_slack_world
from tests.slack.test_modal import IMAGE, element, form, free_words, tomorrow_at
from tests.support.heartbeats import beat
from tests.support.pool_charts import assert_panel_per_server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SlackWorld]:
    with pool_slack_world(tmp_path, {"alice": ALICE, "bob": BOB, "carol": CAROL}) as built:
        yield built


def test_a_dm_request_on_gpu2_lands_there_and_says_so(world: SlackWorld) -> None:
    world.slack.dm(BOB, "book 1 gpu now 1-day on gpu2")
    text = world.api.wait_for("chat.postMessage")[0].args["text"]
    assert text.startswith("Booked: #1 on gpu2 [booked] bob:"), text
    assert [b.server for b in world.booking.service.bookings("bob")] == ["gpu2"]


def test_the_modal_offers_the_servers_and_books_on_the_chosen_one(world: SlackWorld) -> None:
    world.slack.command(CAROL, "/book", "")
    view = world.api.wait_for("views.update")[0].args["view"]
    menu = element(view, "server")
    assert [o["value"] for o in menu["options"]] == ["any", "gpu1", "gpu2"]
    assert menu["initial_option"]["value"] == "any"
    posted = world.slack.submit_view(CAROL, view, form(start=tomorrow_at(9), server="gpu2"),
                                     IMAGE)
    assert posted.status == 200
    text = world.api.wait_for("chat.postMessage")[0].args["text"]
    assert text.startswith("Booked: #1 on gpu2 [booked] carol:"), text


def test_the_modals_free_line_is_per_server_or_for_the_chosen_one(world: SlackWorld) -> None:
    world.slack.command(BOB, "/book", "2 gpus now 2-day on gpu2")  # gpu2 has no GPU left
    world.api.wait_for("response_url")
    world.slack.command(CAROL, "/book", "")
    view = world.api.wait_for("views.update")[0].args["view"]
    lines = free_words(view).splitlines()  # Any server, no GPU (carol's default)
    assert lines[0].startswith("Free for the whole time, "), lines
    assert lines[1:] == ["gpu1: 62 CPUs, 40 GB, 4 GPUs (fits)",
                         "gpu2: 58 CPUs, 24 GB, 0 GPUs (fits)"], lines

    world.slack.change(CAROL, view, "gpus", "1")
    lines = free_words(world.api.wait_for("views.update", count=2)[1].args["view"]).splitlines()
    assert lines[1:] == ["gpu1: 62 CPUs, 40 GB, 4 GPUs (fits)",
                         "gpu2: 58 CPUs, 24 GB, 0 GPUs (not enough GPUs)"], lines

    world.slack.change(CAROL, view, "server", "gpu2", {"gpus": "1"})
    chosen = free_words(world.api.wait_for("views.update", count=3)[2].args["view"])
    assert chosen.startswith("On gpu2: Free for the whole time, "), chosen
    assert chosen.endswith(": 58 CPUs, 24 GB, 0 GPUs. Not enough GPUs then: booking offers "
                           "the earliest start that fits."), chosen

    world.slack.change(CAROL, view, "server", "gpu1", {"gpus": "1"})
    other = free_words(world.api.wait_for("views.update", count=4)[3].args["view"])
    assert other.startswith("On gpu1: ") and other.endswith("4 GPUs. Your request fits."), other


def test_capacity_lists_each_server_and_says_which_is_down(world: SlackWorld) -> None:
    engine = world.booking.engine
    assert engine is not None
    beat(engine, "gpu1")  # gpu1's serve beats; gpu2's last beat is two minutes old
    silent = beat(engine, "gpu2", timedelta(minutes=2))
    world.slack.command(BOB, "/book", "1 gpu now 1-day on gpu2")
    world.api.wait_for("response_url")
    world.slack.command(ALICE, "/capacity", "")
    summary = world.api.wait_for("response_url", count=2)[1].args["text"]
    lines = summary.splitlines()
    minute = int(silent.replace(second=0, microsecond=0).timestamp())  # shown to the minute
    since = f"<!date^{minute}^{{date_short_pretty}} {{time}}|"  # in each reader's own zone
    assert lines[:2] == ["*2 servers*: gpu1, gpu2", "• gpu1: up"], lines[:3]
    assert lines[2].startswith(f"• gpu2: down, not heard from since {since}"), lines[2]
    assert "*gpu1*: 62 CPUs, 40 GB, 4 GPUs. Free in the next 3 days:" in lines, lines
    [down] = [line for line in lines if line.startswith("*gpu2*")]
    assert down.startswith(f"*gpu2* — *down*, not heard from since {since}"), down
    assert down.endswith("(62 CPUs, 40 GB, 2 GPUs). Free in the next 3 days:"), down
    assert any(line.startswith("• GPU 0: bob (#1) from ") for line in lines)
    # The GPU timeline: one figure, a panel per server, titled with both names.
    completed = world.api.wait_for("files.completeUploadExternal")[0].args
    [uploaded] = completed["files"]
    assert uploaded["title"] == "gpu1, gpu2: who holds which GPU, next 3 days"
    [upload] = [c for c in world.api.calls if c.method == f"upload/{uploaded['id']}"]
    assert_panel_per_server(upload.body, {"gpu1": 4, "gpu2": 2}, holder_on="gpu2")


def test_capacity_with_every_server_up_says_so(world: SlackWorld) -> None:
    engine = world.booking.engine
    assert engine is not None
    beat(engine, "gpu1")
    beat(engine, "gpu2", timedelta(seconds=30))  # three missed beats: not down yet
    world.slack.command(ALICE, "/capacity", "")
    lines = world.api.wait_for("response_url")[0].args["text"].splitlines()
    assert lines[1:3] == ["• gpu1: up", "• gpu2: up"]
    assert "*gpu2*: 62 CPUs, 40 GB, 2 GPUs. Free in the next 3 days:" in lines
    assert "down" not in "\n".join(lines)
