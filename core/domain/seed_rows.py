"""The old system's files (`booking import-seed`; shared/seed/old-formats.md) mapped to our
types. Pure: core/runtime/seed_files.py reads the files into a RawSeed, this module turns
it into a SeedPlan, and core/services/seed_import.py imports the plan. Every problem is a
line naming the file and the line (a CSV row) or the key (a YAML entry)."""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain.extra_command import MAX_COMMAND_CHARS
from core.domain.model import Resources

USERS_YAML = "cfg/users_config.yaml"
CAPABILITY_YAML = "cfg/capability_config.yaml"
DEPLOY_YAML = "cfg/host_deploy.yaml"
BOOKED_CSV, USING_CSV, USED_CSV = "jobs/booking.csv", "jobs/using.csv", "jobs/used.csv"
COLUMNS = ("start", "end", "user_id", "cpus", "memory", "gpus", "forward_port", "image",
           "extra_command")
LIMIT_KEYS = ("cpus", "memory", "gpus", "work_space", "backup_space")
SPACE_KEYS = ("work_space", "backup_space")
_GPU_LIST = re.compile(r"\[\s*(\d{1,3}(?:\s*,\s*\d{1,3})*)?\s*\]")
_MAX_GPUS, _MAX_CPUS, _MAX_MEMORY = 32, 10_000, 1_000_000  # beyond any host: numbers gone wrong


@dataclass(frozen=True)
class RawSeed:
    """What the files held: YAML mappings (None when a file was missing or unusable) and
    each CSV's rows as (line, {column: text}), plus the problems met reading them."""

    deploy: dict[str, Any] | None
    capability: dict[str, Any] | None
    users: dict[str, Any] | None
    rows: dict[str, list[tuple[int, dict[str, str]]]]
    problems: list[str]


@dataclass(frozen=True)
class OldRow:
    source: str  # BOOKED_CSV, USING_CSV or USED_CSV
    line: int
    user: str
    start: datetime  # naive: the old server's wall clock
    end: datetime
    resources: Resources
    gpu_ids: tuple[int, ...]
    port: int
    image: str | None
    command: str | None

    @property
    def where(self) -> str:
        return f"{self.source} line {self.line}"


@dataclass(frozen=True)
class OldMember:
    name: str
    logged_in: bool  # has an entry in users_config.yaml
    port: int | None = None
    image: str | None = None
    command: str | None = None


@dataclass
class SeedPlan:
    members: list[OldMember] = field(default_factory=list)  # in allow_userIDs
    not_allowed: list[str] = field(default_factory=list)  # logged in once, no longer allowed
    limits: dict[str, dict[str, float | str]] = field(default_factory=dict)  # custom maxima
    limit_notes: dict[str, list[str]] = field(default_factory=dict)  # how `max` was read
    snippet: dict[str, Any] = field(default_factory=dict)  # sections for cfg/booking.yaml
    rows: list[OldRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_seed(raw: RawSeed) -> SeedPlan:
    plan = SeedPlan(problems=list(raw.problems))
    deploy = raw.deploy or {}
    _deploy_snippet(deploy, plan)
    host = _capability(raw.capability or {}, plan)
    _members(raw, deploy, plan)
    _custom_limits(raw.capability or {}, host, plan)
    for source, rows in raw.rows.items():
        for line, cells in rows:
            row = parse_row(source, line, cells)
            if isinstance(row, str):
                plan.problems.append(f"{source} line {line}: {row}")
            else:
                plan.rows.append(row)
    return plan


def _text(value: Any) -> str | None:
    """A YAML scalar as text: ids such as 12345 come as ints."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _deploy_snippet(deploy: dict[str, Any], plan: SeedPlan) -> None:
    volumes = {ours: deploy[old] for ours, old in (
        ("work", "volume_work_dir"), ("dataset", "volume_dataset_dir"),
        ("backup", "volume_backup_dir")) if isinstance(deploy.get(old), str)}
    if volumes:
        plan.snippet["volumes"] = volumes
    images = deploy.get("images")
    if isinstance(images, list) and images and all(isinstance(i, str) for i in images):
        plan.snippet["images"] = {"default": images[0], "allowed": list(dict.fromkeys(images))}
    elif images is not None:
        plan.problems.append(f"{DEPLOY_YAML}: images: expected a list of image names; not imported")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _expression(text: Any, values: dict[str, float]) -> float | None:
    """`ram + swap_size`: a sum of the keys under `max:` and numbers, as the old file writes it."""
    if _number(text) is not None:
        return _number(text)
    if not isinstance(text, str) or len(text) > 200:
        return None
    total = 0.0
    for term in text.split("+"):
        term = term.strip()
        value = values.get(term) if term in values else _number(_float(term))
        if value is None:
            return None
        total += value
    return total


def _float(text: str) -> float | None:
    return float(text) if re.fullmatch(r"\s*[0-9]+(\.[0-9]*)?\s*", text) else None


def _capability(capability: dict[str, Any], plan: SeedPlan) -> dict[str, float]:
    """The host's maxima under `max:`, and the capacity section they make."""
    section = capability.get("max")
    if not isinstance(section, dict):
        if capability:
            plan.problems.append(f"{CAPABILITY_YAML}: max: expected the host's cpus, ram, "
                                 "swap_size and gpus; no capacity in the config snippet")
        return {}
    host: dict[str, float] = {}
    for key in ("cpus", "ram", "swap_size", "gpus", "work_space", "backup_space"):
        if (value := _number(section.get(key))) is not None:
            host[key] = value
        elif key in section:
            plan.problems.append(f"{CAPABILITY_YAML}: max.{key}: {section[key]!r} is not a "
                                 "number >= 0; left out")
    capacity: dict[str, Any] = {ours: _whole(host[old]) for ours, old in (
        ("cpus", "cpus"), ("ram", "ram"), ("swap", "swap_size"), ("gpus", "gpus")) if old in host}
    if capacity:
        plan.snippet["capacity"] = capacity
    memory = _expression(section.get("memory"), host)
    if "memory" in section and memory != host.get("ram", 0) + host.get("swap_size", 0):
        plan.notes.append(f"{CAPABILITY_YAML}: max.memory is {section['memory']!r}; here the "
                          "bookable memory is always ram + swap")
    host["memory"] = memory if memory is not None else host.get("ram", 0) + host.get("swap_size", 0)
    default = capability.get("max_default_capability")
    if isinstance(default, dict):
        values, _notes = _limits(default, host, f"{CAPABILITY_YAML}: max_default_capability", plan)
        if values:
            plan.snippet["limits"] = {"default": {k: _whole(v) if isinstance(v, float) else v
                                                  for k, v in values.items()}}
    return host


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _limits(
    values: dict[str, Any], host: dict[str, float], where: str, plan: SeedPlan,
) -> tuple[dict[str, float | str], list[str]]:
    """Maxima in our terms. `max` is the host's value: for cpus, memory and gpus that is our
    `max` too; for the spaces it is the old host's `max.work_space`/`backup_space` in GB
    (our `max` would mean no quota at all)."""
    limits: dict[str, float | str] = {}
    notes: list[str] = []
    for key, value in values.items():
        if key not in LIMIT_KEYS:
            plan.problems.append(f"{where}.{key}: unknown key; use {', '.join(LIMIT_KEYS)}")
        elif value == "max" and key in SPACE_KEYS:
            if key in host:
                limits[key] = host[key]
                notes.append(f"{key} max = {host[key]:g} GB (the old host's max.{key})")
            else:
                plan.problems.append(f"{where}.{key}: max, but max.{key} is not set; left out")
        elif value == "max":
            limits[key] = "max"
        elif (number := _number(value)) is not None:
            limits[key] = number
        else:
            plan.problems.append(f"{where}.{key}: {value!r} is not a number >= 0 or max; left out")
    return limits, notes


def _members(raw: RawSeed, deploy: dict[str, Any], plan: SeedPlan) -> None:
    allowed_raw = (raw.capability or {}).get("allow_userIDs") or []
    allowed_raw = allowed_raw if isinstance(allowed_raw, list) else [None]
    if None in map(_text, allowed_raw):
        plan.problems.append(f"{CAPABILITY_YAML}: allow_userIDs: expected a list of ids; "
                             "what is not an id is left out")
    allowed = list(dict.fromkeys(t for t in map(_text, allowed_raw) if t is not None))
    users = {_text(k): v for k, v in (raw.users or {}).items()}
    for name in allowed:
        entry = users.get(name)
        if entry is None:
            plan.members.append(OldMember(name, logged_in=False))
            continue
        plan.members.append(_member(name, entry, deploy, plan))
    plan.not_allowed = sorted(n for n in users if n is not None and n not in allowed)


def _member(name: str, entry: Any, deploy: dict[str, Any], plan: SeedPlan) -> OldMember:
    where = f"{USERS_YAML}: {name}"
    if not isinstance(entry, dict):
        plan.problems.append(f"{where}: expected forward_port, image, extra_command; not read")
        return OldMember(name, logged_in=True)
    port = entry.get("forward_port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 1 <= port <= 65535):
        plan.problems.append(f"{where}.forward_port: {port!r} is not a port number; left out")
        port = None
    strings = {}
    for key in ("image", "extra_command"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 4096):
            plan.problems.append(f"{where}.{key}: expected text; left out")
            value = None
        strings[key] = value or None
    for ours, old, parent in (("work", "volume_work_dir", "volume_work_dir"),
                              ("backup", "volume_backup_dir", "volume_backup_dir")):
        folder, base = entry.get(old), deploy.get(parent)
        if isinstance(folder, str) and isinstance(base, str) and posixpath.normpath(
                folder) != posixpath.normpath(posixpath.join(base, name)):
            plan.notes.append(f"{where}: {ours} folder {folder} is not {base}/{name}, which is "
                              f"what volumes.{ours} mounts here; move it there")
    return OldMember(name, True, port, strings["image"], strings["extra_command"])


def _custom_limits(capability: dict[str, Any], host: dict[str, float], plan: SeedPlan) -> None:
    custom = capability.get("max_custom_capability") or {}
    if not isinstance(custom, dict):
        plan.problems.append(f"{CAPABILITY_YAML}: max_custom_capability: expected a mapping")
        return
    for key, values in custom.items():
        name = _text(key)
        where = f"{CAPABILITY_YAML}: max_custom_capability.{key}"
        if name is None or not isinstance(values, dict):
            plan.problems.append(f"{where}: expected {{cpus: ..., gpus: ...}}; not imported")
            continue
        limits, notes = _limits(values, host, where, plan)
        if limits:
            plan.limits[name], plan.limit_notes[name] = limits, notes


def parse_row(source: str, line: int, cells: dict[str, str]) -> OldRow | str:
    """One CSV row, or what is wrong with it (the file and line are added by the caller)."""
    missing = [c for c in COLUMNS if c not in cells]
    if missing:
        return f"missing {', '.join(missing)}; expected {','.join(COLUMNS)}"
    times = []
    for key in ("start", "end"):
        try:
            times.append(datetime.strptime(cells[key].strip(), "%Y-%m-%d %H:%M:%S"))
        except ValueError:
            return f"{key} {cells[key][:40]!r} is not YYYY-MM-DD hh:mm:ss"
    start, end = times
    if end <= start:
        return "end is not after start"
    user = cells["user_id"].strip()
    if not user or len(user) > 64:
        return "user_id is empty or longer than 64 characters"
    cpus, memory, port = (_float(cells[k].strip()) for k in ("cpus", "memory", "forward_port"))
    if cpus is None or not math.isfinite(cpus) or not 0 <= cpus <= _MAX_CPUS:
        return f"cpus {cells['cpus'][:20]!r} is not a number from 0 to {_MAX_CPUS}"
    if memory is None or not memory.is_integer() or not 0 <= memory <= _MAX_MEMORY:
        return f"memory {cells['memory'][:20]!r} is not a whole number of GB up to {_MAX_MEMORY}"
    if port is None or not port.is_integer() or not 1 <= port <= 65535:
        return f"forward_port {cells['forward_port'][:20]!r} is not a port number"
    gpus = _GPU_LIST.fullmatch(cells["gpus"].strip())
    if gpus is None:
        return f"gpus {cells['gpus'][:40]!r} is not a list of GPU ids such as [0, 1]"
    gpu_ids = tuple(int(g) for g in (gpus.group(1) or "").split(",") if g.strip())
    if len(set(gpu_ids)) != len(gpu_ids) or len(gpu_ids) > _MAX_GPUS:
        return f"gpus {cells['gpus'][:40]!r} names a GPU twice or too many GPUs"
    image, command = cells["image"].strip() or None, cells["extra_command"].strip() or None
    if (image and len(image) > 256) or (command and len(command) > MAX_COMMAND_CHARS):
        return "image or extra_command is too long"
    return OldRow(source, line, user, start, end, Resources(cpus, int(memory), len(gpu_ids)),
                  gpu_ids, int(port), image, command)
