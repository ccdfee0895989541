"""The engine's waitlist verbs: `notify me [auto]` after a refusal for lack of room (or its
button, which carries the whole request), `waitlist` and `waitlist clear`."""

from __future__ import annotations

import re
from typing import Any

from core.chat import waitlist_words as words
from core.chat.actions import split_extras
from core.chat.engine_base import EngineBase
from core.chat.messages import Reply
from core.domain import waitlist_match
from core.domain.model import Account, ErrorCode, Refusal, Resources
from core.domain.request_text import parse_request
from core.domain.server_words import split_server

# Refusals a member may wait out: not enough free then (maintenance included), a port taken.
WAITABLE = frozenset({ErrorCode.NO_CAPACITY, ErrorCode.PORT_TAKEN})
_NOTIFY = re.compile(r"^(?:me\b)?\s*(auto\b)?\s*(.*)$", re.IGNORECASE | re.DOTALL)


class WaitlistVerbs(EngineBase):
    def _waitlist_verb(
        self, account: Account, verb: str, rest: str, state: dict[str, Any]
    ) -> tuple[list[Reply], dict[str, Any]]:
        zone = self._service.zone_of(account)
        if verb == "waitlist":
            if rest.lower() == "clear":
                return [Reply(words.cleared(self._service.clear_waitlist(account.name)))], state
            if rest:
                raise Refusal(ErrorCode.BAD_INPUT,
                              "Say `waitlist` to see what you wait for, `waitlist clear` to drop it.")
            if not self._pooled:
                return [Reply(words.listing(self._service.waitlist(account.name), zone))], state
            waiting = [(name, entry) for name, server in self._service.servers().items()
                       for entry in server.waitlist(account.name)]
            return [Reply(words.listing([e for _n, e in waiting], zone,
                                        [n for n, _e in waiting]))], state
        found = _NOTIFY.match(rest)
        assert found is not None  # every text matches
        auto, request = bool(found.group(1)), found.group(2).strip() or state.get("notify", "")
        if not request:
            raise waitlist_match.nothing_refused()
        text, image, command = split_extras(request)
        try:
            text, server = split_server(text, self._service.config.server_names)
            parsed = parse_request(text)
        except ValueError as exc:
            raise Refusal(ErrorCode.BAD_INPUT, f"{exc}. Say `notify me` right after a refusal.") from None
        cpus, memory, gpus, start, end = (parsed.cpus, parsed.memory, parsed.gpus, parsed.start,
                                          parsed.end)
        if cpus is None or memory is None or gpus is None or start is None or end is None:
            raise waitlist_match.nothing_refused()
        entry, fits = self._service.on(server).join_waitlist(
            account.name, Resources(cpus, memory, gpus), start, end, auto=auto, image=image,
            command=command)
        if fits is not None:
            take = words.book_it(entry, fits, zone, server if self._pooled else None)
            return [Reply(words.fits_now(entry, fits, zone), (take,))], {}
        waits_on = (server or self._service.on(None).config.server.name) if self._pooled else None
        return [Reply(words.joined(entry, zone, waits_on))], {}

    def _notify_offer(
        self, account: Account, draft: dict[str, Any], end: str, refusal: Refusal
    ) -> tuple[str, dict[str, str], tuple[Any, ...]]:
        """For a refusal the member may wait out: the hint, the request remembered for a typed
        `notify me`, and its buttons (each carrying the whole request); else nothing."""
        if refusal.code not in WAITABLE or "resources" not in draft or "start" not in draft:
            return "", {}, ()
        try:
            window = self._service.parse_window(account, draft["start"], end)
        except Refusal:
            return "", {}, ()
        request = words.notify_command(
            Resources(*draft["resources"]), draft["start"], window, self._service.zone_of(account),
            image=draft.get("image"), command=draft.get("command"),
            server=draft.get("server") if self._pooled else None,
        ).removeprefix("notify me ")
        return words.NOTIFY_HINT, {"notify": request}, (words.notify_action(request),)
