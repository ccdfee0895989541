"""The container runtime port: what the scheduler needs from a container engine.

core decides *what* to run (a ContainerSpec built from a booking); an adapter
(core/runtime/docker_runtime.py, docker SDK) decides *how*. Tests use a fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from core.domain.container import ContainerSpec, ManagedContainer


class ContainerRuntime(Protocol):
    def start(self, spec: ContainerSpec) -> list[str]:
        """Create the container, copy `spec.restore` in, start it; on failure leave
        nothing behind. A container of this spec that exists already is kept: started
        again if it stopped (its files outside the mounts survive).

        Returns the container paths of `spec.restore` the engine refused to take (the
        container runs without them); an engine that fails outright raises.
        """

    def stop(self, name: str, *, grace_seconds: int) -> None:
        """Stop the container (SIGTERM, then SIGKILL after the grace); no-op when it is
        gone or stopped already."""

    def remove(self, name: str) -> None:
        """Remove the container (stopped or not) and its anonymous volumes; no-op when gone."""

    def stop_and_remove(self, name: str, *, grace_seconds: int) -> None: ...

    def restart(self, name: str) -> None: ...

    def archive(self, name: str, container_path: str) -> Iterator[bytes]:
        """A tar stream of a file or folder of the container (stopped or running), its
        one top entry named after the path's last part. Errors while streaming are
        ContainerError too; a missing path is a non-retryable one."""

    def list_managed(self) -> list[ManagedContainer]: ...

    def is_running(self, name: str) -> bool: ...
