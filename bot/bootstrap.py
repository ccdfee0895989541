"""The composition root: reads settings, builds storage and the core service.

Nothing is built at import time; tests build their own with fakes or a
temporary database.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Config, load_config
from core.conversation import ConversationEngine
from core.gpu_inventory import gpu_count
from core.service import BookingService
from storage.engine import make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server


class Environment(BaseSettings):
    """Settings from the environment (and a `.env` file): paths, URLs, secrets."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    booking_config: Path = Path("cfg/booking.yaml")
    booking_database_url: str = "sqlite:///data/booking.db"


@dataclass
class App:
    config: Config
    service: BookingService
    conversation: ConversationEngine


def build(environment: Environment | None = None) -> App:
    environment = environment or Environment()
    config = load_config(environment.booking_config)
    engine = make_engine(environment.booking_database_url)
    migrate(engine)
    server_id = ensure_server(engine, config.server.name)
    service = BookingService(
        config=config,
        uow=lambda: SqlUnitOfWork(engine, server_id),
        gpu_count=gpu_count(config.capacity.gpus),
    )
    return App(config, service, ConversationEngine(service))


def local_user() -> str:
    return getpass.getuser()
