"""Member folders on the host, handled without ever following a symbolic link.

The service runs as root; a member controls every name in their work and backup
folders (they are mounted read-write in the container), so a name may be a
symbolic link to `/`, to the server's secret or to another member's folder.
Everything here works from open folder descriptors: each step of a path is
opened with O_NOFOLLOW relative to the one before (`openat`), files are opened
with O_NOFOLLOW | O_NONBLOCK and checked to be regular files, and new files are
made with O_EXCL. A symbolic link inside a member's tree is data: it is copied
as a link, never followed on the host.

The volume roots themselves (`volumes.work`, `volumes.backup`) are the admin's
and trusted; a member's folder is the root plus their checked account name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from core.domain.config import Config
from core.domain.files import UnsafePath

# Shared with member_tar: a folder, a file to read, a new file; none follows a link.
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)


def _parts(relative: str) -> list[str]:
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if ".." in parts or relative.startswith("/") or "\0" in relative:
        raise UnsafePath(f"{relative!r} must stay inside the folder")
    return parts


def open_child(fd: int, name: str, *, create: bool, shown: str) -> int:
    """Open the folder `name` inside the open folder `fd` without following a link.

    With `create`, a missing folder is made (0755) first. Returns the new descriptor
    (the caller closes it). Raises UnsafePath, naming `shown`, when `name` is a
    symbolic link or not a folder, and FileNotFoundError when it is missing and
    not `create`."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=fd)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        if exc.errno in _LINK_ERRORS:
            raise UnsafePath(f"{shown} is a symbolic link or not a folder") from None
        raise
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=fd)
    try:
        return os.open(name, DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        if exc.errno in _LINK_ERRORS:
            raise UnsafePath(f"{shown} is a symbolic link or not a folder") from None
        raise


@contextlib.contextmanager
def open_folder(root: Path | str, relative: str = "", *, create: bool = False) -> Iterator[int]:
    """A descriptor of root/relative, each step of `relative` opened without following
    a link (made when `create`). Raises UnsafePath, or FileNotFoundError when missing."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        walked: list[str] = []
        for part in _parts(relative):
            walked.append(part)
            child = open_child(fd, part, create=create, shown="/".join(walked))
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def member_folder(volume_root: Path | str, account: str) -> Path:
    """The member's folder under a volume root, made when missing; refused when the
    name is not one plain folder name or the folder is a link."""
    if not account or "/" in account or account in (".", "..") or "\0" in account:
        raise UnsafePath(f"account name {account!r} cannot be a folder name")
    root = Path(volume_root)
    root.mkdir(parents=True, exist_ok=True)
    with open_folder(root, account, create=True):
        pass
    return root / account


def entry_kind(root: Path | str, relative: str) -> str | None:
    """'dir', 'file', 'link' or 'other' for root/relative (not followed); None when
    missing or when a step on the way is a link."""
    parent, name = split_path(relative)
    try:
        with open_folder(root, parent) as fd:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except (FileNotFoundError, UnsafePath, NotADirectoryError):
        return None
    return _kind(info.st_mode)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def split_path(relative: str) -> tuple[str, str]:
    """`a/b/c` -> (`a/b`, `c`): the folder and the last name; UnsafePath when it
    leaves the folder or names nothing."""
    parts = _parts(relative)
    if not parts:
        raise UnsafePath("a file name is needed")
    return "/".join(parts[:-1]), parts[-1]


def read_file(root: Path | str, relative: str, *, limit: int) -> bytes | None:
    """The content of a regular file (None when missing); UnsafePath for a link, a
    FIFO or a device, or a file over `limit` bytes."""
    parent, name = split_path(relative)
    with open_folder(root, parent) as dir_fd:
        try:
            fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in _LINK_ERRORS:
                raise UnsafePath(f"{relative} is a symbolic link") from None
            raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafePath(f"{relative} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafePath(f"{relative} is larger than {limit} bytes")
    return data


def create_file(root: Path | str, relative: str, data: bytes, mode: int = 0o644) -> bool:
    """Write a new file; False (and nothing written) when the name exists in any form."""
    parent, name = split_path(relative)
    with open_folder(root, parent, create=True) as dir_fd:
        try:
            fd = os.open(name, CREATE_FLAGS, mode, dir_fd=dir_fd)
        except FileExistsError:
            return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def tree_bytes(root: Path | str, relative: str = "") -> int:
    """Bytes in the files under root/relative; links are counted, never followed."""
    parent, name = split_path(relative) if _parts(relative) else ("", "")
    try:
        with open_folder(root, parent) as dir_fd:
            if not name:
                return _fd_tree_bytes(dir_fd)
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISDIR(info.st_mode):
                return info.st_size
            child = open_child(dir_fd, name, create=False, shown=relative)
            try:
                return _fd_tree_bytes(child)
            finally:
                os.close(child)
    except (FileNotFoundError, UnsafePath, NotADirectoryError):
        return 0


def _fd_tree_bytes(top: int) -> int:
    total = 0
    stack = [os.dup(top)]
    while stack:
        fd = stack.pop()
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISDIR(info.st_mode):
                            stack.append(os.open(entry.name, DIR_FLAGS, dir_fd=fd))
                        else:
                            total += info.st_size
                    except OSError:
                        continue
        finally:
            os.close(fd)
    return total



def member_folders(config: Config, account: str) -> tuple[Path, Path]:
    """(work, backup) folders of a member on the host, made when missing; each is one
    real folder right under its volume root (core.domain.files.UnsafePath otherwise)."""
    return (member_folder(config.volumes.work, account),
            member_folder(config.volumes.backup, account))
