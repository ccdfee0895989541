"""Reading booking.yaml into a Config, with one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from core.domain.config import (
    Config,
    ConfigError,
)


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
        raise ConfigError(_first_problem(path, raw, exc)) from None


def _first_problem(path: Path, raw: dict[str, Any], exc: ValidationError) -> str:
    """`file: key: problem`, the key written as in the file, plus how many more."""
    problems: dict[str, str] = {}
    for error in exc.errors():
        key = _key_path(error["loc"], raw, missing=error["type"] == "missing")
        problems.setdefault(key, _message(error))
    key, message = next(iter(problems.items()))
    more = len(problems) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{path}: {key}: {message}{tail}"


def _key_path(loc: tuple[int | str, ...], raw: Any, *, missing: bool) -> str:
    """The loc's parts that are keys (or list positions) of the file itself.

    pydantic adds the names of a union's branches and of validators (`float`,
    `literal['max']`, `function-after[...]`); those never reach the admin.
    """
    keys: list[str] = []
    node = raw
    for index, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        elif missing and index == len(loc) - 1:
            pass  # the missing key itself
        else:
            continue
        keys.append(str(part))
    return ".".join(keys) or "(top level)"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "finite_number":
        return "use a finite number, not .inf or .nan"
    return str(error["msg"]).removeprefix("Value error, ")
