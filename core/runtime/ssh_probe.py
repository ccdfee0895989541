"""The SSH probe: is a container's sshd answering on its port yet?"""

from __future__ import annotations

import socket
import time


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
