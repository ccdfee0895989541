"""The SSH probe: is a container's sshd answering on its port yet?"""

from __future__ import annotations

import time

from core.runtime.docker_runtime import (
    _ssh_banner,
)


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
