"""A ContainerSpec as the docker SDK's create arguments, and the digest that tells
whether a container was made from the same spec."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from docker.types import DeviceRequest

from core.domain.container import (
    SPEC_LABEL,
    ContainerSpec,
)

# Docker's default capabilities that neither sshd nor the old images' entry points
# need (they set a password, start sshd and log members in as root or their user).
DROPPED_CAPABILITIES = ("MKNOD", "NET_RAW", "SETFCAP", "SETPCAP")


def fingerprint(spec: ContainerSpec) -> str:
    """A digest of the spec: equal only for a container made from the same one."""
    fields = dataclasses.asdict(spec)
    fields.pop("restore", None)  # initial content, not a setting of the container
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def create_kwargs(spec: ContainerSpec) -> dict[str, Any]:
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
        # The old `docker run -dit`: images that fall through to an interactive shell
        # after starting sshd stay up only with a TTY and an open stdin.
        "tty": True,
        "stdin_open": True,
        "pids_limit": spec.pids_limit,
        "security_opt": ["no-new-privileges"],
        "cap_drop": list(DROPPED_CAPABILITIES),
    }
    if spec.disk_gb is not None:
        kwargs["storage_opt"] = {"size": f"{spec.disk_gb}G"}
    if spec.command:
        kwargs["command"] = list(spec.command)
    if spec.shm_gb > 0:
        kwargs["shm_size"] = f"{spec.shm_gb}g"
    if not spec.gpu_ids:
        # A default `nvidia` runtime would otherwise show every GPU to the container.
        kwargs["environment"]["NVIDIA_VISIBLE_DEVICES"] = "void"
    else:
        kwargs["device_requests"] = [
            DeviceRequest(
                driver="nvidia",
                device_ids=[str(i) for i in spec.gpu_ids],
                capabilities=[["gpu"]],
            )
        ]
    return kwargs
