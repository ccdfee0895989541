"""`booking waitlist` as an admin or member uses it: real processes on a real SQLite
database; a cancel that frees the room tells (or books for) the member waiting."""

from __future__ import annotations

import json

from tests.integration.test_cli import booking  # noqa: F401  (the fixture)

HALF = ("--cpus", "1", "--memory", "1", "--gpus", "2")  # a member may hold 2 of the 4 GPUs


def test_a_member_waits_for_a_full_server_and_is_booked_when_it_frees(booking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for name in ("alice", "carol", "bob"):
        booking("users", "add", name)
    for name in ("alice", "carol"):
        held = booking("book", "--user", name, *HALF, "--start", "now", "--end", "1-day")
        assert held.returncode == 0, held.stderr
    refused = booking("book", "--user", "bob", *HALF, "--start", "now", "--end", "1-day")
    assert refused.returncode == 1 and "GPUs (2 asked, 0 free)" in refused.stderr

    waiting = booking("waitlist", "add", "--user", "bob", *HALF, "--start", "now",
                      "--end", "1-day", "--auto")
    assert waiting.returncode == 0, waiting.stderr
    assert waiting.stdout.startswith("Waiting: #1 bob: 1 CPU, 1 GB, 2 GPUs for 1 day, starting ")
    assert waiting.stdout.rstrip().endswith("(booked for them when it fits)")
    assert booking("waitlist", "ls", "--user", "bob").stdout == waiting.stdout.removeprefix(
        "Waiting: ")

    assert booking("cancel", "1", "--user", "alice").returncode == 0
    mine = json.loads(booking("ls", "--user", "bob", "--json").stdout)
    assert [(b["user"], b["gpus"], b["status"]) for b in mine] == [("bob", 2, "booked")]
    assert booking("waitlist", "ls", "--user", "bob").stdout == "bob waits for nothing.\n"


def test_a_request_that_fits_is_not_added_and_clear_and_bad_input_say_what_works(booking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    booking("users", "add", "bob")
    fits = booking("waitlist", "add", "--user", "bob", *HALF, "--start", "now", "--end", "1-day")
    assert fits.returncode == 0
    assert fits.stdout.startswith("It fits now, from ") and "nothing was added" in fits.stdout
    assert booking("waitlist", "clear", "--user", "bob").stdout == (
        "You waited for nothing; nothing to drop.\n")
    bad = booking("waitlist", "add", "--user", "bob", *HALF, "--start", "now", "--end", "99-day")
    assert bad.returncode == 1 and bad.stderr.startswith("Refused: ")
    assert booking("waitlist", "ls").returncode == 2  # --user is required
