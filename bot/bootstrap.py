"""The composition root: reads settings, builds storage and the core service.

Nothing is built at import time; tests build their own with fakes or a
temporary database.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from core.chat import notice_words, waitlist_words
from core.chat.conversation import ConversationEngine
from core.domain.config import Config
from core.domain.passwords import PasswordDeriver
from core.runtime.config_file import load_config
from core.runtime.gpu_inventory import gpu_inventory
from core.runtime.secret_file import load_secret
from core.services.booking import BookingService
from core.services.notifier import Notifier
from storage.engine import make_engine, migrate
from storage.uow import SqlUnitOfWork, ensure_server


class Environment(BaseSettings):
    """Settings from the environment (and a `.env` file): paths, URLs, secrets."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    booking_config: Path = Path("cfg/booking.yaml")
    booking_database_url: str = "sqlite:///data/booking.db"
    # Slack (bot/slack): the adapter starts when slack_bot_token is set.
    slack_bot_token: str | None = None
    slack_app_token: str | None = None  # xapp-...: Socket Mode; unset: HTTP mode
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    booking_slack_port: Annotated[int, Field(ge=0, le=65535)] = 3000  # 0: any free port
    # Scheduler (bot/serve.py): the Docker engine (default: the local socket),
    # the secret passwords are derived from (default: a 0600 file under the
    # data folder, made once), and that data folder.
    docker_host: str | None = None
    booking_secret: str | None = None
    booking_data_dir: Path = Path("data")
    # Discord (bot/discord): the adapter starts when discord_token is set; commands
    # sync to discord_guild_id at once when set, else globally (up to an hour).
    discord_token: str | None = None
    discord_guild_id: int | None = None

    @field_validator("booking_database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        # Other databases would fail later with a missing driver module.
        scheme, found, _rest = value.partition("://")
        if scheme not in DATABASE_SCHEMES:
            what = f"`{scheme}` databases are not supported" if found else "not a database URL"
            raise ValueError(f"{what}; use {SUPPORTED_DATABASES}")
        return value


DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
SUPPORTED_DATABASES = "sqlite:///path/to/booking.db or postgresql://user:password@host/database"


@dataclass
class App:
    config: Config
    service: BookingService
    conversation: ConversationEngine
    environment: Environment | None = None
    engine: Engine | None = None
    server_id: int = 0
    # Called with a booking id after the service changed it (the scheduler listens).
    change_listeners: list[Callable[[int], None]] = field(default_factory=list)
    # Chat notifiers (name, Notifier) that adapters add; serve falls back to stdout.
    notifiers: list[tuple[str, Notifier]] = field(default_factory=list)


def build(environment: Environment | None = None) -> App:
    environment = environment or Environment()
    config = load_config(environment.booking_config)
    engine = make_engine(environment.booking_database_url)
    migrate(engine)
    server_id = ensure_server(engine, config.server.name)
    listeners: list[Callable[[int], None]] = []

    def changed(booking_id: int) -> None:
        for listener in listeners:
            listener(booking_id)

    service = BookingService(
        config=config,
        uow=lambda: SqlUnitOfWork(engine, server_id),
        gpus=gpu_inventory(config.capacity.gpus),
        notices=notice_words,
        on_change=changed,
    )
    service.waitlist_words = waitlist_words  # what members waiting for room are told
    return App(config, service, ConversationEngine(service, passwords=_password_deriver(environment)),
               environment, engine, server_id, listeners)


def _password_deriver(environment: Environment) -> Callable[[], PasswordDeriver]:
    """The deriver of booking passwords, made on first use (`login N` in a chat): the
    secret is read, or its file made, only when a login is shown."""
    made: list[PasswordDeriver] = []

    def deriver() -> PasswordDeriver:
        if not made:
            made.append(PasswordDeriver(load_secret(environment.booking_secret,
                                                    environment.booking_data_dir)))
        return made[0]

    return deriver


def local_user() -> str:
    return getpass.getuser()
