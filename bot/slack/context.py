"""What every Slack listener needs: the core, the members, and ways to answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from slack_sdk import WebClient

from bot.bootstrap import App
from bot.slack.blocks import fallback_text, reply_blocks
from bot.slack.members import Members
from core.chat.conversation import ConversationEngine
from core.chat.messages import Reply
from core.services.booking import BookingService

Respond = Callable[..., Any]

# Where a listener finds our SlackContext in Bolt's `context` (put there by the app's
# middleware, or by a test calling a listener alone).
CONTEXT_KEY = "booking_slack"


@dataclass
class SlackContext:
    booking: App
    members: Members

    def __deepcopy__(self, memo: dict[int, Any]) -> SlackContext:
        # Bolt deep-copies `context` for each lazy listener; the core, its database and
        # the member cache are shared by every request, never copied.
        return self

    @property
    def service(self) -> BookingService:
        return self.booking.service

    @property
    def engine(self) -> ConversationEngine:
        return self.booking.conversation


def slack_of(context: Mapping[str, Any]) -> SlackContext:
    """Our context, from the `context` Bolt injects into every listener."""
    slack = context[CONTEXT_KEY]
    assert isinstance(slack, SlackContext)
    return slack


def post_replies(client: WebClient, channel: str, replies: Sequence[Reply], *,
                 preview: str | None = None, thread_ts: str | None = None,
                 zone: tzinfo | None = None) -> None:
    """Post replies as blocks; `preview` replaces the text Slack shows in notifications
    and on the lock screen (by default the replies' text); `thread_ts` answers in a thread;
    `zone` is the member's, whose times the replies write (shown as date tokens)."""
    client.chat_postMessage(
        channel=channel, text=preview or fallback_text(replies, zone),
        blocks=reply_blocks(replies, zone=zone), thread_ts=thread_ts,
    )


# The core's hint for a question answered in words. An ephemeral message is not
# answered in words (typed in a channel they never reach the conversation): its
# buttons answer, or the copy kept in the direct messages does.
_TYPED_ANSWER = " (yes / no)"


def without_typed_answer(text: str) -> str:
    return text.removesuffix(_TYPED_ANSWER)


def respond_replies(respond: Respond, replies: Sequence[Reply],
                    zone: tzinfo | None = None) -> None:
    """An answer only the member sees, where they asked."""
    replies = [replace(reply, text=without_typed_answer(reply.text)) if reply.actions else reply
               for reply in replies]
    respond(
        text=fallback_text(replies, zone), blocks=reply_blocks(replies, zone=zone),
        response_type="ephemeral", replace_original=False,
    )
