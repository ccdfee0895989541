"""The `/book` modal: field errors and a refusal shown in the modal, the booking after.

A submission is checked field by field at once. A valid one is booked while Slack waits
(at most `BOOK_WAIT_S`): a refusal then redraws the form with why and the earliest start
that fits (`response_action: update`); a booking closes it and is kept in the DMs. A
booking the database cannot make in time closes the form, and its answer, booked or
not, reaches the DMs when it is made.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import MAX_VIEW_BLOCKS, BlockList
from bot.slack.context import SlackContext, post_replies, slack_of
from bot.slack.modal import CALLBACK_ID, booking_modal, form_values, read_submission
from core.chat.messages import Reply
from core.domain.model import Account, Refusal

log = logging.getLogger(__name__)

BOOK_WAIT_S = 1.5  # of Slack's three seconds, what a submission waits for its booking
REFUSED = "Not booked: "  # how the core's form answer starts when it did not book
NOTICE = "notice"  # the block ids of what the form says on top after a refusal
_worker = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-modal")


class _Booking:
    """One submission's booking, made in the background; whoever is last posts it."""

    def __init__(self, slack: SlackContext, client: WebClient, user_id: str) -> None:
        self.slack, self.client, self.user_id = slack, client, user_id
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.late = False  # the modal closed before the booking was made: DM its answer
        self.account: Account | None = None
        self.replies: list[Reply] = []

    def make(self, view: dict[str, Any]) -> None:
        try:
            request, _ = read_submission(self.slack.service, view)
            assert request is not None
            self.account = self.slack.members.account(self.user_id)
            self.replies = self.slack.engine.submit(
                self.account, replace(request, user=self.account.name))
        except Refusal as refusal:
            self.replies = [Reply(refusal.message)]
        except Exception:
            log.exception("booking from the modal failed")
            self.replies = [Reply("Not booked: something went wrong; try again, or `/book` "
                                  "in one line.")]
        with self.lock:
            self.done.set()
            late = self.late
        if late:
            self.post()

    def post(self) -> None:
        zone = self.slack.service.zone_of(self.account) if self.account else None
        post_replies(self.client, self.slack.members.dm_channel(self.user_id), self.replies,
                     zone=zone)


def check_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                context: dict[str, Any]) -> None:
    slack = slack_of(context)
    _, errors = read_submission(slack.service, view)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    booking = _Booking(slack, client, body["user"]["id"])
    _worker.submit(booking.make, view)
    booking.done.wait(BOOK_WAIT_S)
    with booking.lock:
        if not booking.done.is_set():
            booking.late = True
            ack()
            return
    refused = booking.replies[0].text.startswith(REFUSED) and booking.account is not None
    if refused and booking.account is not None:
        ack(response_action="update", view=refused_form(slack, booking.account, view,
                                                        booking.replies))
        return
    ack()
    _worker.submit(booking.post)


def refused_form(slack: SlackContext, account: Account, view: dict[str, Any],
                 replies: list[Reply]) -> dict[str, Any]:
    """The form as submitted, with why it was not booked and the offer on top."""
    notice = BlockList(MAX_VIEW_BLOCKS - 12, slack.service.zone_of(account))
    for reply in replies:
        notice.add_reply(replace(reply, text=reply.text.removeprefix(REFUSED)))
    blocks = [*notice.blocks, {"type": "divider"}]
    for number, block in enumerate(blocks):
        block.setdefault("block_id", f"{NOTICE}:{number}")
    return booking_modal(slack.service, slack.engine, account, form_values(view), blocks)


def form_changed(body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """A field of the form changed: what is free for the window chosen so far, redrawn."""
    view = body.get("view") or {}
    if view.get("callback_id") != CALLBACK_ID:
        return
    slack = slack_of(context)
    try:
        account = slack.members.account(body["user"]["id"])
        notice = [b for b in view["blocks"] if str(b.get("block_id")).startswith(NOTICE)]
        redrawn = booking_modal(slack.service, slack.engine, account, form_values(view), notice)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=redrawn)
    except (Refusal, SlackApiError) as exc:  # a newer change redraws it anyway
        log.info("the booking form was not redrawn: %s", exc)
