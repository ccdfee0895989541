"""The `booking` command line as an admin and members use it: real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import write_config


@pytest.fixture
def booking(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "booking.yaml")
    env = {**os.environ, "BOOKING_CONFIG": str(config),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'booking.db'}"}

    def run(*args: str, stdin: str | None = None, config_path: Path | None = None):  # type: ignore[no-untyped-def]
        run_env = dict(env)
        if config_path is not None:
            run_env["BOOKING_CONFIG"] = str(config_path)
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True,
            text=True, env=run_env, cwd=tmp_path, timeout=120,
        )

    return run


def test_admin_adds_members_who_book_list_extend_and_cancel(booking) -> None:  # type: ignore[no-untyped-def]
    assert booking("users", "add", "bob").stdout == "Account bob ready.\n"
    assert booking("users", "add", "carol", "--slack", "U1").returncode == 0
    made = booking("book", "--user", "bob", "--cpus", "4", "--memory", "16", "--gpus", "1",
                   "--start", "now", "--end", "3-day", "--json")
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert set(result) == {"id", "server", "user", "status", "start", "end", "cpus", "memory", "gpus",
                           "gpu_ids", "port", "image", "command"}
    assert (result["user"], result["status"], result["gpu_ids"], result["port"]) == (
        "bob", "booked", [0], 10001)
    assert result["start"].endswith("+08:00")  # ISO 8601 with the offset
    listing = json.loads(booking("ls", "--json").stdout)
    assert [b["id"] for b in listing] == [result["id"]]
    extended = booking("extend", str(result["id"]), "--end", "1-day", "--user", "bob")
    assert extended.returncode == 0 and extended.stdout.startswith("Extended: #1")
    cancelled = booking("cancel", str(result["id"]), "--user", "bob")
    assert cancelled.stdout.startswith("Cancelled: #1 [cancelled]")
    assert booking("ls").stdout == "No bookings.\n"
    assert "#1 [cancelled]" in booking("ls", "--all").stdout


def test_a_refusal_exits_1_with_the_reason_and_json_error(booking) -> None:  # type: ignore[no-untyped-def]
    booking("users", "add", "bob")
    booking("users", "add", "carol")
    booking("book", "--user", "bob", "--cpus", "8", "--memory", "8", "--gpus", "2",
            "--start", "now", "--end", "1-day")
    booking("users", "limit", "carol", "--gpus", "max")
    refused = booking("book", "--user", "carol", "--cpus", "1", "--memory", "1", "--gpus", "3",
                      "--start", "now", "--end", "1-day", "--json")
    assert refused.returncode == 1
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "no_capacity"
    assert "GPUs (3 asked, 2 free)" in error["message"]
    assert error["earliest_start"].endswith("+08:00")  # in the member's zone, like bookings
    assert refused.stderr.startswith("Refused: Not enough free")
    unknown = booking("cancel", "99", "--user", "bob")
    assert unknown.returncode == 1
    assert unknown.stderr == "Refused: There is no booking #99 of yours; `list` shows yours.\n"


def test_usage_errors_exit_2(booking) -> None:  # type: ignore[no-untyped-def]
    assert booking("book", "--user", "bob").returncode == 2
    assert booking("book", "--user", "bob", "--cpus", "x", "--memory", "1", "--gpus", "0",
                   "--start", "now", "--end", "1-day").returncode == 2
    assert booking("users", "limit", "bob").returncode == 2


def test_an_admin_sets_a_members_disk_quotas(booking) -> None:  # type: ignore[no-untyped-def]
    booking("users", "add", "carol")
    quotas = booking("users", "limit", "carol", "--work-space", "300", "--backup-space", "max")
    assert (quotas.returncode, quotas.stdout) == (0, (
        "carol may now book up to cpus=8 memory=32 gpus=2; "
        "quotas: work folder 300 GB, backup folder no limit.\n"))
    maxima = booking("users", "limit", "carol", "--gpus", "1")
    assert maxima.stdout == "carol may now book up to cpus=8 memory=32 gpus=1.\n"
    bad = booking("users", "limit", "carol", "--work-space", "lots")
    assert (bad.returncode, bad.stderr) == (
        1, "Refused: `work_space=lots` is not a number; use a number or `max`.\n")


def test_a_bad_config_stops_start_up_with_one_line(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("capacity:\n  cpus: lots\n  ram: 30\nimages: {default: a, allowed: [a]}\n")
    result = booking("ls", config_path=bad)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {bad}: capacity.cpus: Input should be a valid number, "
        "unable to parse string as a number\n"
    )
    missing = booking("ls", config_path=tmp_path / "nope.yaml")
    assert "nope.yaml: file not found" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("capacity: [\n")
    assert "broken.yaml (line 2)" in booking("ls", config_path=broken).stderr


def test_piped_chat_books_and_the_first_local_user_is_admin(booking) -> None:  # type: ignore[no-untyped-def]
    result = booking("chat", stdin="book 1 gpu 4 cpus 16g now 1-day\nlist\n")
    assert result.returncode == 0, result.stderr
    assert "Booked: #1 [booked]" in result.stdout
    users = json.loads(booking("users", "ls", "--json").stdout)
    assert [u["admin"] for u in users] == [True]


def test_an_unreachable_database_is_one_line_not_a_traceback(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ls"], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "BOOKING_CONFIG": str(write_config(tmp_path / "c.yaml")),
             "BOOKING_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot open the database (BOOKING_DATABASE_URL):")
    assert "Traceback" not in result.stderr


def test_capacity_shows_free_resources_per_period_and_who_holds_which_gpu(booking) -> None:  # type: ignore[no-untyped-def]
    booking("users", "add", "bob")
    made = json.loads(booking("book", "--user", "bob", "--cpus", "6", "--memory", "16", "--gpus",
                              "1", "--start", "now", "--end", "1-day", "--json").stdout)
    shown = booking("capacity", "--start", "now", "--end", "2-day")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "gpu1: 16 CPUs, 64 GB, 4 GPUs"
    # the booked day, then the free day: consecutive slots merged
    assert lines[1].endswith(": 10 CPUs, 48 GB, GPUs free: 1,2,3")
    assert lines[2].endswith(": 16 CPUs, 64 GB, GPUs free: 0,1,2,3")
    # The caller owns the data folder (the service's user): an admin, who sees the holders,
    # as /capacity shows them in Slack and Discord.
    start, end = lines[1].split(": ")[0].split(" -> ")  # bob's day, in the server's zone
    assert lines[3:] == ["Who holds which GPU:",
                         f"GPU 0: bob (#{made['id']}) from {start} until {end}"]
    slots = json.loads(booking("capacity", "--end", "1-day", "--json").stdout)
    assert len(slots) == 48 and slots[0]["gpu_ids"] == [1, 2, 3] and slots[0]["gpus"] == 3


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk2bXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlrZXlr bob@laptop"


def test_admin_sets_a_members_keys_zone_and_port(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    booking("users", "add", "bob")
    booking("users", "add", "carol")
    keys = tmp_path / "keys.pub"
    keys.write_text(f"# bob's keys\n{KEY}\n")
    done = booking("users", "set", "bob", "--ssh-keys", str(keys), "--timezone", "Europe/Berlin",
                   "--port", "10005")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("bob: port 10005, image lab/gpu:latest, time zone Europe/Berlin, "
                           "1 SSH key.\n")
    made = json.loads(booking("book", "--user", "bob", "--cpus", "1", "--memory", "1", "--gpus", "0",
                              "--start", "now", "--end", "1-day", "--json").stdout)
    assert made["port"] == 10005 and made["start"].endswith("+01:00")
    taken = booking("users", "set", "carol", "--port", "10005")
    assert (taken.returncode, taken.stderr) == (1, "Refused: Port 10005 belongs to another member.\n")
    bad = booking("users", "set", "bob", "--ssh-keys", "-", stdin="hello world\n")
    assert bad.returncode == 1 and "not an SSH public key" in bad.stderr
    zone = booking("users", "set", "bob", "--timezone", "Mars/Olympus")
    assert "Unknown time zone `Mars/Olympus`" in zone.stderr


def test_restart_asks_for_a_running_booking_and_exits_as_the_others(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    booking("users", "add", "bob")
    booking("users", "add", "carol")
    booking("book", "--user", "bob", "--cpus", "2", "--memory", "8", "--gpus", "0",
            "--start", "tomorrow 9am", "--end", "1-day")
    early = booking("restart", "1", "--user", "bob", "--json")
    assert early.returncode == 1
    error = json.loads(early.stdout)["error"]
    assert error["code"] == "not_running"
    assert error["message"].startswith("Booking #1 is booked; it starts at ")
    assert booking("restart", "1").returncode == 2  # --user is required
    with sqlite3.connect(tmp_path / "db" / "booking.db") as db:  # as the scheduler leaves it
        db.execute("UPDATE booking SET status = 'running'")
    other = booking("restart", "1", "--user", "carol")
    assert other.returncode == 1 and "There is no booking #1 of yours" in other.stderr
    asked = booking("restart", "1", "--user", "bob")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Restart requested: #1 [running] bob")
    again = booking("restart", "1", "--user", "bob")
    assert again.returncode == 1 and "already on its way" in again.stderr


def test_serve_with_an_unusable_secret_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "BOOKING_CONFIG": str(write_config(tmp_path / "c.yaml")),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'booking.db'}",
           "BOOKING_DATA_DIR": str(tmp_path / "data"), "BOOKING_SECRET": "short"}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
        env.pop(name, None)

    def serve(run_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "serve"], input="",
                              capture_output=True, text=True, env=run_env, cwd=tmp_path,
                              timeout=60)

    def error_line(result: subprocess.CompletedProcess[str]) -> str:
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        # serve logs at INFO (for example the GPU inventory) before it stops; the error is
        # the one line that click prints last.
        [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert result.stderr.endswith(error + "\n")
        return error

    assert error_line(serve(env)) == (
        "Error: BOOKING_SECRET is too short (5 bytes): set it to at least 16 random bytes, "
        "for example the output of `openssl rand -hex 32`, or unset it to use a secret file "
        "made under BOOKING_DATA_DIR"
    )
    env.pop("BOOKING_SECRET")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "booking-secret").write_text("\n")
    assert error_line(serve(env)).startswith(
        f"Error: the booking secret {tmp_path / 'data' / 'booking-secret'} is empty: delete it")


def test_a_config_error_names_only_the_files_keys(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = write_config(tmp_path / "bad.yaml", limits={"default": {"cpus": 8, "memory": "MAX"}})
    result = booking("ls", config_path=bad)
    assert (result.returncode, result.stderr) == (
        1, f"Error: {bad}: limits.default.memory: use a number >= 0 or `max`, not 'MAX'\n")
    nonsense = write_config(tmp_path / "slots.yaml", booking={"slot_minutes": 45})
    result = booking("ls", config_path=nonsense)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {nonsense}: booking.slot_minutes: 45 does not fit")


def _cli_with(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOOKING_CONFIG": str(write_config(tmp_path / "c.yaml")),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}", **variables}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("BOOKING_SLACK_PORT", "abc", "Error: BOOKING_SLACK_PORT (environment or .env): Input should be "
     "a valid integer, unable to parse string as an integer; use a port number such as 3000\n"),
    ("DISCORD_GUILD_ID", "abc", "Error: DISCORD_GUILD_ID (environment or .env): Input should be a "
     "valid integer, unable to parse string as an integer; use the Discord server's numeric id "
     "(Copy Server ID), or leave it unset\n"),
    ("BOOKING_DATABASE_URL", "mysql://x/y", "Error: BOOKING_DATABASE_URL (environment or .env): "
     "`mysql` databases are not supported; use sqlite:///path/to/booking.db or "
     "postgresql://user:password@host/database\n"),
])
def test_a_bad_environment_value_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = _cli_with(tmp_path, "ls", **{variable: value})
    assert (result.returncode, result.stderr) == (1, expected)


@pytest.mark.parametrize("command", [("cancel",), ("extend", "--end", "1-day"), ("restart",)])
def test_a_booking_id_too_big_for_the_database_is_a_usage_error(booking, command) -> None:  # type: ignore[no-untyped-def]
    result = booking(command[0], "99999999999999999999999", *command[1:], "--user", "bob")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith(
        "Error: Invalid value for 'BOOKING_ID': 99999999999999999999999 is not in the range "
        "1<=x<=9223372036854775807.\n")
    assert booking(command[0], "0", *command[1:], "--user", "bob").returncode == 2


def test_nan_and_inf_are_not_numbers_of_cpus(booking) -> None:  # type: ignore[no-untyped-def]
    booking("users", "add", "fay")
    for value in ("nan", "inf"):
        limit = booking("users", "limit", "fay", "--cpus", value)
        assert (limit.returncode, limit.stderr) == (
            1, f"Refused: `cpus={value}` is not a finite number; use a number or `max`.\n")
        made = booking("book", "--user", "fay", "--cpus", value, "--memory", "1", "--gpus", "0",
                       "--start", "now", "--end", "1-day")
        assert made.returncode == 2 and "Traceback" not in made.stderr
        assert made.stderr.endswith(
            f"Error: Invalid value for '--cpus': {value} is not a finite number; use a number "
            "such as 4.\n")
    assert "max cpus=8 " in booking("users", "ls").stdout


def test_serve_without_a_terminal_says_it_runs(tmp_path: Path) -> None:
    """Under systemd (stdin not a TTY) the journal shows that serve started."""
    import signal
    import threading
    import time

    env = {key: value for key, value in os.environ.items()
           if key not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")}
    env.update(BOOKING_CONFIG=str(write_config(tmp_path / "c.yaml")),
               BOOKING_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
               BOOKING_DATA_DIR=str(tmp_path / "data"),
               DOCKER_HOST=f"unix://{tmp_path / 'no-docker.sock'}")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path, env=env)
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not any("booking serve is running for server gpu1" in line for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        # Not at the very instant serve enters stop.wait(): on_signal calling stop.set()
        # there can deadlock on the Event's own lock (a known bot/serve.py race).
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)[::-1]
        lines.append(rest)
    finally:
        watchdog.cancel()
        process.kill()
    log = "".join(lines)
    assert process.returncode == 0, log
    assert "INFO core.runtime.scheduler: scheduler started" in log
    assert "INFO bot.serve: stopping (SIGTERM)" in log
    assert "alembic" not in log  # the libraries' INFO chatter stays out of the journal



def test_login_shows_a_running_booking_s_password(booking, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """For a member whose ready message reached no chat: the admin on the server reads it."""
    import sqlite3
    from datetime import UTC, datetime

    from core.domain.model import Booking, Resources
    from core.domain.passwords import PasswordDeriver
    from core.runtime.secret_file import load_secret

    booking("users", "add", "bob")
    booking("book", "--user", "bob", "--cpus", "2", "--memory", "8", "--gpus", "0",
            "--start", "tomorrow 9am", "--end", "1-day")
    early = booking("login", "1")
    assert (early.returncode, early.stderr) == (
        1, "Refused: Booking #1 is booked; only a running booking has a login.\n")
    with sqlite3.connect(tmp_path / "db" / "booking.db") as db:  # as the scheduler leaves it
        db.execute("UPDATE booking SET status = 'running'")
        salt = db.execute("SELECT password_salt FROM booking").fetchone()[0]
    shown = booking("login", "1")
    assert shown.returncode == 0, shown.stderr
    now = datetime.now(UTC)
    stored = Booking(account="bob", start=now, end=now, resources=Resources(2, 8, 0),
                     gpu_ids=(), port=10001, image="x", id=1, password_salt=salt)
    password = PasswordDeriver(load_secret(None, tmp_path / "data")).password_for(stored)
    assert shown.stdout.endswith(f"  ssh -p 10001 root@gpu1.test\n  password: {password}\n")
