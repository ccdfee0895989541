"""`booking serve` with a pool of servers in the config must be told which server this host
runs; it refuses to start otherwise, saying how (real processes, SQLite, no engine needed:
it stops before the scheduler starts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.pool_config import write_pool_config


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOOKING_CONFIG": str(write_pool_config(tmp_path / "b.yaml")),
                   "BOOKING_DATABASE_URL": f"sqlite:///{tmp_path / 'booking.db'}", **env}
    environment.pop("BOOKING_SERVER", None) if "BOOKING_SERVER" not in env else None
    return subprocess.run([sys.executable, "-m", "bot.cli", "serve", *args], env=environment,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_a_pool_host_must_name_its_server(tmp_path: Path) -> None:
    unnamed = serve(tmp_path)
    assert unnamed.returncode == 1
    assert unnamed.stderr.strip().endswith(
        "the config lists a pool of servers (gpu1, gpu2); name the one this host runs: "
        "booking serve --server NAME (or BOOKING_SERVER)")
    assert "Traceback" not in unnamed.stderr


def test_a_server_outside_the_pool_is_refused_with_the_names(tmp_path: Path) -> None:
    for wrong in (serve(tmp_path, "--server", "gpu9"), serve(tmp_path, BOOKING_SERVER="gpu9")):
        assert wrong.returncode == 1
        assert "no server 'gpu9' (BOOKING_SERVER or --server); the servers are gpu1, gpu2" in (
            wrong.stderr), wrong.stderr
        assert "Traceback" not in wrong.stderr
