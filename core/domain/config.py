"""The admin's configuration file (cfg/booking.yaml), validated.

A bad file raises ConfigError with one line naming the file, the key and the
problem; the command line prints it and exits without a traceback.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    field_validator,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from core.domain.model import Resources


def _not_a_bool(value: Any) -> Any:
    """YAML's true/false would otherwise count as 1/0 where a number is expected."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    return value


# Numbers in the file: never booleans, never .inf or .nan (allow_inf_nan below).
Int = Annotated[int, BeforeValidator(_not_a_bool)]
Real = Annotated[float, BeforeValidator(_not_a_bool)]
NonNeg = Annotated[Int, Field(ge=0)]


def _finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _max_or_number(value: Any) -> float | Literal["max"]:
    if value == "max":
        return "max"
    number = _finite_number(value)
    if number is None or number < 0:
        raise ValueError(f"use a number >= 0 or `max`, not {_shown(value)}")
    return number


def _auto_or_count(value: Any) -> int | Literal["auto"]:
    if value == "auto":
        return "auto"
    number = _finite_number(value)
    if number is None or number < 0 or not number.is_integer():
        raise ValueError(f"use `auto` or a whole number >= 0, not {_shown(value)}")
    return int(number)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(value)


# A limit: a number (GB for memory and the spaces) or `max`, the host's capacity.
MaxOr = Annotated[float | Literal["max"], PlainValidator(_max_or_number)]
GpuCount = Annotated[int | Literal["auto"], PlainValidator(_auto_or_count)]


class ConfigError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ServerSection(_Strict):
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


class CapacitySection(_Strict):
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


class BookingSection(_Strict):
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


class LimitValues(_Strict):
    cpus: MaxOr | None = None
    memory: MaxOr | None = None
    gpus: MaxOr | None = None
    work_space: MaxOr | None = None  # GB
    backup_space: MaxOr | None = None  # GB


class LimitsSection(_Strict):
    default: LimitValues = LimitValues(cpus=8, memory=32, gpus=1, work_space=200, backup_space=50)
    users: dict[str, LimitValues] = Field(default_factory=dict)


class ImagesSection(_Strict):
    default: str
    allowed: list[str]
    pull: bool = False

    @model_validator(mode="after")
    def _default_is_allowed(self) -> ImagesSection:
        if self.default not in self.allowed:
            raise ValueError(f"default image {self.default!r} is not in images.allowed")
        return self


class VolumesSection(_Strict):
    work: str = "/mnt/Users"
    dataset: str = "/mnt/Dataset"
    backup: str = "/mnt/Backup"


class SchedulerSection(_Strict):
    """When and how `booking serve` starts and ends containers."""

    reconcile_seconds: Annotated[Real, Field(gt=0)] = 30
    reminder_minutes: NonNeg = 30
    start_deadline_minutes: Annotated[Real, Field(gt=0)] = 10
    stop_grace_seconds: NonNeg = 30
    ssh_wait_seconds: Annotated[Real, Field(gt=0)] = 60
    ssh_check_host: str = "127.0.0.1"
    workers: Annotated[Int, Field(gt=0, le=256)] = 8


class ContainerSection(_Strict):
    """Where a member's folders appear inside the container, and who logs in."""

    user: str = "root"
    # The old system's mount points: members' scripts and dotfiles use them.
    work_mount: str = "/root/Work"
    dataset_mount: str = "/root/Dataset"
    backup_mount: str = "/root/Backup"
    pids_limit: Annotated[int, Field(ge=64)] = 4096  # processes and threads per container
    # Cap of the container's writable layer in GB (docker's `storage_opt size`): only
    # overlay2 on xfs with pquota, btrfs and zfs support it; leave unset elsewhere.
    disk_gb: Annotated[int, Field(gt=0)] | None = None


class IdleSection(_Strict):
    """Running bookings whose GPUs all sit below `threshold_percent` use: the member is
    asked after `notify_hours` (null: never), the booking ended after `release_hours`
    of idleness with no answer (null, the default: never)."""

    notify_hours: Annotated[Real, Field(gt=0)] | None = 4
    release_hours: Annotated[Real, Field(gt=0)] | None = None
    threshold_percent: Annotated[Real, Field(gt=0, le=100)] = 5

    @model_validator(mode="after")
    def _asked_before_ended(self) -> IdleSection:
        if self.release_hours is not None and (
            self.notify_hours is None or self.release_hours <= self.notify_hours
        ):
            raise ValueError("release_hours must be more than notify_hours: members are asked "
                             "first (set notify_hours, or leave release_hours out)")
        return self


class SlackSection(_Strict):
    # A channel (id, e.g. C0123456) that gets a line when a booking starts or ends.
    announce_channel: str | None = None


class DiscordSection(_Strict):
    # A channel (its id) where the bot keeps one message up to date: what is free, what
    # runs and what comes (bot/discord/board.py).
    board_channel: Annotated[int, Field(gt=0)] | None = None


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


class Config(_Strict):
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
