"""Accounts through Slack: self-registration that cannot squat a lab id, an admin's
link that asks before moving it (and tells both people), and `/capacity limits`
that tells a member nothing about other people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from core.domain.passwords import PasswordDeriver
from core.services.accounts import utcnow
from core.services.outbox import OutboxSender
from core.services.ports import SchedulerUnitOfWork
from storage.uow import SqlUnitOfWork
from tests.slack.conftest import ALICE, BOB, CAROL
from tests.slack.harness import SlackWorld, slack_world


def _replies(world: SlackWorld, count: int) -> list[str]:
    return [c.args["text"] for c in world.api.wait_for("response_url", count=count)]


def test_a_member_learns_nothing_about_other_peoples_accounts(world: SlackWorld):
    for target in (f"<@{CAROL}|carol>", "<@UNOBODY|nobody>", "carol", "nobody"):
        world.slack.command(BOB, "/capacity", f"limits {target}")
    answers = _replies(world, 4)
    assert len(set(answers)) == 1
    assert answers[0].startswith("That needs an admin (alice)")
    world.slack.command(BOB, "/capacity", f"limits <@{BOB}|bob>")
    assert _replies(world, 5)[4] == "bob may book up to cpus=8 memory=32 gpus=1."


def test_an_admin_link_that_would_move_an_account_asks_first_and_tells_both(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> bob")
    [asked] = _replies(world, 1)
    assert asked == (
        "`bob` is linked to slack user UBOB now; linking it to slack user UDAVE unlinks UBOB. "
        "Both are told when you confirm. To do it, send `/capacity link <@UDAVE> bob confirm`.")
    service = world.booking.service
    assert service.account("bob").slack_id == BOB

    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> bob confirm")
    assert _replies(world, 2)[1] == "<@UDAVE> is linked to bob."
    assert service.account("bob").slack_id == "UDAVE"

    engine, server_id = world.booking.engine, world.booking.server_id
    assert engine is not None
    OutboxSender(
        uow=cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id)),
        passwords=PasswordDeriver(b"0123456789abcdef0123"),
        notifiers=[("slack", world.adapter.notifier)], fallback=("slack", world.adapter.notifier),
        clock=utcnow,
    ).flush()
    posted = {c.args["channel"]: c.args["text"] for c in world.api.of("chat.postMessage")}
    assert posted["DUDAVE"].startswith("An admin linked you to the booking account `bob`.")
    assert posted["DUBOB"].startswith(
        "An admin linked the booking account `bob` to another slack user; you are no longer "
        "linked to it.")


def test_an_admin_cannot_link_a_name_that_is_not_a_plain_lab_id(world: SlackWorld):
    world.slack.command(ALICE, "/capacity", "link <@UDAVE|dave> ..")
    [refused] = _replies(world, 1)
    assert "cannot be an account name; use 1 to 32 characters" in refused
    assert [a.name for a in world.booking.service.accounts()] == ["alice", "bob", "carol"]


def test_a_self_registered_slack_user_gets_a_prefixed_name_not_a_lab_id(tmp_path: Path):
    with slack_world(tmp_path, booking={"registration": "open"}) as world:
        world.slack.command("UR11922001", "/capacity", "limits")  # Slack handle: ur11922001
        assert _replies(world, 1)[0].startswith("slack-ur11922001 may book up to")
        assert [a.name for a in world.booking.service.accounts()] == ["slack-ur11922001"]
