"""A tiny SSH-capable test image, built with no registry.

The root filesystem is assembled in Python from the host's static busybox
(Debian's busybox-static) and dropbear (Debian's dropbear-bin, plus the shared
libraries `ldd` names), then loaded with `docker import`.

The image behaves like the lab's images:

- env PASSWORD: root's password (SHA-512 crypt hash written to /etc/shadow);
  without it root has no password and only keys work;
- env SSH_AUTHORIZED_KEYS: newline-separated keys for /root/.ssh/authorized_keys;
- command arguments, if any, run in the background (as `"$@" &`) before
  dropbear starts; their output goes to the container log;
- dropbear runs in the foreground on port 22 (`-F -E -R -p 22`, host keys made
  on first start).

`build_old_style_image` makes an image built the way the old system's default
image (rober5566a/aivc-server) is: bash present, an entry point that sets the
password from PASSWORD, starts the SSH server in the background and then runs
its command, by default an interactive bash, which exits at once without a TTY
and open stdin (`docker run -dit`). It reads no SSH_AUTHORIZED_KEYS.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import tarfile
import time

import docker
import docker.errors

log = logging.getLogger(__name__)

DEFAULT_TAG = "server-booking-test/ssh:latest"
RECIPE_LABEL = "server-booking-test.recipe"
BUSYBOX = "/usr/bin/busybox"
DROPBEAR = "/usr/sbin/dropbear"
RECIPE_VERSION = "1"

START_SCRIPT = """#!/bin/sh
# Entry point of the test SSH image (see tests/support/ssh_image.py).
set -e
if [ -n "$PASSWORD" ]; then
    hash=$(printf '%s\\n' "$PASSWORD" | mkpasswd -m sha512 -P 0)
    printf 'root:%s:19000:0:99999:7:::\\n' "$hash" > /etc/shadow
fi
if [ -n "$SSH_AUTHORIZED_KEYS" ]; then
    mkdir -p /root/.ssh
    chmod 700 /root/.ssh
    printf '%s\\n' "$SSH_AUTHORIZED_KEYS" > /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
fi
unset PASSWORD
if [ "$#" -gt 0 ]; then
    "$@" &
fi
exec /usr/sbin/dropbear -F -E -R -p 22
"""

OLD_STYLE_TAG = "server-booking-test/old-style:latest"
BASH = "/bin/bash"
OLD_STYLE_ENTRY = """#!/usr/bin/bash
# Entry point built like the old default image's: password, sshd in the background,
# then the command (an interactive shell by default).
if [ -n "$PASSWORD" ]; then
    hash=$(printf '%s\\n' "$PASSWORD" | mkpasswd -m sha512 -P 0)
    printf 'root:%s:19000:0:99999:7:::\\n' "$hash" > /etc/shadow
fi
/usr/sbin/dropbear -E -R -p 22
exec "$@"
"""
OLD_STYLE_CHANGES = [
    'ENTRYPOINT ["/entry.sh"]',
    'CMD ["/usr/bin/bash"]',
    "EXPOSE 22",
    "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
]

TEXT_FILES: dict[str, tuple[str, int]] = {
    "etc/passwd": (
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        0o644,
    ),
    "etc/group": ("root:x:0:\nnogroup:x:65534:\n", 0o644),
    "etc/shadow": ("root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0o600),
    "etc/shells": ("/bin/sh\n/bin/ash\n", 0o644),
    "etc/nsswitch.conf": ("passwd: files\ngroup: files\nshadow: files\nhosts: files\n", 0o644),
    "start.sh": (START_SCRIPT, 0o755),
}
DIRECTORIES: dict[str, int] = {
    "bin": 0o755,
    "sbin": 0o755,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "lib": 0o755,
    "lib64": 0o755,
    "etc": 0o755,
    "etc/dropbear": 0o700,
    "root": 0o700,
    "tmp": 0o1777,
    "var": 0o755,
    "var/log": 0o755,
    "var/run": 0o755,
    "dev": 0o755,
    "proc": 0o755,
    "sys": 0o755,
}
IMAGE_CHANGES = [
    'ENTRYPOINT ["/start.sh"]',
    "EXPOSE 22",
    "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
]


def build_ssh_image(client: docker.DockerClient, tag: str = DEFAULT_TAG) -> str:
    """Build (or reuse) the SSH test image; returns its tag."""
    return _build(client, tag, IMAGE_CHANGES, old_style=False)


def build_old_style_image(client: docker.DockerClient, tag: str = OLD_STYLE_TAG) -> str:
    """Build (or reuse) the image made like the old system's default one."""
    return _build(client, tag, OLD_STYLE_CHANGES, old_style=True)


def _build(client: docker.DockerClient, tag: str, image_changes: list[str], *,
           old_style: bool) -> str:
    recipe = _recipe_digest(old_style)
    if _existing_recipe(client, tag) == recipe:
        return tag
    started = time.monotonic()
    rootfs = _rootfs_tarball(old_style)
    repository, _, version = tag.rpartition(":")
    if not repository or "/" in version:
        repository, version = tag, "latest"
    changes = [*image_changes, f"LABEL {RECIPE_LABEL}={recipe}"]
    client.api.import_image_from_data(rootfs, repository=repository, tag=version, changes=changes)
    log.info("built %s (%d bytes) in %.1fs", tag, len(rootfs), time.monotonic() - started)
    return tag


def _existing_recipe(client: docker.DockerClient, tag: str) -> str | None:
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    labels = image.attrs.get("Config", {}).get("Labels") or {}
    value = labels.get(RECIPE_LABEL)
    return value if isinstance(value, str) else None


def _recipe_digest(old_style: bool = False) -> str:
    digest = hashlib.sha256(RECIPE_VERSION.encode())
    digest.update(START_SCRIPT.encode())
    digest.update(repr(sorted(TEXT_FILES.items())).encode())
    if old_style:
        digest.update(OLD_STYLE_ENTRY.encode())
        digest.update(repr(OLD_STYLE_CHANGES).encode())
    for path in (BUSYBOX, DROPBEAR, *([BASH] if old_style else [])):
        stat = os.stat(path)
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _shared_libraries(binary: str) -> list[str]:
    """Absolute paths of the shared libraries (and loader) `binary` needs."""
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    paths: list[str] = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                paths.append(target)
        elif parts and parts[0].startswith("/"):
            paths.append(parts[0])  # the dynamic loader
    return paths


def _busybox_applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout
    return [name for name in out.split() if name and "/" not in name and name != "busybox"]


def _rootfs_tarball(old_style: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, mode in DIRECTORIES.items():
            _add_dir(tar, path, mode)
        for path, (text, mode) in TEXT_FILES.items():
            _add_bytes(tar, path, text.encode(), mode)
        _add_host_file(tar, BUSYBOX, "bin/busybox")
        for applet in _busybox_applets():
            _add_symlink(tar, f"bin/{applet}", "busybox")
        _add_host_file(tar, DROPBEAR, DROPBEAR.lstrip("/"))
        binaries = [DROPBEAR]
        if old_style:
            _add_host_file(tar, BASH, "usr/bin/bash")
            _add_bytes(tar, "entry.sh", OLD_STYLE_ENTRY.encode(), 0o755)
            binaries.append(BASH)
        added: set[str] = set()
        for binary in binaries:
            for library in _shared_libraries(binary):
                if library not in added:
                    added.add(library)
                    _add_library(tar, library)
    return buffer.getvalue()


def _add_library(tar: tarfile.TarFile, library: str) -> None:
    """Store the library's content under the name ldd printed, parents included."""
    name = library.lstrip("/")
    parent = os.path.dirname(name)
    if parent and parent not in DIRECTORIES and parent not in tar.getnames():
        _add_dir(tar, parent, 0o755)
    _add_host_file(tar, os.path.realpath(library), name)


def _add_dir(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def _add_host_file(tar: tarfile.TarFile, source: str, name: str) -> None:
    with open(source, "rb") as handle:
        _add_bytes(tar, name, handle.read(), 0o755)
