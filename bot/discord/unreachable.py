"""Members whose direct messages are closed (Discord error 50007), or that Discord
could not be reached for.

The service's messages to such a member are kept here, and shown to them (only
to them) the next time they use `/schedule` or press one of the bot's buttons.
The admins are told once per member, not once per message; a direct message
that gets through again clears the member's mark. A message that failed because
Discord was unreachable (the outbox tries it again, and after some ten minutes
gives up) is held until a try gets through; shown at an interaction first, the
next try counts as delivered rather than sending it twice.

Kept in memory: after a restart the member can still ask for a running
booking's login with `/schedule login`, and the outbox keeps every message's
text (without the password) in its log channel.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable

from bot.discord.outgoing import Outgoing

KEPT = 20  # messages kept per member; older ones give way
SHOWN = 200  # held messages remembered as shown, so their next try sends nothing


def closed_note(count: int) -> str:
    """What the member is told above the messages they missed."""
    messages = "a message" if count == 1 else f"{count} messages"
    return (f"I could not send you {messages} because your direct messages are closed, "
            "so here they are. To get them as direct messages, allow direct messages from "
            "this server's members (the server's name → Privacy Settings). "
            "`/schedule login` shows a running booking's login at any time.")


def unreachable_note(count: int) -> str:
    """What the member is told above the messages Discord could not take."""
    messages = "a message" if count == 1 else f"{count} messages"
    return (f"I could not send you {messages} as a direct message because Discord was "
            "unreachable, so here they are. `/schedule login` shows a running booking's "
            "login at any time.")


def admin_note(account: str, user_id: int, booking_id: int | None) -> str:
    """What the admins are told, once, when a member's direct messages are closed."""
    about = f" about booking #{booking_id}" if booking_id is not None else ""
    return (f"I cannot send direct messages to {account} (<@{user_id}>): their direct "
            f"messages are closed, so a message{about} did not reach them. They will see "
            "what they missed the next time they use /schedule; you may ask them to open "
            "their direct messages.")


class Undelivered:
    """Messages kept for members whose direct messages are closed; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[int, deque[Outgoing]] = {}
        self._reported: set[int] = set()
        self._held: dict[int, dict[Hashable, Outgoing]] = {}
        self._shown: deque[Hashable] = deque(maxlen=SHOWN)

    def keep(self, user_id: int, out: Outgoing) -> bool:
        """Keep `out` for the member; True when the admins have not been told about them."""
        with self._lock:
            self._kept.setdefault(user_id, deque(maxlen=KEPT)).append(out)
            first = user_id not in self._reported
            self._reported.add(user_id)
            return first

    def reached(self, user_id: int) -> None:
        """A direct message got through: should they close them again, the admins hear."""
        with self._lock:
            self._reported.discard(user_id)

    def hold(self, user_id: int, key: Hashable, out: Outgoing) -> None:
        """Sending `out` failed (Discord unreachable); show it should no try get through."""
        with self._lock:
            self._held.setdefault(user_id, {})[key] = out

    def release(self, user_id: int, key: Hashable) -> bool:
        """A new try of the message `key`: True when the member saw it already."""
        with self._lock:
            self._held.get(user_id, {}).pop(key, None)
            if key in self._shown:
                self._shown.remove(key)
                return True
            return False

    def take(self, user_id: int) -> list[Outgoing]:
        """What the member missed, each kind with its note first; nothing when they missed
        nothing."""
        with self._lock:
            missed = list(self._kept.pop(user_id, ()))
            held = self._held.pop(user_id, {})
            self._shown.extend(held)
        shown = [Outgoing(closed_note(len(missed))), *missed] if missed else []
        if held:
            shown += [Outgoing(unreachable_note(len(held))), *held.values()]
        return shown
