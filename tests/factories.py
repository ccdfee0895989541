"""Small builders for test data: configs, clocks and services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.chat import notice_words
from core.domain.config import Config
from core.domain.gpus import GpuInventory
from core.domain.model import Account
from core.services.booking import BookingService
from tests.fakes import FakeUnitOfWork, Store

# A Sunday noon in Taipei; 04:00 UTC is on the half-hour grid.
NOW = datetime(2026, 11, 29, 4, 10, tzinfo=UTC)


def config_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "server": {"name": "gpu1", "public_host": "gpu1.test", "timezone": "Asia/Taipei"},
        "capacity": {"cpus": 16, "ram": 48, "swap": 16, "gpus": 4},
        "booking": {"slot_minutes": 30, "max_days": 14, "ports": [10001, 10010],
                    "registration": "closed"},
        "limits": {"default": {"cpus": 8, "memory": 32, "gpus": 2},
                   "users": {"alice": {"cpus": "max", "memory": "max", "gpus": "max"}}},
        "images": {"default": "lab/gpu:latest", "allowed": ["lab/gpu:latest", "lab/old:1"]},
        "admins": ["alice"],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def make_config(**overrides: Any) -> Config:
    return Config.model_validate(config_data(**overrides))


def write_config(path: Path, **overrides: Any) -> Path:
    path.write_text(yaml.safe_dump(config_data(**overrides)), encoding="utf-8")
    return path


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fake_service(
    *, members: tuple[str, ...] = ("alice", "bob", "carol"), clock: Callable[[], datetime] | None = None,
    nvlinks: frozenset[frozenset[int]] = frozenset(), **overrides: Any,
) -> tuple[BookingService, Store]:
    store = Store()
    for name in members:
        store.accounts[name] = Account(name=name, display_name=name, id=len(store.accounts) + 1)
    config = make_config(**overrides)
    service = BookingService(
        config=config, uow=lambda: FakeUnitOfWork(store),
        gpus=GpuInventory(int(config.capacity.gpus), nvlinks), clock=clock or Clock(),
        notices=notice_words,
    )
    return service, store
