"""The conversation engine every chat adapter shares.

`handle(account, text)` returns replies. Its state lives in the database
(the unit of work's conversation store), so a restart in the middle of a
conversation loses nothing. A booking request is completed one question at a
time in the old CLI's order: capability, then start, then end.

Replies may carry actions: each is a command the member could type; adapters
render them as buttons whose click sends that command back here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from core.chat.actions import (
    VERB_WORDS,
    Action,
    confirm_question,
    normalise,
    parse_press,
    verb_of,
)
from core.chat.booking_requests import BookingRequests
from core.chat.calendar_feed import calendar_line
from core.chat.messages import HELP, Reply
from core.domain.model import Account, Refusal

log = logging.getLogger(__name__)

_ABANDON = {"abort", "stop", "quit", "exit", "never mind", "nevermind", "reset", "forget it"}
# The words the engine knows first on a line (core.chat.actions.VERBS, and the words that
# drop a request); adapters that pass text through (Slack's `/book ...`) use this list too.
VERBS = (*VERB_WORDS, *sorted(_ABANDON))
_COMMAND = re.compile(
    r"^(" + "|".join(re.escape(w) for w in VERB_WORDS) + r")\b\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Control characters (NUL, ESC...) in a member's text: dropped before anything reads it;
# PostgreSQL stores no NUL, and none of them belongs in a message to someone else.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Verbs whose press changes a booking, so the message that carried the button is redrawn.
_CHANGES = frozenset({"cancel", "end", "extend", "restart", "book", "keep"})
# A thanks or a greeting gets a short answer, not the whole help.
_SMALL_TALK = {
    **dict.fromkeys(("thanks", "thank you", "thx", "ty", "cheers"),
                    "You're welcome. Say `list` to see your bookings."),
    **dict.fromkeys(("hi", "hello", "hey"),
                    "Hello! Say `book 1 gpu now 1-day` to book, `list` for your bookings, "
                    "`help` for everything."),
}


def booking_actions(booking_id: int, running: bool = False) -> tuple[Action, ...]:
    """Deprecated (for adapters not yet moved): use core.chat.actions.booking_actions,
    which names the booking's end and offers login. These still name their booking."""
    if running:
        stop = Action(f"End #{booking_id} now", f"end {booking_id}", "danger", "end", booking_id,
                      confirm_question("end", booking_id))
    else:
        stop = Action(f"Cancel #{booking_id}", f"cancel {booking_id}", "danger", "cancel",
                      booking_id, confirm_question("cancel", booking_id))
    extend = Action(f"Extend #{booking_id} 1 day", f"extend {booking_id} 1-day", "", "extend",
                    booking_id)
    if running:
        return (stop, extend, Action(f"Restart #{booking_id}", f"restart {booking_id}", "",
                                     "restart", booking_id, confirm_question("restart", booking_id)))
    return (stop, extend)


@dataclass(frozen=True)
class Pressed:
    """The outcome of a button press.

    `update`: what the message that carried the button shows now (the outcome, and the
    actions that are possible now), to replace it in place; None leaves it as it is.
    `replies`: answers to the member besides (a private login, a refusal)."""

    update: Reply | None
    replies: list[Reply]


class ConversationEngine(BookingRequests):
    """The one conversation every surface renders: routing of a message or a press.
    Booking verbs are in booking_verbs.py, requests in booking_requests.py, the state
    in engine_base.py."""


    def handle(self, account: Account, text: str) -> list[Reply]:
        text = normalise(_CONTROLS.sub("", text))
        state = self._load(account)
        try:
            replies, state = self._dispatch(account, text, state)
        except Refusal as refusal:
            replies = [Reply(refusal.message)]
        except Exception:
            # The member gets an answer whatever broke; the admins get the trace.
            log.exception("conversation with %s failed on %r", account.name, text)
            return [Reply("Something went wrong on our side; nothing was booked or changed. "
                          "The admins can see the details in the service log.")]
        self._save(account, state)
        return replies

    def _dispatch(
        self, account: Account, text: str, state: dict[str, Any]
    ) -> tuple[list[Reply], dict[str, Any]]:
        lowered = text.lower().rstrip(".!")
        if not text:
            return [Reply("Say `help` to see what I understand.")], state
        if lowered in _ABANDON or (lowered == "cancel" and state.get("step")):
            return [Reply("OK, I forgot that request. Say `book` to start again.")], {}
        command = _COMMAND.match(text)
        if state.get("step") and (command is None or self._is_answer(command)):
            return self._answer(account, text, state)
        if lowered in _SMALL_TALK:
            return [Reply(_SMALL_TALK[lowered])], state
        if command is None:
            return [Reply(f"I did not understand `{text[:80]}`.\n{HELP}")], state
        verb = verb_of(command.group(1))
        name, rest = (verb.name if verb else "book"), command.group(2).strip()
        if name == "help":
            return [Reply(HELP)], state
        if name == "list":
            return [self._list(account)], state
        if name in ("cancel", "end"):
            return [self._cancel(account, rest)], state
        if name in ("key", "keys", "timezone"):
            return [self._settings(account, name, rest)], state
        if name == "extend":
            return [self._extend(account, rest)], state
        if name == "restart":
            return [self._restart(account, rest)], state
        if name == "login":
            return [self._login(account, rest)], state
        if name in ("notify", "waitlist"):
            return self._waitlist_verb(account, name, rest, state)
        if name == "keep":
            return [self._keep(account, rest)], state
        if name == "calendar":
            return [self._calendar(account)], state
        return self._start_request(account, rest)

    def press(self, account: Account, command: str, *, in_list: bool = False) -> Pressed:
        """A button press: `command` is the action's, `in_list` when the message that carried
        the button showed several bookings (the update then shows them all again).

        A press acts on the current state, once: a press whose target is reached, or whose
        booking is over, answers with the booking's state and changes nothing."""
        action = parse_press(command)
        if action.verb == "restart" and re.fullmatch(r"\s*\S+\s+#?\d{1,18}\s*", command):
            # A Restart button from before buttons stated their target: it asked for the
            # first restart, so it restarts only a container never restarted yet.
            command = f"{command.strip()} after 0"
        replies = self.handle(account, command)
        if action.verb not in _CHANGES or not replies or self._refused_target(replies[0]):
            return Pressed(None, replies)
        head, rest = replies[0], replies[1:]
        if action.booking_id is not None and not in_list:
            head = Reply(head.text, self._actions_now(account, action.booking_id), head.private)
        if in_list:
            listing = self._list(account)
            head = Reply(f"{head.text}\n\n{listing.text}", (), cards=listing.cards)
        return Pressed(head, rest)

    @staticmethod
    def _refused_target(reply: Reply) -> bool:
        """Someone else's booking (answered as a missing one): their message stays as it is."""
        return reply.text.startswith("There is no booking #")

    def _calendar(self, account: Account) -> Reply:
        """`calendar`: the member's feed link (and an admin's of the whole server)."""
        if self.calendar_link is None:
            return Reply("Calendar feeds are not served here; an admin can turn them on "
                         "(BOOKING_HTTP_PORT for `booking serve`).", private=True)
        link = self.calendar_link(account.name)
        text = calendar_line(link)
        if self._service.is_admin(account):
            server = link.removesuffix(".ics") + "/server.ics"
            text += f"\nThe whole server's bookings, everyone's (admins): {server}"
        return Reply(text, private=True)

    def _settings(self, account: Account, verb: str, rest: str) -> Reply:
        """`key <public key>`, `keys`, `keys clear`, `timezone Asia/Taipei`."""
        if verb == "timezone":
            if not rest:
                zone = self._service.zone_of(account)
                return Reply(f"Your times are shown in {zone}. Change it with `timezone Europe/Berlin`.")
            self._service.update_member(account.name, timezone=rest)
            return Reply(f"From now on your times are shown in {rest}.")
        if verb == "key" and rest:
            updated = self._service.update_member(account.name, add_ssh_key=rest)
            count = len(updated.ssh_keys.splitlines())
            return Reply(f"Key saved ({count} in all); your next container accepts it for SSH login.")
        if rest.lower() == "clear":
            self._service.update_member(account.name, ssh_keys="")
            return Reply("Your SSH keys are removed; log in with the password from my message.")
        keys = self._service.account(account.name).ssh_keys.splitlines()
        if not keys:
            return Reply("You have no SSH keys here. Add one with `key ssh-ed25519 AAAA... you@laptop`.")
        shown = "\n".join(f"- {k.split()[0]} ...{k.split()[1][-12:]} {' '.join(k.split()[2:])}" for k in keys)
        return Reply(f"Your SSH keys:\n{shown}\n`keys clear` removes them.")
