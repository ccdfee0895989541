"""Pure parts of the scheduler: passwords, backup plans, memory split, container spec."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.domain.backup_plan import TEMPLATE, BackupPlanError, parse_plan
from core.domain.config import Config, ConfigError
from core.domain.container_spec import build_spec, memory_split
from core.domain.model import Account, Booking, Resources
from core.domain.passwords import PASSWORD_PLACEHOLDER, PASSWORD_UNAVAILABLE, PasswordDeriver
from core.runtime.backup_files import load_plan
from core.runtime.docker_spec import create_kwargs
from core.runtime.secret_file import load_secret


def _booking(booking_id: int | None = 1, **fields: object) -> Booking:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Booking(account="bob", start=now, end=now, resources=Resources(1, 1, 0), gpu_ids=(),
                   port=10001, image="lab/gpu:1", id=booking_id, **fields)  # type: ignore[arg-type]


def test_passwords_are_stable_per_booking_and_differ_between_bookings() -> None:
    one, other = PasswordDeriver(b"a" * 32), PasswordDeriver(b"b" * 32)
    first, second = _booking(1), _booking(2)
    assert one.password_for(first) == one.password_for(first)
    assert one.password_for(first) == PasswordDeriver(b"a" * 32).password_for(
        replace(first))  # a restart: a new deriver, the same stored booking
    assert one.password_for(first) != one.password_for(second)
    assert one.password_for(first) != other.password_for(first)
    assert len(one.password_for(first)) == 16
    assert one.render(f"pw {PASSWORD_PLACEHOLDER}", first) == f"pw {one.password_for(first)}"
    assert one.render("no placeholder", None) == "no placeholder"
    assert one.render(f"pw {PASSWORD_PLACEHOLDER}", None) == f"pw {PASSWORD_UNAVAILABLE}"
    with pytest.raises(ValueError, match="stored"):
        one.password_for(_booking(None))


def test_the_same_booking_id_gets_a_fresh_random_password_each_time() -> None:
    """A database reset that keeps the secret must not hand booking #1 the old #1's password."""
    deriver = PasswordDeriver(b"a" * 32)
    salts = {_booking(1).password_salt for _ in range(50)}
    assert len(salts) == 50 and all(s is not None and len(s) == 32 for s in salts)
    assert len({deriver.password_for(_booking(1)) for _ in range(50)}) == 50
    assert "password_salt" not in repr(_booking(1))


def test_a_booking_without_a_salt_keeps_its_pre_0003_password() -> None:
    """Bookings live when migration 0003 ran keep NULL, and the password their container has."""
    secret = b"a" * 32
    legacy = base64.b32encode(
        hmac.new(secret, b"booking-password:7", hashlib.sha256).digest()
    ).decode().rstrip("=").lower()[:16]
    assert PasswordDeriver(secret).password_for(_booking(7, password_salt=None)) == legacy
    assert PasswordDeriver(secret).password_for(_booking(7)) != legacy


def test_secret_file_is_made_once_with_0600(tmp_path: Path) -> None:
    first = load_secret(None, tmp_path / "data")
    assert load_secret(None, tmp_path / "data") == first
    assert os.stat(tmp_path / "data" / "booking-secret").st_mode & 0o777 == 0o600
    assert load_secret("from-env-0123456789", tmp_path / "data") == b"from-env-0123456789"


def test_an_unusable_secret_is_a_one_line_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as short:
        load_secret("short", tmp_path / "data")
    assert str(short.value).startswith("BOOKING_SECRET is too short (5 bytes): set it to at least 16")
    assert "short" not in str(short.value).removeprefix("BOOKING_SECRET is too short")
    secret_file = tmp_path / "data" / "booking-secret"
    secret_file.parent.mkdir()
    secret_file.write_bytes(b"\n")
    with pytest.raises(ConfigError) as empty:
        load_secret(None, tmp_path / "data")
    assert str(empty.value).startswith(f"the booking secret {secret_file} is empty: delete it")
    secret_file.write_bytes(b"tiny\n")
    with pytest.raises(ConfigError, match=r"booking-secret is too short \(4 bytes\)"):
        load_secret(None, tmp_path / "data")
    for error in (short, empty):
        assert "\n" not in str(error.value) and "BOOKING_SECRET" in str(error.value)


def test_backup_plan_reads_the_old_format_and_copies_the_template(tmp_path: Path) -> None:
    plan = parse_plan("Dir:\n  - [conda, /root/.conda]\nFile:\n  - [rc, /root/.bashrc]\n")
    assert [(i.backup_path, i.container_path, i.is_dir) for i in plan] == [
        ("conda", "/root/.conda", True), ("rc", "/root/.bashrc", False)]
    (tmp_path / "bob").mkdir()
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


def test_spec_has_gpus_by_id_the_port_and_the_old_docker_run_settings() -> None:
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
    # One argument for a shell inside the container (bash where the image has it), as the
    # old `docker run ... IMAGE bash -c CMD`; never split, never a host shell.
    assert spec.command[:2] == ("/bin/sh", "-c")
    assert spec.command[-1] == "python train.py --name 'my run'; rm -rf /"
    kwargs = create_kwargs(spec)
    assert kwargs["nano_cpus"] == 2_500_000_000
    assert (kwargs["mem_limit"], kwargs["memswap_limit"], kwargs["shm_size"]) == ("8g", "10g", "2g")
    assert kwargs["device_requests"][0]["DeviceIDs"] == ["1", "3"]
    assert kwargs["ports"] == {"22/tcp": ("0.0.0.0", 10007)}
    assert "/mnt/Dataset:/root/Dataset:ro" in kwargs["volumes"]
    assert "/mnt/Users/bob:/root/Work:rw" in kwargs["volumes"]
    assert "/mnt/Backup/bob:/root/Backup:rw" in kwargs["volumes"]
    assert kwargs["environment"] == {"PASSWORD": "pw"}
    assert spec.authorized_keys == "ssh-ed25519 AAA k"
    assert (kwargs["tty"], kwargs["stdin_open"]) == (True, True)  # `docker run -dit`
    assert kwargs["security_opt"] == ["no-new-privileges"]
    assert kwargs["pids_limit"] == 4096
    assert "NET_RAW" in kwargs["cap_drop"] and "SETUID" not in kwargs["cap_drop"]
    assert spec.name == "booking-bob-9"
