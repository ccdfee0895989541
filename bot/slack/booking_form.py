"""Opening the booking form (`/book` alone, the App Home's *Book* button).

A trigger lasts three seconds, so the form opens first with nothing in it, and is
filled once the member's profile and limits are read. Where Slack will not open it
(the trigger expired), the member is told how to book in one line instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import escape
from bot.slack.context import SlackContext
from bot.slack.modal import LOADING, booking_modal, notice_modal
from core.chat.actions import VERBS
from core.chat.messages import Reply
from core.domain.model import Refusal

log = logging.getLogger(__name__)

_ONE_LINER = next(verb.usage for verb in VERBS if verb.name == "book")
FORM_DID_NOT_OPEN = (
    "Slack did not let me open the booking form in time. Book in one line instead, "
    f"e.g. `/book {_ONE_LINER.removeprefix('book ')}` (`/book help` shows more), "
    "or try `/book` again."
)


def open_booking_form(slack: SlackContext, user_id: str, trigger_id: str, client: WebClient,
                      tell: Callable[[Sequence[Reply]], None]) -> None:
    """`tell`: how to reach the member when the form cannot open."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=LOADING)
    except SlackApiError as error:
        log.warning("views.open for %s failed: %s", user_id, error.response.get("error"))
        tell([Reply(FORM_DID_NOT_OPEN)])
        return
    try:
        account = slack.members.account(user_id)
        view = booking_modal(slack.service, slack.engine, account)
    except Refusal as refusal:
        view = notice_modal(escape(refusal.message))
    try:
        client.views_update(view_id=opened["view"]["id"], view=view)
    except SlackApiError as error:  # closed meanwhile, most likely
        log.info("views.update of the booking form failed: %s", error.response.get("error"))
