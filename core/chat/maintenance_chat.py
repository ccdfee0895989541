"""`/capacity maintenance ...` in chat, for an admin (the CLI's `booking maintenance`):

    /capacity maintenance                          the windows to come
    /capacity maintenance add START to END [gpus 0,1] reason TEXT
    /capacity maintenance add yes START to ...     the same, added (after the preview)
    /capacity maintenance rm N

`add` without `yes` only shows the bookings the window meets, and the line that adds it.
"""

from __future__ import annotations

import re

from core.chat.maintenance_words import added_text, plan_text, removed_text, windows_text
from core.domain.model import Account, ErrorCode, Refusal
from core.services.booking import BookingService

CHAT = "/capacity maintenance"
MAINTENANCE_HELP = ("`/capacity maintenance add START to END [gpus 0,1] reason TEXT`: take the "
                    "server (or those GPUs) out of booking; `/capacity maintenance` lists the "
                    "windows, `/capacity maintenance rm N` removes one")

_ADD = re.compile(r"^(?P<yes>yes\s+)?(?P<start>.+?)\s+to\s+(?P<end>.+?)"
                  r"(?:\s+gpus?\s+(?P<gpus>[\d,\s]+?))?\s+reason\s+(?P<reason>.+)$",
                  re.IGNORECASE | re.DOTALL)


def capacity_maintenance(service: BookingService, account: Account, text: str) -> str:
    """The answer to `/capacity maintenance TEXT` (TEXT: what follows `maintenance`)."""
    if not service.is_admin(account):
        raise Refusal(ErrorCode.NOT_OWNER,
                      f"Maintenance windows need an admin ({service.admin_names()}).")
    verb, _, rest = text.strip().partition(" ")
    zone = service.zone_of(account)
    if verb.lower() in ("", "ls", "list"):
        return windows_text(service.maintenance_windows(actor=account.name), zone, CHAT)
    if verb.lower() == "rm" and rest.strip().lstrip("#").isdigit():
        removed = service.remove_maintenance(int(rest.strip().lstrip("#")), actor=account.name)
        return removed_text(removed, zone)
    asked = _ADD.match(rest.strip()) if verb.lower() == "add" else None
    if asked is None:
        raise Refusal(ErrorCode.BAD_INPUT, f"I did not understand `{text.strip()[:80]}`. "
                                           f"{MAINTENANCE_HELP}.")
    start, end, gpus, reason = asked.group("start", "end", "gpus", "reason")
    if asked.group("yes") is None:
        plan = service.plan_maintenance(start, end, gpus, reason, actor=account.name)
        again = f"{CHAT} add yes {rest.strip()}"
        if plan.affected:
            return plan_text(plan, zone, f"To add it and tell them: `{again}`")
    added = service.add_maintenance(start, end, gpus, reason, actor=account.name)
    return added_text(added, zone, CHAT)
