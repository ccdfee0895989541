"""Pure parts of the scheduler: passwords, backup plans, memory split, container spec."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.backup_plan import TEMPLATE, BackupPlanError, load_plan, parse_plan
from core.config import Config
from core.container_spec import build_spec, memory_split
from core.docker_runtime import _create_kwargs
from core.domain import Account, Booking, Resources
from core.passwords import PASSWORD_PLACEHOLDER, PasswordDeriver, load_secret


def test_passwords_are_stable_per_booking_and_differ_between_bookings() -> None:
    one, other = PasswordDeriver(b"a" * 32), PasswordDeriver(b"b" * 32)
    assert one.password_for(1) == one.password_for(1)
    assert one.password_for(1) != one.password_for(2)
    assert one.password_for(1) != other.password_for(1)
    assert len(one.password_for(1)) == 16
    assert one.render(f"pw {PASSWORD_PLACEHOLDER}", 1) == f"pw {one.password_for(1)}"


def test_secret_file_is_made_once_with_0600(tmp_path: Path) -> None:
    first = load_secret(None, tmp_path / "data")
    assert load_secret(None, tmp_path / "data") == first
    assert os.stat(tmp_path / "data" / "booking-secret").st_mode & 0o777 == 0o600
    assert load_secret("from-env", tmp_path / "data") == b"from-env"


def test_backup_plan_reads_the_old_format_and_copies_the_template(tmp_path: Path) -> None:
    plan = parse_plan("Dir:\n  - [conda, /root/.conda]\nFile:\n  - [rc, /root/.bashrc]\n")
    assert [(i.backup_path, i.container_path, i.is_dir) for i in plan] == [
        ("conda", "/root/.conda", True), ("rc", "/root/.bashrc", False)]
    assert load_plan(tmp_path / "bob") == parse_plan(TEMPLATE)
    assert (tmp_path / "bob" / "backup.yaml").read_text() == TEMPLATE


@pytest.mark.parametrize("text", [
    "Dir:\n  - [../escape, /root/x]\n", "File:\n  - [/etc/passwd, /root/x]\n",
    "File:\n  - [ok, relative/path]\n", "Files:\n  - [a, /b]\n", "Dir:\n  - just-a-string\n",
])
def test_backup_plan_refuses_paths_outside_the_folders(text: str) -> None:
    with pytest.raises(BackupPlanError):
        parse_plan(text)


@pytest.mark.parametrize(("memory", "ram", "swap", "expected"), [
    (16, 48, 16, (12, 4)), (4, 3, 1, (3, 1)), (8, 30, 0, (8, 0)), (5, 30, 10, (4, 1)),
])
def test_memory_is_split_like_the_host(
    memory: int, ram: int, swap: int, expected: tuple[int, int]
) -> None:
    assert memory_split(memory, ram, swap) == expected


def test_spec_has_gpus_by_id_the_port_and_a_command_without_a_shell() -> None:
    config = Config.model_validate({
        "capacity": {"cpus": 8, "ram": 30, "swap": 10, "gpus": 4},
        "images": {"default": "lab/gpu:1", "allowed": ["lab/gpu:1"]},
    })
    now = datetime(2026, 1, 1, tzinfo=UTC)
    booking = Booking(account="bob", start=now, end=now, resources=Resources(2.5, 10, 2),
                      gpu_ids=(1, 3), port=10007, image="lab/gpu:1", id=9,
                      command="python train.py --name 'my run'; rm -rf /")
    spec = build_spec(config, booking, Account(name="bob", ssh_keys="ssh-ed25519 AAA k"),
                      password="pw", restore=[])
    assert spec.command == ("python", "train.py", "--name", "my run;", "rm", "-rf", "/")
    kwargs = _create_kwargs(spec)
    assert kwargs["nano_cpus"] == 2_500_000_000
    assert (kwargs["mem_limit"], kwargs["memswap_limit"], kwargs["shm_size"]) == ("8g", "10g", "2g")
    assert kwargs["device_requests"][0]["DeviceIDs"] == ["1", "3"]
    assert kwargs["ports"] == {"22/tcp": ("0.0.0.0", 10007)}
    assert "/mnt/Dataset:/root/dataset:ro" in kwargs["volumes"]
    assert kwargs["environment"] == {"PASSWORD": "pw", "SSH_AUTHORIZED_KEYS": "ssh-ed25519 AAA k"}
    assert spec.name == "booking-bob-9"
