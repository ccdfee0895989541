"""The `booking` CLI and accounts: names that would become host folders, moving a
chat link, and `--user` from someone who is not root, the service's user or an admin."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.factories import write_config


@pytest.fixture
def booking(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "booking.yaml")
    env = {**os.environ, "BOOKING_CONFIG": str(config),
           "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'booking.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)

    return run


@pytest.mark.parametrize("name", [".", "..", "../etc", "a/b", "Bob", "_x", "x" * 33, "a..b"])
def test_users_add_refuses_a_name_that_is_not_a_plain_lab_id(booking, name: str) -> None:  # type: ignore[no-untyped-def]
    added = booking("users", "add", name)
    assert added.returncode == 1
    assert added.stderr.endswith(
        "cannot be an account name; use 1 to 32 characters: lowercase letters, digits, `_`, "
        "`.` and `-`, starting with a letter or digit, without `..` (for example r11922001).\n")
    assert booking("users", "ls").stdout == "No accounts yet: `booking users add ID`.\n"


def test_moving_a_chat_link_needs_force_and_names_both(booking) -> None:  # type: ignore[no-untyped-def]
    assert booking("users", "add", "r11922001", "--slack", "USQUAT").returncode == 0
    moved = booking("users", "add", "r11922001", "--slack", "UREAL")
    assert moved.returncode == 1
    assert moved.stderr == (
        "Refused: `r11922001` is linked to slack user USQUAT now; linking it to slack user "
        "UREAL unlinks USQUAT. Both are told when you confirm. Run it again with --force to "
        "move the link.\n")
    assert "slack USQUAT" in booking("users", "ls").stdout
    forced = booking("users", "add", "r11922001", "--slack", "UREAL", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "slack UREAL" in booking("users", "ls").stdout


# ----- who may act as whom ---------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """The CLI in this process, so the caller's uid and login can be someone else's."""
    config = write_config(tmp_path / "booking.yaml")
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BOOKING_CONFIG", str(config))
    monkeypatch.setenv("BOOKING_DATABASE_URL", f"sqlite:///{tmp_path / 'db' / 'booking.db'}")
    monkeypatch.setenv("BOOKING_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input)

    for setup in (["users", "add", "alice", "--admin"], ["users", "add", "bob"],
                  ["users", "add", "carol"],
                  ["book", "--user", "carol", "--cpus", "1", "--memory", "1", "--gpus", "0",
                   "--start", "now", "--end", "1-day"]):
        assert run(*setup).exit_code == 0  # as root
    yield run


def _logged_in_as(monkeypatch: pytest.MonkeyPatch, login: str, uid: int = 4242) -> None:
    monkeypatch.setattr(os, "getuid", lambda: uid)
    real = pwd.getpwuid
    monkeypatch.setattr(pwd, "getpwuid",
                        lambda n: SimpleNamespace(pw_name=login) if n == uid else real(n))
    monkeypatch.setenv("USER", "alice")  # what the caller says is not who they are
    monkeypatch.setenv("LOGNAME", "alice")


def test_a_member_may_act_only_as_their_own_login(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _logged_in_as(monkeypatch, "bob")
    as_carol = cli("cancel", "1", "--user", "carol")
    assert as_carol.exit_code == 1
    assert as_carol.stderr == (
        "Refused: You are logged in as `bob`, so `--user` must be `bob`; only root, the "
        "service's user or an admin account may act for another member.\n")
    booked = cli("book", "--user", "carol", "--cpus", "1", "--memory", "1", "--gpus", "0",
                 "--start", "2-day", "--end", "1-day", "--json")
    assert booked.exit_code == 1 and '"code": "not_owner"' in booked.stdout
    for chat in (cli("chat", "--user", "alice", input="list\n"),
                 cli("chat", input="list\n")):  # $USER says alice; the login is bob
        assert chat.exit_code == 1
        assert chat.stderr.startswith("Refused: You are logged in as `bob`, so `--user` must")
    own = cli("book", "--user", "bob", "--cpus", "1", "--memory", "1", "--gpus", "0",
              "--start", "now", "--end", "1-day")
    assert own.exit_code == 0, own.stderr
    for admin_only in (["users", "add", "bob", "--admin"], ["users", "limit", "bob", "--gpus", "4"],
                       ["users", "set", "bob", "--port", "10009"], ["users", "ls"]):
        refused = cli(*admin_only)
        assert refused.exit_code == 1
        assert refused.stderr == (
            "Refused: Managing accounts needs root, the service's user or an admin account; "
            "`bob` is none of them.\n")
    _logged_in_as(monkeypatch, "root", uid=0)
    assert "alice (admin)" in cli("users", "ls").stdout
    assert "bob (admin)" not in cli("users", "ls").stdout
    assert cli("ls", "--user", "carol").stdout.count("[booked] carol") == 1


def test_an_admin_login_and_the_service_user_may_act_for_members(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    _logged_in_as(monkeypatch, "alice")
    assert cli("extend", "1", "--end", "1-day", "--user", "carol").exit_code == 0
    _logged_in_as(monkeypatch, "svc", uid=4343)
    assert cli("cancel", "1", "--user", "carol").exit_code == 1
    os.chown(tmp_path / "data", 4343, -1)  # the service's user owns the data folder
    cancelled = cli("cancel", "1", "--user", "carol")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert cli("users", "add", "dave").exit_code == 0


def test_capacity_shows_who_holds_which_gpu_to_an_admin_only(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
) -> None:
    booked = cli("book", "--user", "bob", "--cpus", "1", "--memory", "1", "--gpus", "2",
                 "--start", "now", "--end", "1-day")  # as root
    assert booked.exit_code == 0, booked.stderr
    _logged_in_as(monkeypatch, "alice")  # an admin account's login
    shown = cli("capacity").stdout.splitlines()
    assert "Who holds which GPU:" in shown
    holders = [line for line in shown if line.startswith("GPU ")]
    assert [h.split(" from ")[0] for h in holders] == ["GPU 0: bob (#2)", "GPU 1: bob (#2)"]
    _logged_in_as(monkeypatch, "bob")  # a member: what is free, not who holds it
    member = cli("capacity")
    assert member.exit_code == 0 and "GPUs free: 2,3" in member.stdout
    assert "Who holds" not in member.stdout and "bob (#2)" not in member.stdout


def test_moving_a_link_asks_on_a_terminal_and_needs_force_otherwise(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import users

    assert cli("users", "add", "bob", "--slack", "UBOB").exit_code == 0
    piped = cli("users", "add", "dave", "--slack", "UBOB")
    assert piped.exit_code == 1
    assert piped.stderr.endswith("Run it again with --force to move the link.\n")
    monkeypatch.setattr(users, "_interactive", lambda: True)  # someone at a terminal
    declined = cli("users", "add", "dave", "--slack", "UBOB", input="n\n")
    assert declined.exit_code == 1
    assert declined.stderr.startswith(
        "Link Slack user UBOB to dave? bob loses Slack user UBOB; both are told. [y/N]: ")
    assert "dave" not in cli("users", "ls").stdout
    moved = cli("users", "add", "dave", "--slack", "UBOB", input="y\n")
    assert moved.exit_code == 0, moved.stderr
    assert moved.stdout == "Account dave ready.\n"
    listed = cli("users", "ls").stdout
    assert "dave: max" in listed and "slack UBOB" in listed.split("dave: max")[1]
