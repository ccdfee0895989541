"""Accounts as a hostile member would try them: names that become host folders,
squatting with open registration, moving chat links, limits lowered mid-booking,
and what `cancel N` tells about other people's bookings."""

from __future__ import annotations

import pytest

from core.domain.account_names import check_account_name, is_account_name, recipient_account
from core.domain.model import ErrorCode, LinkConflict, Refusal, Resources
from core.services.capacity import BookingRequest
from tests.factories import fake_service

BAD_NAMES = [".", "..", "../root", "a/b", "/", "a\x00b", "", "-x", "_x", ".hidden", "a..b",
             "Alice", "r1192 2001", "x" * 33, "bob\n", "émile", "a:b"]


@pytest.mark.parametrize("name", ["r11922001", "bob", "b.o_b-2", "x" * 32, "0"])
def test_a_lab_id_may_be_lowercase_letters_digits_and_three_marks(name: str) -> None:
    assert check_account_name(name) == name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_that_are_not_plain_folder_names_are_refused_saying_what_works(name: str) -> None:
    assert not is_account_name(name)
    with pytest.raises(Refusal) as caught:
        check_account_name(name)
    assert caught.value.code == ErrorCode.BAD_INPUT
    assert caught.value.message.endswith(
        "cannot be an account name; use 1 to 32 characters: lowercase letters, digits, `_`, "
        "`.` and `-`, starting with a letter or digit, without `..` (for example r11922001).")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_an_admin_cannot_add_or_link_an_account_with_such_a_name(name: str) -> None:
    service, store = fake_service()
    before = dict(store.accounts)
    for attempt in (lambda: service.add_account(name),
                    lambda: service.add_account(name, slack_id="U9", confirm=True),
                    lambda: service.add_account(name, discord_id="99", admin=True)):
        with pytest.raises(Refusal, match="cannot be an account name"):
            attempt()
    assert store.accounts == before


def test_the_first_local_admin_is_checked_too() -> None:
    service, store = fake_service(members=())
    with pytest.raises(Refusal, match="cannot be an account name"):
        service.ensure_local_admin("..")
    assert store.accounts == {}


@pytest.mark.parametrize(
    ("platform", "handle", "expected"),
    [
        ("slack", "Dora", "slack-dora"),
        ("slack", "..", "slack-u0dora"),  # nothing usable in the handle: the chat id
        ("slack", "../../etc", "slack-etc"),
        ("discord", "a/b\x00c", "discord-a-b-c"),
        ("discord", "x.." + "y" * 40, "discord-x.yyyyyyyyyyyyyyyyyy"),
        ("slack", "", "slack-u0dora"),
        ("slack", "Dora Smith", "slack-dora-smith"),
    ],
)
def test_a_self_registered_account_is_named_after_the_chat_handle_with_a_prefix(
    platform: str, handle: str, expected: str,
) -> None:
    service, _ = fake_service(booking={"registration": "open"})
    account = service.chat_account(platform, "U0DORA", handle)
    assert account.name == expected
    assert is_account_name(account.name)


def test_self_registration_never_takes_a_lab_id_a_configured_name_or_a_members_name() -> None:
    # The squatter's Slack handle is the real member's lab id; config names slack-eve.
    service, store = fake_service(
        booking={"registration": "open"}, admins=["alice", "slack-eve"],
        limits={"users": {"slack-mallory": {"gpus": 4}}},
    )
    squatter = service.chat_account("slack", "USQUAT", "r11922001")
    assert squatter.name == "slack-r11922001"
    assert "r11922001" not in store.accounts
    assert service.chat_account("slack", "UEVE", "eve").name == "slack-eve2"
    assert service.chat_account("slack", "UMAL", "mallory").name == "slack-mallory2"
    assert not service.is_admin(store.accounts["slack-eve2"])
    # Later the admin adds the real member: a new account, the squatter's is untouched.
    real = service.add_account("r11922001", slack_id="UREAL")
    assert (real.name, real.slack_id) == ("r11922001", "UREAL")
    assert store.accounts["slack-r11922001"].slack_id == "USQUAT"


def test_moving_a_link_from_another_chat_user_needs_confirmation() -> None:
    service, store = fake_service()
    service.add_account("bob", slack_id="UBOB")
    with pytest.raises(LinkConflict) as caught:
        service.add_account("bob", slack_id="USQUAT")
    assert caught.value.message == (
        "`bob` is linked to slack user UBOB now; linking it to slack user USQUAT unlinks UBOB. "
        "Both are told when you confirm.")
    assert store.accounts["bob"].slack_id == "UBOB"
    assert service.add_account("bob", slack_id="USQUAT", confirm=True).slack_id == "USQUAT"
    assert store.accounts["bob"].slack_id == "USQUAT"


def test_moving_a_chat_user_from_another_account_needs_confirmation() -> None:
    service, store = fake_service()
    service.add_account("bob", discord_id="42")
    with pytest.raises(LinkConflict) as caught:
        service.add_account("carol", discord_id="42")
    assert caught.value.message == (
        "discord user 42 is linked to `bob` now; linking it to `carol` unlinks it from `bob`. "
        "Both are told when you confirm.")
    assert (store.accounts["bob"].discord_id, store.accounts["carol"].discord_id) == ("42", None)
    service.add_account("carol", discord_id="42", confirm=True)
    assert (store.accounts["bob"].discord_id, store.accounts["carol"].discord_id) == (None, "42")
    # Linking again to the same chat user is no conflict.
    assert service.add_account("carol", discord_id="42").discord_id == "42"


def test_a_chat_address_reaches_only_that_chat_user() -> None:
    slack = recipient_account("slack:UOLD")
    assert (slack.slack_id, slack.discord_id) == ("UOLD", None)
    discord = recipient_account("discord:1234")
    assert (discord.slack_id, discord.discord_id) == (None, "1234")
    plain = recipient_account("bob")
    assert (plain.name, plain.slack_id, plain.discord_id) == ("bob", None, None)


def test_lowered_limits_stop_extending_a_booking_above_them() -> None:
    service, store = fake_service()
    booking = service.book(BookingRequest("bob", Resources(8, 32, 2), "now", "1-day"))
    service.set_limits("bob", {"gpus": "1", "cpus": "4"})
    with pytest.raises(Refusal) as caught:
        service.extend(booking.id or 0, "1-day", actor="bob")
    assert caught.value.code == ErrorCode.OVER_LIMIT
    assert caught.value.message == (
        f"Booking #{booking.id} holds cpus=8 memory=32 gpus=2, more than your maximum now "
        "(cpus=4 memory=32 gpus=1), so it cannot be extended; when it ends, book again "
        "within your maximum.")
    assert store.bookings[booking.id or 0].end == booking.end
    service.set_limits("bob", {"gpus": "2", "cpus": "8"})
    assert service.extend(booking.id or 0, "1-day", actor="bob").end > booking.end


def test_someone_elses_booking_is_answered_like_one_that_does_not_exist() -> None:
    service, _ = fake_service()
    booking = service.book(BookingRequest("bob", Resources(1, 1, 0), "now", "1-day"))
    answers = []
    for booking_id in (booking.id or 0, 999):
        for action in (lambda i: service.cancel(i, actor="carol"),
                       lambda i: service.extend(i, "1-day", actor="carol"),
                       lambda i: service.restart(i, actor="carol"),
                       lambda i: service.get(i, actor="carol")):
            with pytest.raises(Refusal) as caught:
                action(booking_id)
            answers.append((caught.value.code, caught.value.message.replace(str(booking_id), "N")))
    assert set(answers) == {(ErrorCode.NOT_FOUND, "There is no booking #N of yours; `list` shows yours.")}
