"""A real PostgreSQL for the tests.

`.ci/run` starts a private cluster and exports BOOKING_TEST_POSTGRES_URL. Without
it, a throwaway cluster is started under a temporary folder when the server
binaries are installed; otherwise the PostgreSQL tests are skipped (and fail
under CI, where skipping would hide them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def _binaries() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url = os.environ.get("BOOKING_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    binaries = _binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is needed under CI: .ci/run should have started it")
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="booking-pg-"))
    shutil.chown(folder, "postgres") if os.geteuid() == 0 else None
    data, port = folder / "data", _free_port()
    subprocess.run(_as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
                                 "--auth=trust"]), check=True, capture_output=True)
    subprocess.run(_as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l",
                                 str(folder / "log"), "-o", f"-p {port} -k {folder} -h 127.0.0.1",
                                 "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast",
                                     "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server for one test."""
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = postgres_server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
