"""The container runtime port: what the scheduler needs from a container engine.

core decides *what* to run (a ContainerSpec built from a booking); an adapter
(core/docker_runtime.py, docker SDK) decides *how*. Tests use a fake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

MANAGED_LABEL = "server-booking.managed"
BOOKING_LABEL = "server-booking.booking-id"
ACCOUNT_LABEL = "server-booking.account"
SERVER_LABEL = "server-booking.server"
# A digest of everything the container was made with (password included, hashed):
# a container of the same name made for another booking is never taken for this one.
SPEC_LABEL = "server-booking.spec"


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one booking's container."""

    name: str  # booking-<account>-<id>
    image: str
    labels: dict[str, str]
    cpus: float  # -> nano_cpus
    ram_gb: int  # RAM part of the booked memory -> mem_limit
    memory_gb: int  # booked memory (RAM + swap) -> memswap_limit
    shm_gb: int  # the rest -> shm_size
    gpu_ids: tuple[int, ...]  # -> device_requests
    ssh_port: int  # host port -> container port 22
    mounts: tuple[Mount, ...]
    environment: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()  # argument list, never a shell string
    # Files and folders copied into the container after it is made and before it
    # first starts (the member's backup): real files, so `sed -i`, `rm` and editors
    # that save by rename work, unlike single-file bind mounts. Initial content only:
    # not part of the container's settings digest.
    restore: tuple[Mount, ...] = ()


@dataclass(frozen=True)
class ManagedContainer:
    """A container carrying our labels, as found on the engine."""

    name: str
    booking_id: int | None
    running: bool
    server: str | None = None  # SERVER_LABEL: the server whose scheduler owns it


class ContainerError(Exception):
    """The engine failed; `retryable` tells whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ContainerRuntime(Protocol):
    def start(self, spec: ContainerSpec) -> list[str]:
        """Create the container, copy `spec.restore` in, start it; on failure leave
        nothing behind. A container of this spec that exists already is kept: started
        again if it stopped (its files outside the mounts survive).

        Returns the container paths of `spec.restore` the engine refused to take (the
        container runs without them); an engine that fails outright raises.
        """

    def stop_and_remove(self, name: str, *, grace_seconds: int) -> None: ...

    def restart(self, name: str) -> None: ...

    def copy_out(self, name: str, container_path: str, host_path: str) -> None:
        """Copy a file or folder from the container to the host (backup)."""

    def copy_in(self, name: str, host_path: str, container_path: str) -> None:
        """Copy a host file or folder into the container at container_path (restore)."""

    def list_managed(self) -> list[ManagedContainer]: ...

    def is_running(self, name: str) -> bool: ...
