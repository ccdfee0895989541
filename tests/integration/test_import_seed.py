"""`booking import-seed`: an old installation's files (shared/seed/old-formats.md) brought
over through the CLI, on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.factories import write_config

TAIPEI = ZoneInfo("Asia/Taipei")  # the server's zone in write_config: the old wall clock
HEADER = "start,end,user_id,cpus,memory,gpus,forward_port,image,extra_command\n"


def _t(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


@pytest.fixture
def old(tmp_path: Path) -> Path:
    """An old installation: three members allowed (s003 never logged in), s009 logged in
    once and no longer allowed, s002 running now, s001 booked tomorrow, s003 booked into
    GPUs that are no longer free, and a malformed row."""
    root = tmp_path / "old"
    (root / "cfg").mkdir(parents=True)
    (root / "jobs").mkdir()
    (root / "cfg" / "host_deploy.yaml").write_text(
        "volume_work_dir: /mnt/Users\nvolume_dataset_dir: /mnt/Dataset\n"
        "volume_backup_dir: /mnt/Backup\nusers_config_yaml: ./cfg/users_config.yaml\n"
        "capability_config_yaml: ./cfg/capability_config.yaml\n"
        "images:\n  - lab/gpu:latest\n  - lab/gpu:cuda11\n")
    (root / "cfg" / "capability_config.yaml").write_text(
        "max:\n  cpus: 48\n  ram: 64\n  swap_size: 16\n  gpus: 8\n"
        "  shm_rate: ram / (ram + swap_size)\n  memory: ram + swap_size\n"
        "  backup_space: 100\n  work_space: 300\n"
        "allow_userIDs:\n  - s001\n  - s002\n  - s003\n"
        "max_default_capability: {cpus: 4, memory: 16, gpus: 1, backup_space: 20, work_space: 100}\n"
        "max_custom_capability:\n  s001: {cpus: max, gpus: 2, work_space: max}\n")
    (root / "cfg" / "users_config.yaml").write_text(
        's001:\n  password: "hunter2"\n  forward_port: 10007\n  image: null\n'
        "  extra_command: python train.py > log\n  volume_work_dir: /mnt/Users/s001\n"
        "  volume_dataset_dir: /mnt/Dataset\n  volume_backup_dir: /mnt/Backup/s001\n"
        's002:\n  password: "s3cret"\n  forward_port: 10008\n  image: lab/old:1\n'
        "  extra_command: null\n  volume_work_dir: /srv/elsewhere/s002\n"
        's009:\n  password: "gone"\n  forward_port: 10009\n  image: null\n  extra_command: null\n')
    now = datetime.now(TAIPEI).replace(tzinfo=None, second=0, microsecond=0)
    slot = now.replace(minute=now.minute // 30 * 30)
    tomorrow = (now + timedelta(days=1)).replace(hour=10, minute=0)
    week_ago = (now - timedelta(days=7)).replace(hour=9, minute=30)
    (root / "jobs" / "booking.csv").write_text(
        HEADER
        + f'{_t(tomorrow)},{_t(tomorrow + timedelta(days=1))},s001,8.0,32,"[0, 1]",10007,'
          "lab/gpu:latest,python train.py > log\n"
        + f'{_t(tomorrow)},{_t(tomorrow + timedelta(days=1))},s003,4.0,16,"[2, 3]",10010,,\n'
        + f'{_t(tomorrow)},{_t(tomorrow + timedelta(days=1))},s003,4.0,16,"[0, x]",10010,,\n')
    (root / "jobs" / "using.csv").write_text(
        HEADER + f"{_t(slot - timedelta(days=1))},{_t(slot + timedelta(days=2))},s002,4.0,16,"
                 "[5],10008,lab/old:1,\n"
        + f"{_t(week_ago)},{_t(week_ago + timedelta(hours=2))},s003,1.0,1,[],10010,,\n")
    (root / "jobs" / "used.csv").write_text(
        HEADER + f"{_t(week_ago)},{_t(week_ago + timedelta(days=1))},s001,2.0,8,[],10007,"
                 "lab/gpu:latest,\n"
        + f"{_t(week_ago)},{_t(week_ago + timedelta(hours=5))},s009,1.0,4,[3],10009,,\n")
    return root


@pytest.fixture
def cli(tmp_path: Path, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    config = write_config(tmp_path / "booking.yaml")
    (tmp_path / "data").mkdir(exist_ok=True)
    monkeypatch.setenv("BOOKING_CONFIG", str(config))
    monkeypatch.setenv("BOOKING_DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args))


def _bookings(cli: Callable[..., Result]) -> list[dict[str, object]]:
    listed = cli("ls", "--all", "--json")
    assert listed.exit_code == 0, listed.output
    return sorted(json.loads(listed.output), key=lambda b: (b["user"], b["start"]))


def test_import_brings_members_maxima_and_bookings_over_once(
        cli: Callable[..., Result], old: Path) -> None:
    # s002 is here already, with another port: it is kept.
    assert cli("users", "add", "s002").exit_code == 0
    assert cli("users", "set", "s002", "--port", "10003").exit_code == 0
    dry = cli("import-seed", str(old), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("Dry run: nothing was changed.")
    assert "s001" not in cli("users", "ls").output
    assert _bookings(cli) == []

    done = cli("import-seed", str(old))
    assert done.exit_code == 0, done.output
    out = done.output
    # The dry run reported exactly what the import did (booking ids aside).
    def body(text: str) -> list[str]:
        return re.sub(r"booking \d+", "booking N", text).splitlines()[1:]
    assert body(dry.output) == body(out)

    assert "  - account s003 (allowed, never logged in: no port, image or command)" in out
    assert "  - s001: port 10007" in out and "  - s002: image lab/old:1" in out
    assert "  - s002: keeps port 10003 (old system: 10008)" in out
    assert "  - s001: extra command python train.py > log" in out
    assert "  - s001: maxima cpus=max gpus=2 work_space=300" in out
    assert ("  - s001: work_space max = 300 GB (the old host's max.work_space); `max` here "
            "would mean no quota") in out
    assert "  - s009: in users_config.yaml but not in allow_userIDs; no account" in out
    assert ("  - jobs/booking.csv line 4: gpus '[0, x]' is not a list of GPU ids such as "
            "[0, 1]") in out
    assert "jobs/used.csv line 3: s009 has no account here" in out
    assert ("history: 2 finished booking(s) (1 from jobs/used.csv, 1 from jobs/using.csv)"
            in out)
    conflict = next(line for line in out.splitlines() if "jobs/booking.csv line 3" in line)
    assert "s003" in conflict and "gpus=2" in conflict and "GPU" in conflict
    running = next(line for line in out.splitlines()
                   if "(jobs/using.csv line 2): starts now" in line)
    assert "stop its old container" in running and "GPUs [5] -> [" in running
    assert "port 10008 -> 10003" in running
    assert "s002's" not in out and "hunter2" not in out and "s3cret" not in out
    assert "work folder /srv/elsewhere/s002 is not /mnt/Users/s002" in out
    snippet = out[out.index("For cfg/booking.yaml"):]
    assert "capacity: {cpus: 48, ram: 64, swap: 16, gpus: 8}" in snippet
    assert "allowed: ['lab/gpu:latest', 'lab/gpu:cuda11']" in snippet
    assert "default: {cpus: 4, memory: 16, gpus: 1, backup_space: 20, work_space: 100}" in snippet

    users = cli("users", "ls", "--json")
    assert users.exit_code == 0, users.output
    assert "s001" in users.output and "s003" in users.output and "s009" not in users.output
    bookings = _bookings(cli)
    assert [(b["user"], b["status"], b["gpus"]) for b in bookings] == [
        ("s001", "finished", 0), ("s001", "booked", 2), ("s002", "booked", 1),
        ("s003", "finished", 0)]
    finished, future, now_running, _ = bookings
    assert finished["gpu_ids"] == [] and finished["port"] == 10007
    assert future["port"] == 10007 and future["command"] == "python train.py > log"
    assert now_running["image"] == "lab/old:1" and now_running["port"] == 10003

    again = cli("import-seed", str(old))
    assert again.exit_code == 0, again.output
    assert "Imported: none." in again.output and "Changed on the way: none." in again.output
    assert ("Already here (an earlier import, or made here), left as they are: 3 accounts, "
            "4 bookings.") in again.output
    assert "jobs/booking.csv line 3" in again.output  # the conflict, listed again
    assert _bookings(cli) == bookings


def test_a_folder_that_is_not_an_old_installation_is_refused(
        cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("import-seed", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'nowhere'}: not a folder; give the old "
                             "installation's folder (the one holding cfg/ and jobs/)\n")


def test_hostile_files_are_reported_not_read(cli: Callable[..., Result], old: Path) -> None:
    (old / "cfg" / "users_config.yaml").write_text("a: &x [1]\nb: *x\n")
    (old / "jobs" / "used.csv").write_text('start,end\n"unclosed\n')
    (old / "jobs" / "using.csv").write_bytes(b"\xff\xfe")
    (old / "cfg" / "host_deploy.yaml").write_text("users_config_yaml: /etc/shadow\n")
    result = cli("import-seed", str(old), "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert ("cfg/users_config.yaml line 1: anchors and aliases (& and *) are not read; write "
            "each entry out. Nothing read from this file") in out
    assert "jobs/used.csv line 1: the header is not start,end,user_id" in out
    assert "jobs/using.csv: not UTF-8 text (byte 0); not read" in out
    assert "cfg/host_deploy.yaml: users_config_yaml: '/etc/shadow' is not a path inside" in out
    # Members who never logged in (as far as these files say) still get accounts.
    assert "account s001 (allowed, never logged in" in out


def test_a_linked_folder_or_file_in_the_old_installation_is_not_followed(
        cli: Callable[..., Result], old: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (old / "jobs").rename(elsewhere / "jobs")
    (old / "jobs").symlink_to(elsewhere / "jobs")  # the folder on the way is a link
    (old / "cfg" / "capability_config.yaml").rename(elsewhere / "capability.yaml")
    (old / "cfg" / "capability_config.yaml").symlink_to(elsewhere / "capability.yaml")
    result = cli("import-seed", str(old), "--dry-run")
    assert result.exit_code == 0, result.output
    for name in ("jobs/booking.csv", "jobs/using.csv", "jobs/used.csv",
                 "cfg/capability_config.yaml"):
        assert f"{name}: not a regular file (a link or a folder); not read" in result.output
