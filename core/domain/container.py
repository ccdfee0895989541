"""What a container is, as core decides it: the spec built from a booking, its
labels, and what the engine reports back. The port that runs them is
core/services/container_runtime.py; the adapter core/runtime/docker_runtime.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
class RestoreCopy:
    """A saved file or folder of the member's, copied into the container before it
    starts: `root` is the member's backup folder, `relative` the path under it (read
    without following a link, see core/runtime/member_files.py)."""

    root: str
    relative: str
    container_path: str


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
    command: tuple[str, ...] = ()  # argument list, never run by a host shell
    # The member's public keys, written to `login_user`'s ~/.ssh/authorized_keys in
    # the container before it starts (keys already there from a backup are kept).
    authorized_keys: str = ""
    login_user: str = "root"
    pids_limit: int = 4096
    disk_gb: int | None = None  # cap of the writable layer, where the storage driver can
    # Files and folders copied into the container after it is made and before it
    # first starts (the member's backup): real files, so `sed -i`, `rm` and editors
    # that save by rename work, unlike single-file bind mounts. Initial content only:
    # not part of the container's settings digest.
    restore: tuple[RestoreCopy, ...] = ()


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
