"""The `/book` modal's submission: field errors in the acknowledgement, the booking after."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.slack.context import post_replies, slack_of
from bot.slack.modal import read_submission
from core.chat.messages import Reply
from core.domain.model import Refusal

log = logging.getLogger(__name__)


def check_modal(ack: Ack, view: dict[str, Any], context: dict[str, Any]) -> None:
    _, errors = read_submission(slack_of(context).service, view)
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def book_modal(body: dict[str, Any], view: dict[str, Any], client: WebClient,
               context: dict[str, Any]) -> None:
    """The core books the request, or offers the earliest start that fits (image and
    command kept), exactly as it does for a request typed in chat."""
    slack = slack_of(context)
    request, _ = read_submission(slack.service, view)
    if request is None:
        return  # the member saw the errors on the fields; the modal is still open
    user_id = body["user"]["id"]
    channel = slack.members.dm_channel(user_id)
    try:
        account = slack.members.account(user_id)
    except Refusal as refusal:
        post_replies(client, channel, [Reply(refusal.message)])
        return
    post_replies(client, channel, slack.engine.submit(account, replace(request, user=account.name)),
                 zone=slack.service.zone_of(account))
