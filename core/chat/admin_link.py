"""An admin links a chat user to an account (made if new).

When the link belongs to someone else now, nothing moves: the view says what would
change and carries an action (`Link bob to slack user UDAVE`) whose confirm question
names both accounts. Its command states what the question was about (`seen:` a short
digest of whom the link would be taken from), so a press moves the link only while
that is still so, and once: a second press finds the link made and answers with it; a
press after someone else changed the links asks again about what is there now.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from core.chat.actions import Action
from core.chat.admin_views import AdminView, ChatUser, Line, Name
from core.domain.model import LinkConflict
from core.services.booking import BookingService

LINK_VERB = "link"
_COMMAND = re.compile(
    r"^link (?P<platform>slack|discord):(?P<user>[A-Za-z0-9]{1,32}) (?P<lab>\S{1,64})"
    r"(?P<admin> admin)? seen:(?P<seen>[0-9a-f]{8})$"
)
EXPIRED = "This button no longer says whom to link; run the link command again."


@dataclass(frozen=True)
class LinkPress:
    """What a pressed link action asks for, read back from its command alone."""

    user: ChatUser
    lab_id: str
    admin: bool
    seen: str  # the digest of the conflict its question was about

    @property
    def label(self) -> str:
        return link_label(self.lab_id, self.user)


def link(
    service: BookingService, lab_id: str, user: ChatUser, *, again: Line, display_name: str = "",
    admin: bool = False, confirm: bool = False, seen: str | None = None,
) -> AdminView:
    """Link a chat user to an account (made if new). Moving a link that belongs to someone
    else happens only with `confirm` (typed), or `seen` (a press of this view's action)
    while the link belongs to whom its question named; otherwise the view says what would
    change, how to do it by hand (`again`) and carries the action that does it."""
    try:
        account = service.add_account(
            lab_id, admin=admin, display_name=display_name, confirm=confirm,
            **{f"{user.platform}_id": user.user_id},
        )
    except LinkConflict as conflict:
        if seen is not None and seen == _digest(conflict):
            return link(service, lab_id, user, again=again, display_name=display_name,
                        admin=admin, confirm=True)
        return AdminView((conflict.message, " To do it, ", *again),
                         actions=(link_action(conflict, admin),))
    role = " (admin)" if service.is_admin(account) else ""
    return AdminView((user, " is linked to ", Name(account.name), f"{role}."))


def link_action(conflict: LinkConflict, admin: bool = False) -> Action:
    """The button that moves the link `conflict` is about, after asking."""
    platform, chat_id, lab = conflict.platform, conflict.chat_id, conflict.account
    command = (f"{LINK_VERB} {platform}:{chat_id} {lab}" + (" admin" if admin else "")
               + f" seen:{_digest(conflict)}")
    return Action(link_label(lab, ChatUser(platform, chat_id)), command, "danger", LINK_VERB,
                  None, link_question(conflict))


def link_label(lab_id: str, user: ChatUser) -> str:
    return f"Link {lab_id} to {user.platform} user {user.user_id}"


def link_question(conflict: LinkConflict) -> str:
    """What to ask before moving a link: both accounts, and who loses what."""
    who = f"{conflict.platform.capitalize()} user"
    lost = []
    if conflict.current_chat_id is not None:
        lost.append(f"{who} {conflict.current_chat_id} is unlinked from {conflict.account}")
    if conflict.current_account is not None:
        lost.append(f"{conflict.current_account} loses {who} {conflict.chat_id}")
    return (f"Link {who} {conflict.chat_id} to {conflict.account}? " + " and ".join(lost)
            + "; both are told.")


def parse_link(command: str) -> LinkPress | None:
    """The link a pressed action's command asks for, or None if it is not one."""
    found = _COMMAND.match(command.strip())
    if found is None:
        return None
    return LinkPress(ChatUser(found["platform"], found["user"]), found["lab"],
                     bool(found["admin"]), found["seen"])


def _digest(conflict: LinkConflict) -> str:
    """Whom the link would be taken from, in eight hex digits (buttons keep short strings)."""
    taken = f"{conflict.current_chat_id or '-'}|{conflict.current_account or '-'}"
    return hashlib.sha256(taken.encode()).hexdigest()[:8]
