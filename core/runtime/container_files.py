"""Files and keys into a running container: restored paths as a tar made here and
unpacked by the engine, and the member's SSH keys."""

from __future__ import annotations

import contextlib
import io
import posixpath
import tarfile
import tempfile

import docker
import docker.errors
from docker.models.containers import Container

from core.domain.container import (
    ContainerError,
    RestoreCopy,
)
from core.runtime.member_tar import add_to_tar


def put_path(container: Container, item: RestoreCopy, container_path: str) -> None:
    """Copy a member's saved file or folder to container_path (missing parent folders
    are made).

    Read without following a link on the host (core/runtime/member_files.py): links are
    copied as links; device files, FIFOs and sockets are skipped. Everything is
    owned by root in the container.
    """
    target = posixpath.normpath(container_path)
    if not target.startswith("/") or target == "/":
        raise ContainerError(f"container path {container_path!r} is not below /",
                             retryable=False)
    parent, base = posixpath.split(target)
    missing: list[str] = []
    while not _exists_in(container, parent):
        parent, folder = posixpath.split(parent)
        missing.insert(0, folder)
    with tempfile.TemporaryFile() as data:
        with tarfile.open(fileobj=data, mode="w") as tar:
            for depth in range(1, len(missing) + 1):
                folder_info = tarfile.TarInfo("/".join(missing[:depth]))
                folder_info.type, folder_info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(folder_info)
            add_to_tar(tar, item.root, item.relative, "/".join([*missing, base]))
        data.seek(0)
        container.put_archive(parent, data)


def _exists_in(container: Container, path: str) -> bool:
    """Whether a folder exists in the container (an empty archive unpacked there)."""
    if path == "/":
        return True
    try:
        container.put_archive(path, _EMPTY_TAR)
    except docker.errors.NotFound:
        return False
    return True


_EMPTY_TAR = b"\0" * 1024  # the end-of-archive marker alone


_MAX_KEYS_BYTES = 256 * 1024


# -- the member's SSH keys ----------------------------------------------------------


def install_keys(container: Container, user: str, keys: str) -> None:
    """Add the member's keys to `user`'s ~/.ssh/authorized_keys in a created container
    (owner `user`, mode 0600 in a 0700 folder), keeping keys already there (a restored
    backup). The user's uid, gid and home come from the image's /etc/passwd."""
    uid, gid, home = _passwd_entry(container, user)
    existing = _read_small(container, posixpath.join(home, ".ssh", "authorized_keys"))
    data = merged_keys(existing, keys)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo(".ssh")
        folder.type, folder.mode, folder.uid, folder.gid = tarfile.DIRTYPE, 0o700, uid, gid
        tar.addfile(folder)
        file = tarfile.TarInfo(".ssh/authorized_keys")
        file.size, file.mode, file.uid, file.gid = len(data), 0o600, uid, gid
        tar.addfile(file, io.BytesIO(data))
    if not _exists_in(container, home):
        _put_folders(container, home)
    container.put_archive(home, buffer.getvalue())


def merged_keys(existing: bytes, keys: str) -> bytes:
    """The authorized_keys file with `keys` added: the non-blank lines already there
    (at most _MAX_KEYS_BYTES, read by _read_small), then each key not yet in it.

    Linear in both (a set of the lines seen): a restored file of 100,000 lines and a
    member's thousand keys are merged in milliseconds, not seconds."""
    lines = [line for line in existing.decode(errors="replace").splitlines() if line.strip()]
    seen = set(lines)
    for line in keys.strip().splitlines():
        key = line.strip()
        if key and key not in seen:
            lines.append(key)
            seen.add(key)
    return ("\n".join(lines) + "\n").encode()


def _passwd_entry(container: Container, user: str) -> tuple[int, int, str]:
    default_home = "/root" if user == "root" else f"/home/{user}"
    text = _read_small(container, "/etc/passwd").decode(errors="replace")
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and fields[0] == user:
            with contextlib.suppress(ValueError):
                home = posixpath.normpath(fields[5]) if fields[5].startswith("/") else default_home
                return int(fields[2]), int(fields[3]), home
    if user != "root":
        raise ContainerError(f"the image has no user {user!r} (container.user in the config)",
                             retryable=False)
    return 0, 0, default_home


def _read_small(container: Container, path: str) -> bytes:
    """A small regular file of the container; empty when missing, not a file, or over
    _MAX_KEYS_BYTES (the file may be a member's, restored from their backup: the stream is
    given up as soon as it is larger, never read whole)."""
    try:
        chunks, _stat = container.get_archive(path)
        raw = bytearray()
        for chunk in chunks:
            raw += chunk
            if len(raw) > _MAX_KEYS_BYTES + 64 * 1024:  # the file, tar headers and padding
                chunks.close()
                return b""
    except docker.errors.NotFound:
        return b""
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tar:
        member = tar.next()
        if member is None or not member.isreg() or member.size > _MAX_KEYS_BYTES:
            return b""
        handle = tar.extractfile(member)
        return handle.read() if handle is not None else b""


def _put_folders(container: Container, path: str) -> None:
    parts = [p for p in path.split("/") if p]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for depth in range(1, len(parts) + 1):
            info = tarfile.TarInfo("/".join(parts[:depth]))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
    container.put_archive("/", buffer.getvalue())
