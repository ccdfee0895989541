"""The admin's configuration file (cfg/booking.yaml), validated.

A bad file raises ConfigError with one line naming the file, the key and the
problem; the command line prints it and exits without a traceback.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from core.domain.config_sections import (
    ContainerSection,
    DiscordSection,
    IdleSection,
    SchedulerSection,
    SlackSection,
)
from core.domain.config_values import GpuCount, Int, MaxOr, NonNeg, Real, StrictSection
from core.domain.model import Resources

__all__ = [  # the sections other modules import from here
    "Config", "ConfigError", "ContainerSection", "DiscordSection", "IdleSection",
    "SchedulerSection", "SlackSection",
]


class ConfigError(Exception):
    pass


class ServerSection(StrictSection):
    name: str = "gpu1"  # the server's row in the database and its containers' label
    public_host: str = "localhost"
    timezone: str | None = None

    @field_validator("name")
    @classmethod
    def _short_word(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", value):
            raise ValueError(
                f"{value!r} is not a short word; use up to 32 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit (for example gpu1)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (use e.g. Asia/Taipei)") from exc
        return value


class CapacitySection(StrictSection):
    cpus: Annotated[Real, Field(gt=0)]
    ram: Annotated[Int, Field(gt=0)]
    swap: NonNeg = 0
    gpus: GpuCount = "auto"


@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
class DefaultRequest(TypedDict, total=False):
    cpus: Annotated[Real, Field(ge=1)]
    memory: Annotated[Int, Field(ge=1)]  # GB
    gpus: NonNeg


def _default_request() -> DefaultRequest:
    return {"cpus": 4, "memory": 16, "gpus": 0}


class BookingSection(StrictSection):
    slot_minutes: Annotated[Int, Field(gt=0, le=1440)] = 30
    max_days: Annotated[Int, Field(gt=0, le=365)] = 14
    ports: tuple[Int, Int] = (10001, 11000)
    registration: Literal["open", "closed"] = "closed"
    # What a one-line request that names some resources gets for the others;
    # keys left out keep their defaults (4 CPUs, 16 GB, no GPU).
    default_request: DefaultRequest = Field(default_factory=_default_request)

    @field_validator("slot_minutes")
    @classmethod
    def _fits_the_clock(cls, value: int) -> int:
        # Slots must line up with the hour (times are given as hh:00, hh:30...)
        # and repeat the same way every day.
        if 60 % value and (value % 60 or 1440 % value):
            raise ValueError(
                f"{value} does not fit the clock; use minutes that divide an hour "
                "(for example 15, 30 or 60) or whole hours that divide a day (120, 180, 240, "
                "360, 480, 720 or 1440)"
            )
        return value

    @field_validator("default_request")
    @classmethod
    def _fill_defaults(cls, value: DefaultRequest) -> DefaultRequest:
        return {**_default_request(), **value}

    @field_validator("ports")
    @classmethod
    def _port_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not (1024 <= low <= high <= 65535):
            raise ValueError("must be [low, high] with 1024 <= low <= high <= 65535")
        return value


class LimitValues(StrictSection):
    cpus: MaxOr | None = None
    memory: MaxOr | None = None
    gpus: MaxOr | None = None
    work_space: MaxOr | None = None  # GB
    backup_space: MaxOr | None = None  # GB


class LimitsSection(StrictSection):
    default: LimitValues = LimitValues(cpus=8, memory=32, gpus=1, work_space=200, backup_space=50)
    users: dict[str, LimitValues] = Field(default_factory=dict)


class ImagesSection(StrictSection):
    default: str
    allowed: list[str]
    pull: bool = False

    @model_validator(mode="after")
    def _default_is_allowed(self) -> ImagesSection:
        if self.default not in self.allowed:
            raise ValueError(f"default image {self.default!r} is not in images.allowed")
        return self


class VolumesSection(StrictSection):
    work: str = "/mnt/Users"
    dataset: str = "/mnt/Dataset"
    backup: str = "/mnt/Backup"


class ServerEntry(ServerSection):
    """One host of a pool (`servers:`): its name, capacity and, where it differs from the
    lab's, its SSH ports, folders, images and limits."""

    capacity: CapacitySection
    ports: tuple[Int, Int] | None = None
    volumes: VolumesSection | None = None
    images: ImagesSection | None = None
    limits: LimitsSection | None = None

    @field_validator("ports")
    @classmethod
    def _port_range(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        return None if value is None else BookingSection._port_range(value)


class Config(StrictSection):
    """The whole file, seen from one server: `server`, `capacity`, `booking.ports`,
    `volumes`, `images` and `limits` are that server's (the first one's as loaded;
    `for_server` gives another's). `servers` lists every server of the pool, each
    with the lab's values filled in where it names none; the one-server form
    (`server:` and `capacity:`) is a pool of one."""

    server: ServerSection = ServerSection()
    capacity_section: CapacitySection | None = Field(default=None, alias="capacity")
    servers: tuple[ServerEntry, ...] = ()
    booking: BookingSection = BookingSection()
    limits: LimitsSection = LimitsSection()
    images: ImagesSection
    volumes: VolumesSection = VolumesSection()
    scheduler: SchedulerSection = SchedulerSection()
    container: ContainerSection = ContainerSection()
    admins: list[str] = Field(default_factory=list)
    slack: SlackSection = SlackSection()
    idle: IdleSection = IdleSection()
    discord: DiscordSection = DiscordSection()

    @model_validator(mode="after")
    def _one_form(self) -> Config:
        if not self.servers:
            if self.capacity_section is None:
                raise ValueError("add `capacity:` (one server) or `servers:` (a pool of servers)")
            entry = ServerEntry(name=self.server.name, public_host=self.server.public_host,
                                timezone=self.server.timezone, capacity=self.capacity_section)
            servers: tuple[ServerEntry, ...] = (entry,)
        else:
            if self.capacity_section is not None or "server" in self.model_fields_set:
                raise ValueError("use either `servers:` (a pool) or `server:` with `capacity:` "
                                 "(one server), not both: move the capacity into each server")
            names = [entry.name for entry in self.servers]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(f"servers: {', '.join(twice)} listed twice; give each server "
                                 "its own name")
            servers = self.servers
        resolved = tuple(entry.model_copy(update={
            "ports": entry.ports or self.booking.ports,
            "volumes": entry.volumes or self.volumes,
            "images": entry.images or self.images,
            "limits": entry.limits or self.limits,
        }) for entry in servers)
        # Frozen: the resolved pool and the first server's view are set once, here.
        object.__setattr__(self, "servers", resolved)
        self._view(resolved[0])
        return self

    def _view(self, entry: ServerEntry) -> None:
        assert entry.ports is not None and entry.volumes is not None
        assert entry.images is not None and entry.limits is not None
        object.__setattr__(self, "server", ServerSection(
            name=entry.name, public_host=entry.public_host, timezone=entry.timezone))
        object.__setattr__(self, "booking", self.booking.model_copy(update={"ports": entry.ports}))
        object.__setattr__(self, "volumes", entry.volumes)
        object.__setattr__(self, "images", entry.images)
        object.__setattr__(self, "limits", entry.limits)

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The file's own form, so that a dump validates again: `server` and `capacity` for
        one server (without the `servers` derived from them), `servers` for a pool (which
        server a `for_server` view is seen from is not part of the file)."""
        data: dict[str, Any] = handler(self)
        capacity = data.pop("capacity_section", None)
        if self.capacity_section is None:
            data.pop("server", None)
        else:
            data.pop("servers", None)
            data["capacity"] = capacity
        return data

    @property
    def capacity(self) -> CapacitySection:
        """This server's capacity."""
        return self.entry(self.server.name).capacity

    @property
    def server_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.servers)

    @property
    def is_pool(self) -> bool:
        return len(self.servers) > 1

    def entry(self, name: str) -> ServerEntry:
        for entry in self.servers:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def for_server(self, name: str) -> Config:
        """The same file seen from server `name` (KeyError for a name not in `servers`)."""
        view = self.model_copy()
        view._view(self.entry(name))
        return view

    @property
    def bookable_memory(self) -> int:
        return self.capacity.ram + self.capacity.swap

    def host_resources(self, gpu_count: int) -> Resources:
        return Resources(self.capacity.cpus, self.bookable_memory, gpu_count)
