"""The `/book` modal's submission: field errors in the acknowledgement, the booking after."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.context import SlackContext, post_replies
from bot.slack.modal import CALLBACK_ID, read_submission
from core.conversation import booking_actions
from core.domain import Refusal
from core.messages import Action, Reply, booked
from core.service import BookingRequest

log = logging.getLogger(__name__)


def offer_command(request: BookingRequest, start: str, end: str) -> str:
    """A one-line request the conversation engine books as is: the offered window."""
    r = request.resources
    return f"book {r.cpus:g} cpus {r.memory}g {r.gpus} gpus {start} {end}"


def register(app: App, slack: SlackContext) -> None:
    def check(ack: Ack, view: dict[str, Any]) -> None:
        _, errors = read_submission(slack.service, view)
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def book(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        request, _ = read_submission(slack.service, view)
        if request is None:
            return  # the member saw the errors on the fields; the modal is still open
        user_id = body["user"]["id"]
        channel = slack.members.dm_channel(user_id)
        try:
            account = slack.members.account(user_id)
            request = replace(request, user=account.name)
            booking = slack.service.book(request)
        except Refusal as refusal:
            post_replies(client, channel, [refused(slack, request, refusal)])
            return
        zone = slack.service.zone_of(account)
        post_replies(client, channel, [Reply(booked(booking, zone),
                                             booking_actions(booking.id or 0))])

    app.view(CALLBACK_ID)(ack=check, lazy=[book])


def refused(slack: SlackContext, request: BookingRequest, refusal: Refusal) -> Reply:
    if refusal.earliest_start is None:
        return Reply(f"Not booked: {refusal.message}")
    service = slack.service
    account = service.account(request.user)
    zone = service.zone_of(account)
    duration = service.parse_window(account, request.start, request.end).duration
    start = refusal.earliest_start.astimezone(zone)
    end = (refusal.earliest_start + duration).astimezone(zone)
    command = offer_command(request, f"{start:%Y %m %d %H %M}", f"{end:%Y %m %d %H %M}")
    return Reply(f"Not booked: {refusal.message}",
                 (Action(f"Book from {start:%a %d %b %H:%M}", command, "primary"),))
