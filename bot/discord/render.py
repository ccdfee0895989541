"""How the service's words look in Discord: timestamps and Discord's limits.

Discord renders `<t:UNIX:F>` in each reader's own time zone, so times sent to
Discord carry no zone of ours.
"""

from __future__ import annotations

from datetime import datetime

MESSAGE_LIMIT = 2000  # characters in a message's content
LABEL_LIMIT = 80  # characters in a button label
CHOICE_LIMIT = 100  # characters in a choice's name and value


def stamp(moment: datetime, style: str = "F") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text cut to Discord's limit, saying so when something was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
