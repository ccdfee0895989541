"""The notifier of last resort: the service's standard output, and a line in the log.

Used whenever no chat adapter reaches the member (for example none is
configured). The message text goes to stdout; the outbox never gives it a
password (the text says where to get it instead), since stdout ends up in the
journal. The log line names the message but not its text.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO

from core.chat.actions import restored
from core.domain.model import Account
from core.services.notifier import Message

log = logging.getLogger(__name__)


class LogNotifier:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def deliver(self, account: Account, message: Message) -> bool:
        stream = self._stream or sys.stdout
        booking = f" booking #{message.booking_id}" if message.booking_id is not None else ""
        lines = [f"[message to {account.name}, {message.kind.value}{booking}]", message.text]
        lines += [f"  [{a.label}] -> type: {a.command}" for a in restored(message.actions)]
        text = "\n".join(lines) + "\n"
        if stream.isatty() and sys.stdin.isatty():
            # The terminal chat is waiting at its prompt: print above it, then prompt again.
            text = "\r\x1b[K" + text + "> "
        with self._lock:
            stream.write(text)
            stream.flush()
        log.info("message (%s%s) for %s written to stdout", message.kind.value, booking,
                 account.name)
        return True
