"""The kinds of values booking.yaml holds (core/domain/config.py): numbers that are never
booleans, infinities or NaN; a limit or `max`; a GPU count or `auto`."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator


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


class StrictSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
