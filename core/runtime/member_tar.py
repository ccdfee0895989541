"""A member's trees in and out of tar streams, never following a link: a saved tree
into a tar for a restore, and the engine's tar stream of a backup through a staging
folder into place."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import stat
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from core.domain.files import BadArchive, Budget
from core.runtime.member_files import (
    CREATE_FLAGS,
    DIR_FLAGS,
    READ_FLAGS,
    open_child,
    open_folder,
    split_path,
)

STAGING_FOLDER = ".booking-staging"  # under the backup volume root: no container sees it


# -- restore: a member's saved tree into a tar, never following a link --------


def add_to_tar(tar: tarfile.TarFile, root: Path | str, relative: str, arcname: str) -> None:
    """Add root/relative (file, folder or link) to `tar` as `arcname`, owned by root.

    Links are stored as links; FIFOs, sockets and devices are left out. Raises
    UnsafePath when a step to root/relative is a link, FileNotFoundError when missing."""
    parent, name = split_path(relative)
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
        fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
                return  # replaced between the look and the open: left out
            entry.size = opened.st_size
            tar.addfile(entry, handle)
    elif stat.S_ISDIR(info.st_mode):
        entry.type = tarfile.DIRTYPE
        tar.addfile(entry)
        child = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
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
            made = open_child(dir_fd, name, create=False, shown="/".join(parts))
            try:
                os.fchmod(made, (member.mode & 0o777) | 0o700)
            finally:
                os.close(made)
        elif member.isreg():
            fd = os.open(name, CREATE_FLAGS, 0o600, dir_fd=dir_fd)
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
            child = open_child(fd, part, create=True, shown=part)
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
    parent, name = split_path(relative)
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
