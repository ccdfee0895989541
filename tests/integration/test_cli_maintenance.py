"""`booking maintenance` as an admin uses it: real processes on a real SQLite database."""

from __future__ import annotations

import re

from tests.integration.test_cli import booking  # noqa: F401  (the fixture)


def test_add_shows_the_bookings_it_meets_before_adding_then_ls_and_rm(booking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    booking("users", "add", "bob")
    made = booking("book", "--user", "bob", "--cpus", "2", "--memory", "4", "--gpus", "1",
                   "--start", "now", "--end", "1-day")
    assert made.returncode == 0, made.stderr
    window = ("maintenance", "add", "--start", "now", "--end", "1-day", "--gpus", "0",
              "--reason", "fan swap")

    asked = booking(*window)  # stdin is no terminal: nothing is added without --yes
    assert asked.returncode == 1, asked.stderr
    lines = asked.stdout.splitlines()
    assert re.fullmatch(r"Maintenance of GPU 0 from \S+ \S+ CST to \S+ \S+ CST: fan swap "
                        r"\(to be added by \S+\)\.", lines[0]), lines[0]
    assert lines[1] == ("It meets 1 booking; its member is told when it is added, with the "
                        "earliest start where the same booking fits:")
    assert lines[2].startswith("  #1 [booked] bob: ") and "1 GPU (ids 0)" in lines[2]
    assert lines[3:] == ["Nothing added: run again with --yes to add it."]
    assert booking("maintenance", "ls").stdout == (
        "No maintenance windows ahead. Add one with `booking maintenance add`.\n")

    added = booking(*window, "--yes")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Added maintenance window #1 Maintenance of GPU 0 from ")
    assert "Told the members of:\n  #1 [booked] bob: " in added.stdout
    assert "; offered from " in added.stdout
    listed = booking("maintenance", "ls").stdout
    assert listed.startswith("#1 Maintenance of GPU 0 from ") and ": fan swap (added by " in listed

    # bob holds GPU 0 and the window holds it too: carol gets another GPU, not GPU 0.
    booking("users", "add", "carol")
    carol = booking("book", "--user", "carol", "--cpus", "1", "--memory", "1", "--gpus", "2",
                    "--start", "now", "--end", "1-day", "--json")
    assert '"gpu_ids": [\n    1,\n    2\n  ]' in carol.stdout, carol.stdout

    removed = booking("maintenance", "rm", "1")
    assert removed.returncode == 0 and removed.stdout.startswith("Removed maintenance window #1")
    assert booking("maintenance", "ls").stdout.startswith("No maintenance windows ahead.")
    missing = booking("maintenance", "rm", "1")
    assert (missing.returncode, missing.stderr) == (
        1, "Refused: There is no maintenance window #1; `booking maintenance ls` lists them.\n")


def test_bad_input_says_what_works(booking) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    bad_gpu = booking("maintenance", "add", "--start", "now", "--end", "1-day", "--gpus", "9",
                      "--reason", "x")
    assert (bad_gpu.returncode, bad_gpu.stderr) == (
        1, "Refused: GPU 9 is not on this server (it has GPUs 0-3).\n")
    no_reason = booking("maintenance", "add", "--start", "now", "--end", "1-day")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    assert booking("maintenance", "rm", "x").returncode == 2
    empty_gpus = booking("maintenance", "add", "--start", "now", "--end", "1-day", "--gpus", " ",
                         "--reason", "x", "--yes")  # `--gpus "$GPUS"` with GPUS unset
    assert empty_gpus.returncode == 2
    assert ("--gpus is empty: give GPU ids such as 0,1, or leave --gpus out to take the whole "
            "server.") in empty_gpus.stderr
    assert "Traceback" not in empty_gpus.stderr
    assert booking("maintenance", "ls").stdout.startswith("No maintenance windows ahead.")
