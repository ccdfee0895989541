"""The member's backup.yaml (the old system's format).

    Dir:
      - [conda, /root/.conda]        # [path under the backup folder, path in the container]
    File:
      - [bashrc, /root/.bashrc]

At the end of a booking each container path is copied out to its backup path;
at the next start each backup path that exists is copied back to its
container path before the container starts (a copy, not a mount, so the member
may edit, replace or delete it), and copied out again at the end.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import yaml

PLAN_FILE = "backup.yaml"
MAX_PLAN_BYTES = 64 * 1024
MAX_ENTRIES = 200
MAX_PATH_CHARS = 1024

TEMPLATE = """\
# Paths kept between your bookings. At the end of a booking each path in the
# container is copied to your backup folder; at the next start it is put back.
# Each entry is [path under your backup folder, absolute path in the container].
Dir:
  - [ssh, /root/.ssh]
File:
  - [bashrc, /root/.bashrc]
"""


class BackupPlanError(ValueError):
    """The member's backup.yaml cannot be used; the text names the line and the fix."""


@dataclass(frozen=True)
class BackupItem:
    backup_path: str  # relative to the member's backup folder
    container_path: str
    is_dir: bool


def parse_plan(text: str) -> list[BackupItem]:
    """Read a plan: a mapping of `Dir` and `File` to lists of two plain strings.

    Linear in the text: anchors and aliases (the way to a "billion laughs" file)
    are refused before anything is built, and only plain scalars are read."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PLAN_BYTES:
        raise BackupPlanError(f"it is larger than {MAX_PLAN_BYTES // 1024} KB")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise BackupPlanError(f"line {_line(event)}: anchors and aliases (& and *) "
                                      "are not used in backup.yaml; write each entry out")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BackupPlanError(f"{where}{problem}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise BackupPlanError(f"line {_line(root)}: expected `Dir:` and `File:` lists")
    items: list[BackupItem] = []
    for key_node, value_node in root.value:
        key = _text(key_node)
        if key not in ("Dir", "File"):
            raise BackupPlanError(f"line {_line(key_node)}: unknown key `{key}`; use Dir and File")
        items.extend(_entries(key, value_node))
        if len(items) > MAX_ENTRIES:
            raise BackupPlanError(f"more than {MAX_ENTRIES} entries")
    return items


def _entries(key: str, node: yaml.Node) -> list[BackupItem]:
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise BackupPlanError(f"line {_line(node)}: `{key}:` is a list of "
                              "[backup path, container path] entries")
    items = []
    for entry in node.value:
        if not (isinstance(entry, yaml.SequenceNode) and len(entry.value) == 2):
            raise BackupPlanError(f"line {_line(entry)}: each {key} entry is "
                                  "[backup path, container path], e.g. [conda, /root/.conda]")
        backup, inside = (_text(part) for part in entry.value)
        try:
            items.append(BackupItem(_safe_relative(backup), _safe_absolute(inside),
                                    is_dir=key == "Dir"))
        except BackupPlanError as exc:
            raise BackupPlanError(f"line {_line(entry)}: {exc}") from None
    return items


def _text(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise BackupPlanError(f"line {_line(node)}: expected a plain name or path here")
    value = str(node.value)
    if len(value) > MAX_PATH_CHARS:
        raise BackupPlanError(f"line {_line(node)}: a path is at most {MAX_PATH_CHARS} characters")
    return value


def _line(item: yaml.Node | yaml.Event) -> int:
    mark = item.start_mark
    return mark.line + 1 if mark is not None else 1


def _safe_relative(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    if (not path.strip() or "\0" in path or normal.startswith(("/", ".."))
            or normal in (".", PLAN_FILE)):
        raise BackupPlanError(f"backup path {path!r} must stay inside your backup folder")
    return normal


def _safe_absolute(path: str) -> str:
    normal = posixpath.normpath(path.strip())
    if not normal.startswith("/") or normal == "/" or "\0" in path:
        raise BackupPlanError(f"container path {path!r} must be an absolute path below /")
    return normal
