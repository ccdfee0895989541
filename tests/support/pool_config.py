"""A pool of two servers for the chat tests (issue 14): gpu1 with 4 GPUs, gpu2 with 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot import bootstrap

ROOT = Path(__file__).resolve().parents[2]


def write_pool_config(path: Path, **overrides: Any) -> Path:
    """cfg/booking.yaml with `servers:` (gpu1: 4 GPUs at gpu1.lab.test, gpu2: 2 GPUs at
    gpu2.lab.test) in place of `server:` and `capacity:`; limits `max` for every member."""
    data = yaml.safe_load((ROOT / "cfg" / "booking.yaml").read_text())
    zone = data.pop("server").get("timezone", "Asia/Taipei")
    capacity = data.pop("capacity")
    data["servers"] = [
        {"name": "gpu1", "public_host": "gpu1.lab.test", "timezone": zone,
         "capacity": {**capacity, "gpus": 4}},
        {"name": "gpu2", "public_host": "gpu2.lab.test", "timezone": zone,
         "capacity": {**capacity, "gpus": 2}},
    ]
    data["limits"] = {"default": {"cpus": 8, "memory": 32, "gpus": "max",
                                  "work_space": 200, "backup_space": 50}, "users": {}}
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def build_pool(tmp_path: Path, *members: str, **overrides: Any) -> bootstrap.App:
    """The app on a pool config (`write_pool_config`) and a fresh SQLite database, with
    `members` added."""
    app = bootstrap.build(bootstrap.Environment(
        booking_config=write_pool_config(tmp_path / "booking.yaml", **overrides),
        booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
        booking_data_dir=tmp_path, booking_secret="s3cret"))
    for name in members:
        app.service.add_account(name)
    return app
