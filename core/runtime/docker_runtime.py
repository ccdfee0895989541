"""ContainerRuntime adapter for the Docker Engine (docker SDK).

Errors become ContainerError as core/runtime/docker_errors.py describes.

`start` creates the container (as the old `docker run -dit`: a TTY and open
stdin), copies the member's restored files and SSH keys in (the Engine API's
archive upload: no tar or Python needed in the image), then starts it; it never
leaves a half-made container: whatever fails after the create removes the
container again. A stopped container made from the same spec is
started again rather than replaced, so what the member had outside the mounted
folders survives an engine restart. Images are pulled only when `pull=True`.
"""

from __future__ import annotations

import contextlib
import logging
import tarfile
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from core.domain.container import (
    BOOKING_LABEL,
    MANAGED_LABEL,
    SERVER_LABEL,
    SPEC_LABEL,
    ContainerError,
    ContainerSpec,
    ManagedContainer,
)
from core.domain.files import UnsafePath
from core.runtime.container_files import install_keys, put_path
from core.runtime.docker_errors import TRANSPORT_ERRORS, engine_errors, explain
from core.runtime.docker_spec import create_kwargs, fingerprint

log = logging.getLogger(__name__)

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
        with engine_errors(f"start {spec.name}", refusal_retryable=False):
            if self._adopt_existing(spec):
                return []
            self._ensure_image(spec.image)
            container = self._create(spec)
            try:
                refused = self._restore(container, spec)
                if spec.authorized_keys.strip():
                    install_keys(container, spec.login_user, spec.authorized_keys)
                container.start()
            except BaseException:
                self._discard(spec.name)
                raise
        log.info("started container %s (image %s)", spec.name, spec.image)
        return refused

    def stop(self, name: str, *, grace_seconds: int) -> None:
        with engine_errors(f"stop {name}"):
            container = self._find(name)
            if container is None or not _running(container.attrs):
                return
            with contextlib.suppress(docker.errors.NotFound):
                container.stop(timeout=grace_seconds)
        log.info("stopped container %s", name)

    def remove(self, name: str) -> None:
        with engine_errors(f"remove {name}"):
            container = self._find(name)
            if container is None:
                log.info("container %s already gone", name)
                return
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(v=True, force=True)
        log.info("removed container %s", name)

    def stop_and_remove(self, name: str, *, grace_seconds: int) -> None:
        self.stop(name, grace_seconds=grace_seconds)
        self.remove(name)

    def restart(self, name: str) -> None:
        with engine_errors(f"restart {name}"):
            self._get(name).restart()
        log.info("restarted container %s", name)

    def is_running(self, name: str) -> bool:
        with engine_errors(f"inspect {name}"):
            container = self._find(name)
            return container is not None and _running(container.attrs)

    def list_managed(self) -> list[ManagedContainer]:
        with engine_errors("list containers"):
            rows = self._client.api.containers(all=True, filters={"label": f"{MANAGED_LABEL}=true"})
        return [_managed_from_row(row) for row in rows]

    def archive(self, name: str, container_path: str) -> Iterator[bytes]:
        with engine_errors(f"copy {name}:{container_path}"):
            chunks, _stat = self._get(name).get_archive(container_path, chunk_size=1 << 20)
            yield from chunks

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
                put_path(container, item, item.container_path)
            except docker.errors.APIError as exc:  # e.g. "extraction point is not a
                if exc.status_code == 409:          # directory" (a 500): a refusal
                    raise
                log.warning("%s: %s not restored: %s", spec.name, item.container_path,
                            explain(exc))
                refused.append(item.container_path)
            except (OSError, tarfile.TarError, UnsafePath) as exc:  # unreadable, or a link
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
                f"image {image!r} not found (pull failed: {explain(exc)})", retryable=False
            ) from exc

    def _create(self, spec: ContainerSpec) -> Container:
        return self._client.containers.create(spec.image, **create_kwargs(spec))

    def _discard(self, name: str) -> None:
        """Best-effort removal of a container we made or must replace."""
        try:
            self._client.containers.get(name).remove(v=True, force=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, *TRANSPORT_ERRORS):
            log.exception("could not remove container %s", name)


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
