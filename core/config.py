"""The admin's configuration file (cfg/booking.yaml), validated.

A bad file raises ConfigError with one line naming the file, the key and the
problem; the command line prints it and exits without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.domain import Resources

MaxOr = float | Literal["max"]
NonNeg = Annotated[int, Field(ge=0)]


class ConfigError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSection(_Strict):
    name: str = "gpu1"
    public_host: str = "localhost"
    timezone: str | None = None

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
    cpus: Annotated[float, Field(gt=0)]
    ram: Annotated[int, Field(gt=0)]
    swap: NonNeg = 0
    gpus: NonNeg | Literal["auto"] = "auto"


def _default_request() -> dict[Literal["cpus", "memory", "gpus"], float]:
    return {"cpus": 4, "memory": 16, "gpus": 0}


class BookingSection(_Strict):
    slot_minutes: Annotated[int, Field(gt=0, le=1440)] = 30
    max_days: Annotated[int, Field(gt=0, le=365)] = 14
    ports: tuple[int, int] = (10001, 11000)
    registration: Literal["open", "closed"] = "closed"
    # What a one-line request that names some resources gets for the others.
    default_request: dict[Literal["cpus", "memory", "gpus"], float] = Field(
        default_factory=_default_request
    )

    @field_validator("slot_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError("must divide a day evenly (for example 15, 30 or 60)")
        return value

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

    reconcile_seconds: Annotated[float, Field(gt=0)] = 30
    reminder_minutes: NonNeg = 30
    start_deadline_minutes: Annotated[float, Field(gt=0)] = 10
    stop_grace_seconds: NonNeg = 30
    ssh_wait_seconds: Annotated[float, Field(gt=0)] = 60
    ssh_check_host: str = "127.0.0.1"
    workers: Annotated[int, Field(gt=0, le=256)] = 8


class ContainerSection(_Strict):
    """Where a member's folders appear inside the container, and who logs in."""

    user: str = "root"
    work_mount: str = "/root/work"
    dataset_mount: str = "/root/dataset"
    backup_mount: str = "/root/backup"


class Config(_Strict):
    server: ServerSection = ServerSection()
    capacity: CapacitySection
    booking: BookingSection = BookingSection()
    limits: LimitsSection = LimitsSection()
    images: ImagesSection
    volumes: VolumesSection = VolumesSection()
    scheduler: SchedulerSection = SchedulerSection()
    container: ContainerSection = ContainerSection()
    admins: list[str] = Field(default_factory=list)

    @property
    def bookable_memory(self) -> int:
        return self.capacity.ram + self.capacity.swap

    def host_resources(self, gpu_count: int) -> Resources:
        return Resources(self.capacity.cpus, self.bookable_memory, gpu_count)


def load_config(path: Path) -> Config:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found (copy cfg/booking.yaml or set BOOKING_CONFIG)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{line}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (server, capacity, ...)")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key is missing"
        more = len(exc.errors()) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{path}: {key}: {message}{tail}") from None
