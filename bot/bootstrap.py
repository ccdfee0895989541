"""The composition root: reads settings, builds storage and the core service.

Nothing is built at import time; tests build their own with fakes or a
temporary database.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine
from sqlmodel import Session

from core.chat import notice_words, waitlist_words
from core.chat.conversation import ConversationEngine
from core.domain.config import Config, ConfigError
from core.domain.gpus import GpuInventory
from core.domain.passwords import PasswordDeriver
from core.domain.server_health import ServerHealth
from core.runtime.config_file import load_config
from core.runtime.gpu_inventory import gpu_inventory
from core.runtime.secret_file import load_secret
from core.services.booking import BookingService
from core.services.notifier import Notifier
from core.services.pool import BookingPool
from storage.engine import make_engine, migrate
from storage.heartbeat import SqlHeartbeats
from storage.uow import SqlUnitOfWork, ensure_server

log = logging.getLogger(__name__)


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
    # A pool of servers (config `servers:`): the server this host runs (`serve --server`
    # sets it). Its scheduler, Docker engine and NVML are this process's; unset: the first.
    booking_server: str | None = None

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
    home = environment.booking_server or config.server_names[0]
    if home not in config.server_names:
        raise ConfigError(
            f"{environment.booking_config}: no server {home!r} (BOOKING_SERVER or --server); "
            f"the servers are {', '.join(config.server_names)}")
    engine = make_engine(environment.booking_database_url)
    migrate(engine)
    ids = {name: ensure_server(engine, name) for name in config.server_names}
    listeners: list[Callable[[int], None]] = []

    def changed(booking_id: int) -> None:
        for listener in listeners:
            listener(booking_id)

    heard = _heartbeats(engine) if config.is_pool else {}

    def service_of(name: str) -> BookingService:
        view = config.for_server(name)
        service = BookingService(
            config=view,
            uow=partial(SqlUnitOfWork, engine, ids[name]),
            gpus=_inventory(view, heard.get(name), local=name == home),
            notices=notice_words,
            on_change=changed,
        )
        service.waitlist_words = waitlist_words  # what members waiting for room are told
        return service

    services = {name: service_of(name) for name in config.server_names}
    service = services[home] if len(services) == 1 else BookingPool(services, home=home)
    return App(service.config, service,
               ConversationEngine(service, passwords=_password_deriver(environment)),
               environment, engine, ids[home], listeners)


def _heartbeats(engine: Engine) -> dict[str, ServerHealth]:
    """Each server's last heartbeat that carried its GPUs, by name."""
    with Session(engine) as session:
        return {health.name: health for health in SqlHeartbeats(session).all()
                if health.gpus is not None}


def _inventory(config: Config, heard: ServerHealth | None, *, local: bool) -> GpuInventory:
    """A server's GPUs: NVML's (or the configured count) on the host that runs it; for
    another server of a pool, its configured count or, with `gpus: auto`, what its own
    `serve` last read from NVML (its heartbeat), with the NVLink pairs it read. The pool
    follows later heartbeats too (BookingPool.heard)."""
    configured = config.capacity.gpus
    if local:
        return gpu_inventory(configured)
    if configured != "auto":  # its NVLink pairs, where its host counted as many GPUs
        links = heard.nvlinks if heard is not None and heard.gpus == configured else frozenset()
        return GpuInventory(configured, links)
    if heard is None:
        log.warning("server %s has `gpus: auto` and has not reported its GPUs yet; counting "
                    "none until its `booking serve --server %s` beats",
                    config.server.name, config.server.name)
        return GpuInventory(0)
    assert heard.gpus is not None
    return GpuInventory(heard.gpus, heard.nvlinks)


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
