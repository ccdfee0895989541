"""ContainerRuntime adapter for the Docker Engine (docker SDK).

Error policy (ContainerError.retryable):
- engine unreachable, timeouts, HTTP 409 conflicts, and 5xx answers outside
  `start` -> retryable (trying again later may help);
- image missing (and pulling not allowed or failed with 404), unknown
  container, any engine refusal while creating/starting a container (for
  example GPUs requested without the NVIDIA runtime) -> not retryable.

`start` creates the container, copies the member's restored files in (the
Engine API's archive upload: no tar or Python needed in the image), then starts
it; it never leaves a half-made container: whatever fails after the create
removes the container again. A stopped container made from the same spec is
started again rather than replaced, so what the member had outside the mounted
folders survives an engine restart. Images are pulled only when `pull=True`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import posixpath
import shutil
import socket
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container
from docker.types import DeviceRequest

from core.runtime import (
    BOOKING_LABEL,
    MANAGED_LABEL,
    SERVER_LABEL,
    SPEC_LABEL,
    ContainerError,
    ContainerSpec,
    ManagedContainer,
)

log = logging.getLogger(__name__)

_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.RequestException,
    ConnectionError,
    TimeoutError,
)


class DockerRuntime:
    """The ContainerRuntime port implemented with the docker SDK."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        base_url: str | None = None,
        pull: bool = False,
        timeout_s: int = 60,
    ) -> None:
        if client is not None and base_url is not None:
            raise ValueError("pass either a client or a base_url, not both")
        self._client_obj = client
        self._base_url = base_url
        self._pull = pull
        self._timeout_s = timeout_s

    # -- the port ---------------------------------------------------------

    def start(self, spec: ContainerSpec) -> list[str]:
        with _engine_errors(f"start {spec.name}", refusal_retryable=False):
            if self._adopt_existing(spec):
                return []
            self._ensure_image(spec.image)
            container = self._create(spec)
            try:
                refused = self._restore(container, spec)
                container.start()
            except BaseException:
                self._discard(spec.name)
                raise
        log.info("started container %s (image %s)", spec.name, spec.image)
        return refused

    def stop_and_remove(self, name: str, *, grace_seconds: int) -> None:
        with _engine_errors(f"stop {name}"):
            container = self._find(name)
            if container is None:
                log.info("container %s already gone", name)
                return
            with contextlib.suppress(docker.errors.NotFound):
                container.stop(timeout=grace_seconds)
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(v=True, force=True)
        log.info("stopped and removed container %s", name)

    def restart(self, name: str) -> None:
        with _engine_errors(f"restart {name}"):
            self._get(name).restart()
        log.info("restarted container %s", name)

    def is_running(self, name: str) -> bool:
        with _engine_errors(f"inspect {name}"):
            container = self._find(name)
            return container is not None and _running(container.attrs)

    def list_managed(self) -> list[ManagedContainer]:
        with _engine_errors("list containers"):
            rows = self._client.api.containers(all=True, filters={"label": f"{MANAGED_LABEL}=true"})
        return [_managed_from_row(row) for row in rows]

    def copy_out(self, name: str, container_path: str, host_path: str) -> None:
        with _engine_errors(f"copy {name}:{container_path}"):
            chunks, _stat = self._get(name).get_archive(container_path)
            _extract_archive(chunks, host_path)
        log.info("copied %s:%s to %s", name, container_path, host_path)

    def copy_in(self, name: str, host_path: str, container_path: str) -> None:
        with _engine_errors(f"copy to {name}:{container_path}"):
            _put_path(self._get(name), host_path, container_path)
        log.info("copied %s to %s:%s", host_path, name, container_path)

    # -- helpers ----------------------------------------------------------

    @property
    def _client(self) -> docker.DockerClient:
        if self._client_obj is None:
            try:
                self._client_obj = docker.DockerClient(
                    base_url=self._base_url, timeout=self._timeout_s
                )
            except docker.errors.DockerException as exc:
                raise ContainerError(f"Docker engine unreachable: {exc}", retryable=True) from exc
        return self._client_obj

    def _find(self, name: str) -> Container | None:
        try:
            return self._client.containers.get(name)
        except docker.errors.NotFound:
            return None

    def _get(self, name: str) -> Container:
        container = self._find(name)
        if container is None:
            raise ContainerError(f"no container named {name!r}", retryable=False)
        return container

    def _adopt_existing(self, spec: ContainerSpec) -> bool:
        """True when the container this spec describes already runs (idempotent start).

        A container of ours with that name but made otherwise (stopped, half
        made, or for an older booking with the same number after a database
        reset) is removed so it can be made again; a container of another
        server or not ours at all is an error.
        """
        name = spec.name
        container = self._find(name)
        if container is None:
            return False
        labels = container.attrs.get("Config", {}).get("Labels") or {}
        if labels.get(MANAGED_LABEL) != "true":
            raise ContainerError(
                f"a container named {name!r} exists and is not managed by the booking system",
                retryable=False,
            )
        server = spec.labels.get(SERVER_LABEL)
        if server is not None and labels.get(SERVER_LABEL) not in (None, server):
            raise ContainerError(
                f"a container named {name!r} belongs to server {labels.get(SERVER_LABEL)!r} "
                "on this Docker engine; give each server its own engine or server name",
                retryable=False,
            )
        same = labels.get(SPEC_LABEL) == fingerprint(spec)
        if same and _running(container.attrs):
            log.info("container %s already running; start is a no-op", name)
            return True
        if same and _was_started(container.attrs):
            # Stopped (engine restart, reboot, `docker stop`): start the same container
            # again, so what the member had outside the mounted folders is kept.
            log.info("container %s had stopped; starting it again", name)
            container.start()
            return True
        log.info("removing container %s (never started, or made for other settings) "
                 "to make it anew", name)
        self._discard(name)
        return False

    def _restore(self, container: Container, spec: ContainerSpec) -> list[str]:
        """Copy spec.restore into the created container; the paths the engine refused."""
        refused: list[str] = []
        for item in spec.restore:
            try:
                _put_path(container, item.host_path, item.container_path)
            except docker.errors.APIError as exc:  # e.g. "extraction point is not a
                if exc.status_code == 409:          # directory" (a 500): a refusal
                    raise
                log.warning("%s: %s not restored: %s", spec.name, item.container_path,
                            _explain(exc))
                refused.append(item.container_path)
            except (OSError, tarfile.TarError) as exc:  # the host copy is unreadable
                log.warning("%s: %s not restored: %s", spec.name, item.container_path, exc)
                refused.append(item.container_path)
        return refused

    def _ensure_image(self, image: str) -> None:
        try:
            self._client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            if not self._pull:
                raise ContainerError(
                    f"image {image!r} is not on the Docker engine (pulling is disabled)",
                    retryable=False,
                ) from None
        log.info("pulling image %s", image)
        try:
            self._client.images.pull(image)
        except docker.errors.NotFound as exc:
            raise ContainerError(
                f"image {image!r} not found (pull failed: {_explain(exc)})", retryable=False
            ) from exc

    def _create(self, spec: ContainerSpec) -> Container:
        return self._client.containers.create(spec.image, **_create_kwargs(spec))

    def _discard(self, name: str) -> None:
        """Best-effort removal of a container we made or must replace."""
        try:
            self._client.containers.get(name).remove(v=True, force=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, *_TRANSPORT_ERRORS):
            log.exception("could not remove container %s", name)


def fingerprint(spec: ContainerSpec) -> str:
    """A digest of the spec: equal only for a container made from the same one."""
    fields = dataclasses.asdict(spec)
    fields.pop("restore", None)  # initial content, not a setting of the container
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _create_kwargs(spec: ContainerSpec) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "name": spec.name,
        "labels": {**spec.labels, SPEC_LABEL: fingerprint(spec)},
        "nano_cpus": round(spec.cpus * 1e9),
        "mem_limit": f"{spec.ram_gb}g",
        "memswap_limit": f"{spec.memory_gb}g",
        "ports": {"22/tcp": ("0.0.0.0", spec.ssh_port)},
        "volumes": [
            f"{m.host_path}:{m.container_path}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts
        ],
        "environment": dict(spec.environment),
        "restart_policy": {"Name": "no"},
    }
    if spec.command:
        kwargs["command"] = list(spec.command)
    if spec.shm_gb > 0:
        kwargs["shm_size"] = f"{spec.shm_gb}g"
    if spec.gpu_ids:
        kwargs["device_requests"] = [
            DeviceRequest(
                driver="nvidia",
                device_ids=[str(i) for i in spec.gpu_ids],
                capabilities=[["gpu"]],
            )
        ]
    return kwargs


def _running(attrs: dict[str, Any]) -> bool:
    return bool(attrs.get("State", {}).get("Running"))


def _was_started(attrs: dict[str, Any]) -> bool:
    """False for a container that was created but never started (half made)."""
    started = str(attrs.get("State", {}).get("StartedAt") or "")
    return bool(started) and not started.startswith("0001-")


def _managed_from_row(row: dict[str, Any]) -> ManagedContainer:
    names = row.get("Names") or [""]
    labels = row.get("Labels") or {}
    booking: int | None
    try:
        booking = int(labels[BOOKING_LABEL])
    except (KeyError, TypeError, ValueError):
        booking = None
    return ManagedContainer(
        name=str(names[0]).lstrip("/"),
        booking_id=booking,
        running=row.get("State") == "running",
        server=labels.get(SERVER_LABEL),
    )


def _explain(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


@contextlib.contextmanager
def _engine_errors(action: str, *, refusal_retryable: bool | None = None) -> Iterator[None]:
    """Translate docker SDK / transport errors into ContainerError.

    refusal_retryable: retryability of a non-409 APIError; None means "5xx
    are retryable, 4xx are not". A 409 conflict is always retryable.
    """
    try:
        yield
    except ContainerError:
        raise
    except docker.errors.ImageNotFound as exc:
        raise ContainerError(
            f"{action}: image not found: {_explain(exc)}", retryable=False
        ) from exc
    except docker.errors.NotFound as exc:
        raise ContainerError(f"{action}: {_explain(exc)}", retryable=False) from exc
    except docker.errors.APIError as exc:
        status = exc.status_code or 500
        if status == 409:  # conflict (e.g. a concurrent create): trying again may help
            retryable = True
        elif refusal_retryable is not None:
            retryable = refusal_retryable
        else:
            retryable = status >= 500
        raise ContainerError(f"{action}: {_explain(exc)}", retryable=retryable) from exc
    except _TRANSPORT_ERRORS as exc:
        raise ContainerError(f"{action}: Docker engine unreachable: {exc}", retryable=True) from exc
    except docker.errors.DockerException as exc:
        raise ContainerError(f"{action}: Docker engine error: {exc}", retryable=True) from exc


# -- copy_out: safe extraction of the engine's tar stream -------------------


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (get_archive's stream)."""

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


def _extract_archive(chunks: Iterable[bytes], host_path: str) -> None:
    """Extract the archive's single top entry to host_path (file or folder).

    The archive is unpacked into a scratch folder beside host_path and then
    renamed into place, so a failure leaves host_path untouched; an existing
    host_path is replaced.
    """
    target = os.path.abspath(host_path)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".copy-out-", dir=parent)
    try:
        stream = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
        root = _extract_stream(stream, scratch)
        _replace(os.path.join(scratch, root), target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _extract_stream(stream: IO[bytes], scratch: str) -> str:
    """Extract member by member; returns the archive's top-level name."""
    root: str | None = None
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            top = _checked_top(member.name)
            if root is None:
                root = top
            elif top != root:
                raise ContainerError(
                    f"archive has more than one top-level entry ({root!r}, {top!r})",
                    retryable=False,
                )
            try:
                tar.extract(member, scratch, filter="data")
            except tarfile.FilterError as exc:
                raise ContainerError(f"unsafe archive member: {exc}", retryable=False) from exc
    if root is None:
        raise ContainerError("the engine returned an empty archive", retryable=False)
    return root


def _checked_top(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or not parts or ".." in parts:
        raise ContainerError(f"unsafe archive member name {name!r}", retryable=False)
    return parts[0]


def _replace(source: str, target: str) -> None:
    if os.path.lexists(target):
        old = f"{target}.old-{os.getpid()}-{time.monotonic_ns()}"
        os.rename(target, old)
        os.rename(source, target)
        if os.path.isdir(old) and not os.path.islink(old):
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.unlink(old)
    else:
        os.rename(source, target)


# -- copy_in: a tar made here, unpacked by the engine ---------------------------


def _put_path(container: Container, host_path: str, container_path: str) -> None:
    """Copy a host file or folder to container_path (missing parent folders are made).

    Symbolic links are copied as links, never followed; device files, FIFOs and
    sockets are skipped. Everything is owned by root in the container.
    """
    target = posixpath.normpath(container_path)
    if not target.startswith("/") or target == "/":
        raise ContainerError(f"container path {container_path!r} is not below /",
                             retryable=False)
    if not os.path.lexists(host_path):
        raise FileNotFoundError(f"{host_path} does not exist")
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
            tar.add(host_path, arcname="/".join([*missing, base]), filter=_as_root)
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


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


_EMPTY_TAR = b"\0" * 1024  # the end-of-archive marker alone


# -- SSH readiness ------------------------------------------------------------


def wait_for_ssh(host: str, port: int, timeout: float) -> bool:
    """True once something on host:port answers with an SSH-2.0 banner."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if _ssh_banner(host, port, min(remaining, 2.0)):
            return True
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))


def _ssh_banner(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            banner = conn.recv(256)
    except OSError:
        return False
    return banner.startswith(b"SSH-2.0")
