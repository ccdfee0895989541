"""One list of verbs (issue 10, item 6): every verb in core.chat.actions.VERBS is in the
help, and its usage, typed as help shows it, is understood by the conversation engine."""

from __future__ import annotations

import pytest

from core.chat.actions import VERBS, Verb
from core.chat.conversation import ConversationEngine
from core.domain.model import Status
from core.domain.passwords import PasswordDeriver
from tests.factories import fake_service


def test_help_shows_every_verb_once() -> None:
    service, _store = fake_service()
    [reply] = ConversationEngine(service).handle(service.account("bob"), "help")
    for verb in VERBS:
        assert reply.text.count(f"  {verb.usage} ") == 1, verb.usage


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v.name)
def test_each_verb_typed_as_help_shows_it_is_understood(verb: Verb) -> None:
    service, store = fake_service()
    deriver = PasswordDeriver(b"0123456789abcdef0123")
    engine = ConversationEngine(service, passwords=lambda: deriver)
    bob = service.account("bob")
    engine.handle(bob, "book 1 gpu now 1-day")
    store.bookings[1].status = Status.RUNNING
    typed = verb.usage.replace(" N", " 1")

    replies = engine.handle(bob, typed)

    said = " ".join(r.text for r in replies)
    assert replies and "I did not understand" not in said, (typed, said)
    assert "Which booking?" not in said, (typed, said)
