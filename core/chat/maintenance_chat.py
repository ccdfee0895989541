"""`/capacity maintenance ...` in chat, for an admin (the CLI's `booking maintenance`):

    /capacity maintenance                          the windows to come
    /capacity maintenance add START to END [gpus 0,1] reason TEXT
    /capacity maintenance add yes START to ...     the same, added (after the preview)
    /capacity maintenance rm N

`add` without `yes` only shows the bookings the window meets, and the line that adds it.
"""

from __future__ import annotations

import re

from core.chat.maintenance_words import added_text, plan_text, removed_text, windows_listing
from core.domain.model import Account, ErrorCode, Refusal
from core.services.booking import BookingService

CHAT = "/capacity maintenance"
MAINTENANCE_HELP = ("`/capacity maintenance add START to END [gpus 0,1] reason TEXT`: take the "
                    "server (or those GPUs) out of booking; `/capacity maintenance` lists the "
                    "windows, `/capacity maintenance rm N` removes one")

# Read in steps, each one linear: a single pattern with two lazy parts backtracked for
# minutes on `add to to to ...` without a `reason`.
_REASON = re.compile(r"\s+reason\s+", re.IGNORECASE)
_GPUS = re.compile(r"\s+gpus?\s+([0-9][0-9,\s]*)$", re.IGNORECASE)
_TO = re.compile(r"\s+to\s+", re.IGNORECASE)
_RM = re.compile(r"#?([0-9]{1,18})")
MAX_TEXT = 1000  # a reason (500 characters at most), two times and the GPU ids fit


def _add_parts(rest: str) -> tuple[bool, str, str, str | None, str] | None:
    """`[yes] START to END [gpus 0,1] reason TEXT` -> (yes, start, end, gpus, reason)."""
    yes = re.match(r"yes\s+", rest, re.IGNORECASE)
    body = rest[yes.end():] if yes else rest
    head, reason = [*_REASON.split(body, maxsplit=1), ""][:2]
    gpus = _GPUS.search(head)
    if gpus is not None:
        head = head[:gpus.start()]
    times = _TO.split(head, maxsplit=1)
    if len(times) != 2 or not all(part.strip() for part in (*times, reason)):
        return None
    return bool(yes), times[0], times[1], gpus.group(1).strip() if gpus else None, reason


def capacity_maintenance(service: BookingService, account: Account, text: str) -> str:
    """The answer to `/capacity maintenance TEXT` (TEXT: what follows `maintenance`)."""
    if not service.is_admin(account):
        raise Refusal(ErrorCode.NOT_OWNER,
                      f"Maintenance windows need an admin ({service.admin_names()}).")
    if len(text) > MAX_TEXT:
        raise Refusal(ErrorCode.BAD_INPUT, f"That is too long ({len(text)} characters; at most "
                                           f"{MAX_TEXT}). {MAINTENANCE_HELP}.")
    verb, _, rest = text.strip().partition(" ")
    zone = service.zone_of(account)
    if verb.lower() in ("", "ls", "list"):
        return windows_listing(service, actor=account.name, zone=zone, command=CHAT)
    number = _RM.fullmatch(rest.strip())
    if verb.lower() == "rm" and number is not None:
        return removed_text(service.remove_maintenance(int(number.group(1)), actor=account.name),
                            zone)
    asked = _add_parts(rest.strip()) if verb.lower() == "add" else None
    if asked is None:
        raise Refusal(ErrorCode.BAD_INPUT, f"I did not understand `{text.strip()[:80]}`. "
                                           f"{MAINTENANCE_HELP}.")
    yes, start, end, gpus, reason = asked
    if not yes:
        plan = service.plan_maintenance(start, end, gpus, reason, actor=account.name)
        again = f"{CHAT} add yes {rest.strip()}"
        if plan.affected:
            return plan_text(plan, zone, f"To add it and tell them: `{again}`")
    added = service.add_maintenance(start, end, gpus, reason, actor=account.name)
    return added_text(added, zone, CHAT)
