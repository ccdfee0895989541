"""Reading an old installation's files for `booking import-seed` (shared/seed/old-formats.md).

The files are treated as hostile: each is read only when it is a regular file within a
size bound, YAML only with the safe loader and without anchors or aliases, CSV with the
csv module, and a problem becomes a line in RawSeed.problems naming the file and the line,
never a traceback. Mapping the contents to our types is core/domain/seed_rows.py."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path
from typing import Any

import yaml

from core.domain.files import UnsafePath
from core.domain.seed_rows import (
    BOOKED_CSV,
    CAPABILITY_YAML,
    COLUMNS,
    DEPLOY_YAML,
    USED_CSV,
    USERS_YAML,
    USING_CSV,
    RawSeed,
)
from core.runtime.member_files import read_file

MAX_YAML_BYTES = 1024 * 1024
MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000


class SeedFolderError(Exception):
    """The folder is not an old installation at all; the text says what was expected."""


def read_seed(folder: Path) -> RawSeed:
    if not folder.is_dir():
        raise SeedFolderError(f"{folder}: not a folder; give the old installation's folder "
                              "(the one holding cfg/ and jobs/)")
    if not (folder / "cfg").is_dir() and not (folder / "jobs").is_dir():
        raise SeedFolderError(f"{folder}: has neither cfg/ nor jobs/; give the old "
                              "installation's folder (the one holding cfg/ and jobs/)")
    problems: list[str] = []
    deploy = _yaml(folder, DEPLOY_YAML, problems)
    users_path = _named_path(folder, deploy, "users_config_yaml", USERS_YAML, problems)
    capability_path = _named_path(folder, deploy, "capability_config_yaml", CAPABILITY_YAML,
                                  problems)
    capability = _yaml(folder, capability_path, problems)
    users = _yaml(folder, users_path, problems)
    rows = {name: _csv(folder, name, problems) for name in (BOOKED_CSV, USING_CSV, USED_CSV)}
    return RawSeed(deploy, capability, users, rows, problems)


def _named_path(folder: Path, deploy: dict[str, Any] | None, key: str, default: str,
                problems: list[str]) -> str:
    """Where host_deploy.yaml says a file is (relative to the installation), if inside it."""
    named = (deploy or {}).get(key)
    if named is None:
        return default
    if isinstance(named, str) and not Path(named).is_absolute():
        inside = (folder / named).resolve()
        if inside.is_relative_to(folder.resolve()):
            return inside.relative_to(folder.resolve()).as_posix()
    problems.append(f"{DEPLOY_YAML}: {key}: {str(named)[:100]!r} is not a path inside "
                    f"{folder}; read {default} instead")
    return default


def _read(folder: Path, name: str, limit: int, problems: list[str]) -> str | None:
    path = folder / name
    try:
        info = path.lstat()
    except FileNotFoundError:
        problems.append(f"{name}: not found; nothing read from it")
        return None
    except OSError as exc:
        problems.append(f"{name}: cannot be read: {exc.strerror}")
        return None
    if not stat.S_ISREG(info.st_mode):
        problems.append(f"{name}: not a regular file (a link or a folder); not read")
        return None
    if info.st_size > limit:
        problems.append(f"{name}: larger than {limit // (1024 * 1024)} MB; not read")
        return None
    try:
        # Each folder on the way and the file opened without following a link, as a
        # member's files are: what lstat saw may have changed since.
        data = read_file(folder, name, limit=limit)
        if data is None:
            problems.append(f"{name}: not found; nothing read from it")
            return None
        return data.decode("utf-8-sig")
    except UnsafePath:
        problems.append(f"{name}: not a regular file (a link or a folder); not read")
    except UnicodeDecodeError as exc:
        problems.append(f"{name}: not UTF-8 text (byte {exc.start}); not read")
    except OSError as exc:
        problems.append(f"{name}: cannot be read: {exc.strerror}")
    return None


def _yaml(folder: Path, name: str, problems: list[str]) -> dict[str, Any] | None:
    text = _read(folder, name, MAX_YAML_BYTES, problems)
    if text is None:
        return None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                problems.append(f"{name} line {line}: anchors and aliases (& and *) are not "
                                "read; write each entry out. Nothing read from this file")
                return None
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        problems.append(f"{name}{where}: {problem}; nothing read from this file")
        return None
    except RecursionError:
        problems.append(f"{name}: nested too deeply; nothing read from this file")
        return None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        problems.append(f"{name}: expected a mapping of keys; nothing read from this file")
        return None
    return loaded


def _csv(folder: Path, name: str, problems: list[str]) -> list[tuple[int, dict[str, str]]]:
    text = _read(folder, name, MAX_CSV_BYTES, problems)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    try:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                if not set(COLUMNS) <= set(header):
                    problems.append(f"{name} line {line}: the header is not "
                                    f"{','.join(COLUMNS)}; nothing read from this file")
                    return []
                continue
            if len(cells) != len(header):
                problems.append(f"{name} line {line}: {len(cells)} fields where the header has "
                                f"{len(header)}; row not imported")
                continue
            if len(rows) >= MAX_ROWS:
                problems.append(f"{name} line {line}: more than {MAX_ROWS} rows; the rest not read")
                break
            rows.append((line, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        problems.append(f"{name} line {reader.line_num}: {exc}; the rest of the file not read")
    return rows
