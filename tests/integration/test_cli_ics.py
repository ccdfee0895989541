"""`booking ics`: a member's bookings as iCalendar from the command line (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.http_feeds import feed_link
from core.domain.feed_tokens import FeedTokens
from tests.factories import write_config

SECRET = "cli-calendar-secret-0123456789abcdef"


@pytest.fixture
def booking(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "data").mkdir()
    env = {**os.environ, "BOOKING_CONFIG": str(write_config(tmp_path / "booking.yaml")),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'booking.db'}",
           "BOOKING_DATA_DIR": str(tmp_path / "data"), "BOOKING_SECRET": SECRET}
    env.pop("BOOKING_HTTP_PORT", None)

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                              text=True, env={**env, **extra_env}, cwd=tmp_path, timeout=120)

    return run


def test_booking_ics_prints_the_members_bookings_and_the_servers_for_an_admin(booking) -> None:  # type: ignore[no-untyped-def]
    for name in ("alice", "bob", "carol"):
        assert booking("users", "add", name).returncode == 0
    for name, gpus in (("bob", "1"), ("carol", "2")):
        made = booking("book", "--user", name, "--cpus", "2", "--memory", "8", "--gpus", gpus,
                       "--start", "now", "--end", "1-day")
        assert made.returncode == 0, made.stderr

    bobs = booking("ics", "--user", "bob")
    assert bobs.returncode == 0, bobs.stderr
    [event] = Calendar.from_ical(bobs.stdout).walk("VEVENT")
    assert (str(event["UID"]), str(event["SUMMARY"])) == (
        "booking-1@gpu1.server-booking", "gpu1: 2 CPUs, 8 GB, 1 GPU (#1)")

    everyone = booking("ics", "--user", "alice", "--server")
    assert [str(e["SUMMARY"]) for e in Calendar.from_ical(everyone.stdout).walk("VEVENT")] == [
        "bob on gpu1: 2 CPUs, 8 GB, 1 GPU (#1)", "carol on gpu1: 2 CPUs, 8 GB, 2 GPUs (#2)"]

    refused = booking("ics", "--user", "bob", "--server")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "Only admins get the server's calendar; `bob` can get their own." in refused.stderr


def test_booking_ics_link_is_the_url_serve_serves(booking) -> None:  # type: ignore[no-untyped-def]
    assert booking("users", "add", "bob").returncode == 0
    unset = booking("ics", "--user", "bob", "--link")
    assert unset.returncode == 1
    assert "no calendar feeds are served: set BOOKING_HTTP_PORT" in unset.stderr

    shown = booking("ics", "--user", "bob", "--link", BOOKING_HTTP_PORT="8123",
                    BOOKING_HTTP_URL="https://gpu1.example/booking/")
    assert shown.returncode == 0, shown.stderr
    expected = feed_link("https://gpu1.example/booking", FeedTokens(SECRET.encode()), "bob")
    assert shown.stdout == expected + "\n"
    assert expected.startswith("https://gpu1.example/booking/calendar/bob/")
