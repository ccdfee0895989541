"""A member's SSH keys are bounded: every container start writes them all into the
container, so neither one key line nor the number of keys can grow without limit."""

from __future__ import annotations

import base64

from core.chat.conversation import ConversationEngine
from core.domain.member_settings import MAX_KEY_CHARS, MAX_KEYS_CHARS, MAX_SSH_KEYS
from tests.factories import fake_service


def _key(n: int) -> str:
    blob = base64.b64encode(b"\0\0\0\x0bssh-ed25519" + n.to_bytes(32, "big")).decode()
    return f"ssh-ed25519 {blob} key{n}@laptop"


def test_a_member_keeps_at_most_the_allowed_number_of_keys_and_is_told_what_to_do() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    for n in range(MAX_SSH_KEYS):
        [reply] = engine.handle(service.account("bob"), f"key {_key(n)}")
        assert reply.text.startswith(f"Key saved ({n + 1} in all)")

    [reply] = engine.handle(service.account("bob"), f"key {_key(MAX_SSH_KEYS)}")

    assert f"at most {MAX_SSH_KEYS} SSH keys" in reply.text and "`keys clear`" in reply.text
    assert len(store.accounts["bob"].ssh_keys.splitlines()) == MAX_SSH_KEYS


def test_a_whole_list_of_keys_over_the_limit_is_refused_and_nothing_changes() -> None:
    service, store = fake_service()
    many = "\n".join(_key(n) for n in range(10_000))
    try:
        service.update_member("bob", ssh_keys=many)
    except Exception as exc:  # a Refusal, with the words a member reads
        assert f"at most {MAX_SSH_KEYS} SSH keys" in str(exc)
    else:
        raise AssertionError("10,000 keys were accepted")
    assert store.accounts["bob"].ssh_keys == ""


def test_a_key_line_longer_than_any_public_key_is_refused_before_it_is_decoded() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    huge = "ssh-ed25519 " + "A" * (MAX_KEY_CHARS * 100)

    [reply] = engine.handle(service.account("bob"), f"key {huge}")

    assert f"a public key is at most {MAX_KEY_CHARS}" in reply.text
    assert store.accounts["bob"].ssh_keys == ""


def test_long_keys_are_refused_once_together_they_would_not_fit_the_account() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    long_comment = "x" * 7000
    for n in range(2):
        [reply] = engine.handle(service.account("bob"), f"key {_key(n)} {long_comment}")
        assert reply.text.startswith(f"Key saved ({n + 1} in all)")

    [reply] = engine.handle(service.account("bob"), f"key {_key(2)} {long_comment}")

    assert f"({MAX_KEYS_CHARS} characters in all)" in reply.text
    assert len(store.accounts["bob"].ssh_keys.splitlines()) == 2
