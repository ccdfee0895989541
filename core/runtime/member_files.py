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
import io
import os
import secrets
import shutil
import stat
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from core.domain.config import Config
from core.domain.files import BadArchive, Budget, UnsafePath

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)
STAGING_FOLDER = ".booking-staging"  # under the backup volume root: no container sees it


def _parts(relative: str) -> list[str]:
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if ".." in parts or relative.startswith("/") or "\0" in relative:
        raise UnsafePath(f"{relative!r} must stay inside the folder")
    return parts


def _open_child(fd: int, name: str, *, create: bool, shown: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
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
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
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
            child = _open_child(fd, part, create=create, shown="/".join(walked))
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
    parent, name = _split(relative)
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


def _split(relative: str) -> tuple[str, str]:
    parts = _parts(relative)
    if not parts:
        raise UnsafePath("a file name is needed")
    return "/".join(parts[:-1]), parts[-1]


def read_file(root: Path | str, relative: str, *, limit: int) -> bytes | None:
    """The content of a regular file (None when missing); UnsafePath for a link, a
    FIFO or a device, or a file over `limit` bytes."""
    parent, name = _split(relative)
    with open_folder(root, parent) as dir_fd:
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
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
    parent, name = _split(relative)
    with open_folder(root, parent, create=True) as dir_fd:
        try:
            fd = os.open(name, _CREATE_FLAGS, mode, dir_fd=dir_fd)
        except FileExistsError:
            return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def tree_bytes(root: Path | str, relative: str = "") -> int:
    """Bytes in the files under root/relative; links are counted, never followed."""
    parent, name = _split(relative) if _parts(relative) else ("", "")
    try:
        with open_folder(root, parent) as dir_fd:
            if not name:
                return _fd_tree_bytes(dir_fd)
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISDIR(info.st_mode):
                return info.st_size
            child = _open_child(dir_fd, name, create=False, shown=relative)
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
                            stack.append(os.open(entry.name, _DIR_FLAGS, dir_fd=fd))
                        else:
                            total += info.st_size
                    except OSError:
                        continue
        finally:
            os.close(fd)
    return total


# -- restore: a member's saved tree into a tar, never following a link --------


def add_to_tar(tar: tarfile.TarFile, root: Path | str, relative: str, arcname: str) -> None:
    """Add root/relative (file, folder or link) to `tar` as `arcname`, owned by root.

    Links are stored as links; FIFOs, sockets and devices are left out. Raises
    UnsafePath when a step to root/relative is a link, FileNotFoundError when missing."""
    parent, name = _split(relative)
    with open_folder(root, parent) as dir_fd:
        _add_entry(tar, dir_fd, name, arcname)


def _tar_info(arcname: str, info: os.stat_result) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(arcname)
    entry.mode = info.st_mode & 0o777
    entry.mtime = int(info.st_mtime)
    entry.uid = entry.gid = 0
    entry.uname = entry.gname = "root"
    return entry


def _add_entry(tar: tarfile.TarFile, dir_fd: int, name: str, arcname: str) -> None:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    entry = _tar_info(arcname, info)
    if stat.S_ISLNK(info.st_mode):
        entry.type = tarfile.SYMTYPE
        entry.linkname = os.readlink(name, dir_fd=dir_fd)
        tar.addfile(entry)
    elif stat.S_ISREG(info.st_mode):
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
                return  # replaced between the look and the open: left out
            entry.size = opened.st_size
            tar.addfile(entry, handle)
    elif stat.S_ISDIR(info.st_mode):
        entry.type = tarfile.DIRTYPE
        tar.addfile(entry)
        child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        try:
            for sub in sorted(os.listdir(child)):
                _add_entry(tar, child, sub, f"{arcname}/{sub}")
        finally:
            os.close(child)


# -- backup: the engine's tar stream into a staging folder, then into place ----


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (an archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def staging_folder(backup_root: Path | str) -> Path:
    """A fresh folder beside the members' backup folders, seen by no container."""
    with open_folder(backup_root, STAGING_FOLDER, create=True) as fd:
        name = secrets.token_hex(8)
        os.mkdir(name, 0o700, dir_fd=fd)
    return Path(backup_root) / STAGING_FOLDER / name


def remove_staging(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)  # rmtree never follows links (fd-based)


def extract(chunks: Iterable[bytes], staging: Path, budget: Budget) -> str:
    """Unpack an archive of one tree into `staging`; returns the tree's top name.

    Every entry is made relative to an open descriptor of its folder (made by this
    function, never a link), so no entry can write through a link of an earlier one.
    Links are kept as links, hard links inside the tree as hard links; devices and
    FIFOs are left out. Raises OverBudget, BadArchive or tarfile.TarError."""
    stream = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
    top: str | None = None
    with tarfile.open(fileobj=stream, mode="r|") as tar, open_folder(staging) as root_fd:
        for member in tar:
            parts = [p for p in member.name.split("/") if p not in ("", ".")]
            if member.name.startswith("/") or not parts or ".." in parts or "\0" in member.name:
                raise BadArchive(f"unsafe name {member.name!r} in the archive")
            if top is None:
                top = parts[0]
            elif parts[0] != top:
                raise BadArchive(f"more than one tree in the archive ({top!r}, {parts[0]!r})")
            budget.take(512 + max(member.size, 0), "/".join(parts))
            _extract_member(tar, member, root_fd, parts)
    if top is None:
        raise BadArchive("the archive is empty")
    return top


def _extract_member(tar: tarfile.TarFile, member: tarfile.TarInfo, root_fd: int,
                    parts: list[str]) -> None:
    with _parent_fd(root_fd, parts[:-1]) as dir_fd:
        name = parts[-1]
        if member.isdir():
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=dir_fd)
            # Opened, not named: an earlier entry of that name that is a link fails here.
            made = _open_child(dir_fd, name, create=False, shown="/".join(parts))
            try:
                os.fchmod(made, (member.mode & 0o777) | 0o700)
            finally:
                os.close(made)
        elif member.isreg():
            fd = os.open(name, _CREATE_FLAGS, 0o600, dir_fd=dir_fd)
            with os.fdopen(fd, "wb") as out:
                source = tar.extractfile(member)
                assert source is not None
                shutil.copyfileobj(source, out, 1 << 20)
                os.fchmod(fd, member.mode & 0o777)
            os.utime(name, (member.mtime, member.mtime), dir_fd=dir_fd, follow_symlinks=False)
        elif member.issym():
            os.symlink(member.linkname, name, dir_fd=dir_fd)
        elif member.islnk():
            target = [p for p in member.linkname.split("/") if p not in ("", ".")]
            if member.linkname.startswith("/") or not target or ".." in target:
                raise BadArchive(f"unsafe hard link {member.name!r} -> {member.linkname!r}")
            with _parent_fd(root_fd, target[:-1]) as source_dir:
                os.link(target[-1], name, src_dir_fd=source_dir, dst_dir_fd=dir_fd,
                        follow_symlinks=False)
        # FIFOs, sockets and devices: left out


@contextlib.contextmanager
def _parent_fd(root_fd: int, parts: list[str]) -> Iterator[int]:
    fd = os.dup(root_fd)
    try:
        for part in parts:
            child = _open_child(fd, part, create=True, shown=part)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def move_into_place(staging: Path, top: str, root: Path | str, relative: str) -> None:
    """Replace root/relative with staging/top (one rename; the old one is removed after).

    The folders on the way to root/relative are opened without following a link
    (made when missing); what is at root/relative itself, a link included, is
    replaced, never written through."""
    parent, name = _split(relative)
    with open_folder(root, parent, create=True) as dir_fd, open_folder(staging) as from_fd:
        old = None
        with contextlib.suppress(FileNotFoundError):
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            old = f".{name}.replaced-{secrets.token_hex(4)}"
            os.rename(name, old, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.rename(top, name, src_dir_fd=from_fd, dst_dir_fd=dir_fd)
        if old is not None:
            _remove(dir_fd, old)


def _remove(dir_fd: int, name: str) -> None:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def member_folders(config: Config, account: str) -> tuple[Path, Path]:
    """(work, backup) folders of a member on the host, made when missing; each is one
    real folder right under its volume root (core.runtime.member_files.UnsafePath otherwise)."""
    return (member_folder(config.volumes.work, account),
            member_folder(config.volumes.backup, account))
