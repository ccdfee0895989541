"""The server secret: from BOOKING_SECRET, or a file made once (mode 0600) under the data folder."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.domain.config import ConfigError
from core.domain.passwords import (
    MIN_SECRET_BYTES,
    SECRET_FILE_NAME,
)

log = logging.getLogger(__name__)


_WHAT_WORKS = (f"at least {MIN_SECRET_BYTES} random bytes, for example the output of "
               "`openssl rand -hex 32`")


def load_secret(env_value: str | None, data_dir: Path) -> bytes:
    """The server secret: BOOKING_SECRET if set, else <data_dir>/booking-secret (made once).

    Raises ConfigError, in one line naming the variable or file, when it is unusable."""
    if env_value:
        value = env_value.encode()
        if len(value) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"BOOKING_SECRET is too short ({len(value)} bytes): set it to {_WHAT_WORKS}, "
                f"or unset it to use a secret file made under BOOKING_DATA_DIR"
            )
        return value
    path = data_dir / SECRET_FILE_NAME
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    value = secrets.token_hex(32).encode()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_secret(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot make the booking secret {path} ({exc.strerror}): set BOOKING_DATA_DIR to "
            f"a writable folder, or set BOOKING_SECRET to {_WHAT_WORKS}"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    log.info("created the booking secret %s (mode 0600)", path)
    return value


def _read_secret(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode & 0o777
        value = path.read_bytes().strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(
            f"cannot read the booking secret {path} ({exc.strerror}): make it readable by the "
            f"service's user, or set BOOKING_SECRET to {_WHAT_WORKS}"
        ) from None
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o); chmod 600 it", path, mode)
    if not value:
        raise ConfigError(
            f"the booking secret {path} is empty: delete it and a new one is made on the next "
            f"start, or set BOOKING_SECRET to {_WHAT_WORKS}"
        )
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"the booking secret {path} is too short ({len(value)} bytes): put {_WHAT_WORKS} "
            f"in it, or set BOOKING_SECRET"
        )
    return value
