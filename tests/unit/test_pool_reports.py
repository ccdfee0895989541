"""Usage reports and a booking's history in a pool of servers (issue 14), on real SQLite:
a block (CSV) or section (text) per server, then the whole pool; history on any server."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import bootstrap
from core.chat import admin_render
from core.chat.report_words import capacity_history, capacity_report, usage_bars, usage_csv
from core.domain.model import Refusal
from core.services.usage_report import UsageReport, usage_reports
from tests.integration.test_cli import booking  # noqa: F401  (the fixture)
from tests.integration.test_usage_report import Plain
from tests.support.pool_config import build_pool, write_pool_config


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[bootstrap.App]:
    yield build_pool(tmp_path, "alice", "bob", "carol", "dave")  # alice: the config's admin


def say(app: bootstrap.App, user: str, text: str) -> str:
    [reply] = app.conversation.handle(app.service.account(user), text)
    return reply.text


def booked(app: bootstrap.App) -> int:
    """carol: 2 GPUs on gpu1; bob: 1 GPU on gpu2; dave's gpu2 booking cancelled. Each for
    a day from now. Returns dave's booking."""
    assert say(app, "carol", "book 2 gpus now 1-day on gpu1").startswith("Booked: #1 on gpu1")
    assert say(app, "bob", "book 1 gpu now 1-day on gpu2").startswith("Booked: #2 on gpu2")
    assert say(app, "dave", "book 1 gpu now 1-day on gpu2").startswith("Booked: #3 on gpu2")
    app.service.cancel(3, actor="dave")
    return 3


def three_days(app: bootstrap.App) -> UsageReport:
    """Yesterday to tomorrow, in the server's zone: every booking's whole day."""
    today = app.service.now().astimezone(app.service.zone_of(None)).date()
    return usage_reports(app.service).days(f"{today - timedelta(days=1)}",
                                           f"{today + timedelta(days=1)}")


def test_the_csv_has_a_block_per_server_then_the_whole_pool(pool: bootstrap.App) -> None:
    booked(pool)
    rows = list(csv.DictReader(io.StringIO(usage_csv(three_days(pool)))))
    assert [(r["server"], r["member"], r["bookings"], r["booked_gpu_hours"]) for r in rows] == [
        ("gpu1", "carol", "1", "48.000"), ("gpu1", "*", "1", "48.000"),
        ("gpu2", "bob", "1", "24.000"), ("gpu2", "*", "1", "24.000"),
        ("*", "*", "2", "72.000")]


def test_the_text_has_a_section_per_server_the_pool_line_and_the_server_of_a_cancel(
        pool: bootstrap.App) -> None:
    booked(pool)
    report = three_days(pool)
    text = admin_render.render(capacity_report(pool.service, pool.service.account("alice"), [
        f"{report.period.start.astimezone(report.zone):%Y-%m-%d}", "to",
        f"{(report.period.end - timedelta(days=1)).astimezone(report.zone):%Y-%m-%d}"]), Plain())
    lines = text.splitlines()
    assert lines[0].startswith("gpu1, gpu2: usage "), lines[0]
    gpu1, gpu2 = lines.index("gpu1 per member:"), lines.index("gpu2 per member:")
    assert lines[gpu1 + 1].startswith("- carol (1 booking): booked 48.0 GPU-h")
    assert lines[gpu1 + 2].startswith("- Whole gpu1 (1 booking): booked 48.0 GPU-h")
    assert lines[gpu2 + 1].startswith("- bob (1 booking): booked 24.0 GPU-h")
    assert lines[gpu2 + 2].startswith("- Whole gpu2 (1 booking): booked 24.0 GPU-h")
    assert lines[gpu2 + 3].startswith("- Whole pool (2 bookings): booked 72.0 GPU-h")
    assert lines[lines.index("Cancelled:") + 1].startswith("- #3 on gpu2 dave ")
    # the chart: GPU-hours per member over the whole pool
    bars = usage_bars(report)
    assert bars.title.startswith("gpu1, gpu2: GPU-hours per member, ")
    assert (bars.members, bars.booked) == (("bob", "carol"), (24.0, 48.0))


def test_history_reads_a_booking_on_either_server(pool: bootstrap.App) -> None:
    booked(pool)
    alice = pool.service.account("alice")
    text = admin_render.render(capacity_history(pool.service, alice, ["3"]), Plain())
    assert text.startswith("#3 on gpu2 [cancelled] dave "), text
    assert " cancelled by dave" in text
    assert admin_render.render(capacity_history(pool.service, alice, ["#1"]), Plain()).startswith(
        "#1 on gpu1 [booked] carol ")
    with pytest.raises(Refusal, match=r"There is no booking #9; `/capacity` shows"):
        capacity_history(pool.service, alice, ["9"])
    with pytest.raises(Refusal, match="needs an admin"):
        capacity_history(pool.service, pool.service.account("bob"), ["3"])


def test_the_cli_reports_every_server_and_the_history_of_a_gpu2_booking(
        booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    config = write_pool_config(tmp_path / "pool.yaml")
    for name in ("bob", "carol"):
        assert booking("users", "add", name, config_path=config).returncode == 0
    for user, server in (("bob", "gpu2"), ("carol", "gpu1")):
        made = booking("book", "--user", user, "--cpus", "2", "--memory", "8", "--gpus", "1",
                       "--start", "now", "--end", "1-day", "--server", server,
                       config_path=config)
        assert made.returncode == 0, made.stderr
    table = booking("report", "--csv", config_path=config)
    assert table.returncode == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [(r["server"], r["member"]) for r in rows] == [
        ("gpu1", "carol"), ("gpu1", "*"), ("gpu2", "bob"), ("gpu2", "*"), ("*", "*")]
    [record] = json.loads(booking("report", "--json", config_path=config).stdout)
    assert [(s["server"], [m["member"] for m in s["members"]]) for s in record["servers"]] == [
        ("gpu1", ["carol"]), ("gpu2", ["bob"])]
    assert record["pool"]["bookings"] == 2
    events = booking("history", "1", config_path=config)
    assert events.returncode == 0, events.stderr
    assert events.stdout.startswith("#1 on gpu2 [booked] bob ")
    assert "\n" in events.stdout and " created" in events.stdout.split("\n", 1)[1]
