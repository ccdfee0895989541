from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.bootstrap import App, Environment, build
from tests.factories import write_config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'booking.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Callable[..., App]:
    """Build the real application on a real database, as `booking` does."""

    def _make(**config_overrides: object) -> App:
        config = write_config(tmp_path / "booking.yaml", **config_overrides)
        return build(Environment(booking_config=config, booking_database_url=database_url))

    return _make
