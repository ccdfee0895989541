"""The outbox: every member message is recorded in the transaction that causes it
(`enqueue`), then sent by `OutboxSender.flush`.

A message is marked sent right after a channel accepts it, so across crashes
and restarts each message goes out once; only a crash in the instant between
delivery and that commit can repeat one. Passwords are never stored: the text
holds a placeholder that is rendered at send time from the booking's stored salt
(core/domain/passwords.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from core.domain.account_names import recipient_account
from core.domain.passwords import PASSWORD_PLACEHOLDER, PasswordDeriver
from core.services.notifier import Message, MessageKind, Notifier
from core.services.ports import OutboxItem, OutboxRepository, SchedulerUnitOfWork

log = logging.getLogger(__name__)

MAX_CHAT_ATTEMPTS = 8  # then the message falls back to the log channel


def enqueue(outbox: OutboxRepository, recipient: str, message: Message, now: datetime) -> int:
    return outbox.add(
        recipient=recipient, kind=message.kind.value, text=message.text,
        booking_id=message.booking_id, now=now,
        actions=[dict(a) for a in message.actions],
    )


class OutboxSender:
    def __init__(
        self, *, uow: Callable[[], SchedulerUnitOfWork], passwords: PasswordDeriver,
        notifiers: Sequence[tuple[str, Notifier]], fallback: tuple[str, Notifier],
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._passwords = passwords
        self._notifiers = list(notifiers)
        self._fallback = fallback
        self._clock = clock
        self._lock = threading.Lock()  # one flush at a time: no message sent twice

    def flush(self, limit: int = 200) -> int:
        """Send every due message; returns how many were sent."""
        with self._lock:
            with self._uow() as uow:
                items = uow.outbox.due(self._clock(), limit)
            return sum(self._send(item) for item in items)

    def _send(self, item: OutboxItem) -> bool:
        with self._uow() as uow:
            # A recipient is an account name, or a chat user (`slack:U123`, see
            # core/domain/account_names.py), e.g. one an admin just unlinked.
            account = uow.accounts.get(item.recipient) or recipient_account(item.recipient)
            booking = (uow.bookings.get(item.booking_id)
                       if item.booking_id is not None and PASSWORD_PLACEHOLDER in item.text
                       else None)
        message = Message(
            kind=MessageKind(item.kind),
            text=self._passwords.render(item.text, booking),
            booking_id=item.booking_id,
            actions=tuple(item.actions),
        )
        errors = []
        for name, notifier in self._notifiers:
            try:
                if notifier.deliver(account, message):
                    return self._mark_sent(item, name)
            except Exception as exc:  # a chat outage must not stop the outbox
                log.warning("%s could not deliver message %d: %s", name, item.id, exc)
                errors.append(f"{name}: {exc}")
        if errors and item.attempts + 1 < MAX_CHAT_ATTEMPTS:
            delay = timedelta(seconds=min(5 * 2**item.attempts, 600))
            with self._uow() as uow:
                uow.outbox.mark_attempt(item.id, "; ".join(errors), self._clock() + delay)
                uow.commit()
            return False
        name, notifier = self._fallback
        # The fallback is the service's log: never the password there.
        notifier.deliver(account, replace(
            message, text=self._passwords.withhold(item.text, item.booking_id)))
        return self._mark_sent(item, name)

    def _mark_sent(self, item: OutboxItem, channel: str) -> bool:
        with self._uow() as uow:
            uow.outbox.mark_sent(item.id, self._clock(), channel)
            uow.commit()
        log.info("sent %s message %d to %s via %s", item.kind, item.id, item.recipient, channel)
        return True
