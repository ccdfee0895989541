"""`booking report` and `booking history` as an admin runs them: real processes, SQLite."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from core.domain.usage import month_period
from tests.integration.test_cli import booking  # noqa: F401  (the fixture)


def test_report_csv_json_and_history_of_what_was_booked(booking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    booking("users", "add", "bob")
    booking("users", "add", "carol")
    made = json.loads(booking("book", "--user", "bob", "--cpus", "4", "--memory", "16",
                              "--gpus", "2", "--start", "now", "--end", "1-day", "--json").stdout)
    later = json.loads(booking("book", "--user", "carol", "--cpus", "2", "--memory", "8",
                               "--gpus", "1", "--start", "3-day", "--end", "1-day",
                               "--json").stdout)
    assert booking("cancel", str(later["id"]), "--user", "carol").returncode == 0
    start = datetime.fromisoformat(made["start"])
    month = f"{start.astimezone(ZoneInfo('Asia/Taipei')):%Y-%m}"  # the server's zone

    shown = booking("report", "--month", month)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"gpu1: usage {month} (")
    assert "Per member:" in lines
    assert any(line.startswith("bob (1 booking): booked ") for line in lines)
    assert not any(line.startswith("carol") for line in lines)  # cancelled: no hours
    assert lines[lines.index("Cancelled:") + 1].startswith(f"#{later['id']} carol cpus=2")
    assert lines[lines.index("No-shows (failed starts):") + 1] == "None."

    table = list(csv.DictReader(io.StringIO(booking("report", "--month", month, "--csv").stdout)))
    assert [(r["member"], r["bookings"]) for r in table] == [("bob", "1"), ("*", "1")]
    month_end = month_period(month, ZoneInfo("Asia/Taipei")).end
    in_month = min(datetime.fromisoformat(made["end"]), month_end) - start
    assert float(table[0]["booked_gpu_hours"]) == round(2 * in_month.total_seconds() / 3600, 3)

    day = f"{start.astimezone(ZoneInfo('Asia/Taipei')):%Y-%m-%d}"
    [record] = json.loads(booking("report", "--start", day, "--end", day, "--json").stdout)
    assert [m["member"] for m in record["members"]] == ["bob"]
    assert record["cancelled"] == []  # carol's window starts days later

    events = booking("history", str(later["id"]))
    assert events.returncode == 0, events.stderr
    rows = events.stdout.splitlines()
    assert rows[0].startswith(f"#{later['id']} [cancelled] carol cpus=2 memory=8 gpus=1 ")
    assert [row.split(" ", 3)[3].split(" by ")[0] for row in rows[2:]] == ["created", "cancelled"]
    booked_end = datetime.fromisoformat(later["end"]).astimezone(ZoneInfo("UTC")).isoformat()
    assert rows[-1].endswith(f"cancelled by carol: booked_end={booked_end}")


def test_bad_report_and_history_input_says_what_works(booking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    month = booking("report", "--month", "November")
    assert month.returncode == 1
    assert month.stderr == ("Refused: `November` is not a month; use YEAR-MONTH, such as "
                            "2026-11.\n")
    half = booking("report", "--start", "2026-11-01")
    assert half.returncode == 2 and "Give both --start and --end" in half.stderr
    both = booking("report", "--month", "2026-11", "--start", "2026-11-01", "--end", "2026-11-02")
    assert both.returncode == 2 and "Give --month or --start and --end, not both." in both.stderr
    missing = booking("history", "7")
    assert (missing.returncode, missing.stderr) == (
        1, "Refused: There is no booking #7; `booking ls --all` lists them.\n")
