"""What a member is told when someone else (an admin) changed their booking or
their chat link (core.services.notice_port.NoticeWords)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from core.chat.actions import Action, confirm_question, offer_action, stored
from core.domain.maintenance import MaintenanceWindow
from core.domain.model import Booking
from core.domain.refusals import maintenance_words, who_to_ask
from core.domain.zones import local_time
from core.services.notifier import Message, MessageKind


def changed_by_someone_else(
    change: str, booking: Booking, actor: str, zone: tzinfo, reason: str | None = None
) -> str:
    """What a member is told when an admin changed their booking: who, what, and why."""
    number = f"your booking #{booking.id}"
    told = {
        "cancelled": f"{actor} (an admin) cancelled {number} "
                     f"({local_time(booking.start, zone)} -> {local_time(booking.end, zone)}).",
        "ended_early": f"{actor} (an admin) ended {number} now; its files are backed up first, "
                       "then its container is removed.",
        "extended": f"{actor} (an admin) extended {number}; it now ends at "
                    f"{local_time(booking.end, zone)}.",
        "restart_requested": f"{actor} (an admin) restarted the container of {number}; I will "
                             "message you when it is back. Log in again with the same password.",
    }[change]
    return f"{told} Why: {reason}" if reason else told


def linked_to_you(account: str, instead_of: str | None, admins: Sequence[str]) -> str:
    before = f" (instead of `{instead_of}`)" if instead_of is not None else ""
    return (f"An admin linked you to the booking account `{account}`{before}. If that is "
            f"not you, tell an admin ({who_to_ask(admins)}).")


def unlinked_from(account: str, platform: str, admins: Sequence[str]) -> str:
    return (f"An admin linked the booking account `{account}` to another {platform} "
            f"user; you are no longer linked to it. If that is wrong, tell an "
            f"admin ({who_to_ask(admins)}).")


def maintenance_ahead(window: MaintenanceWindow, booking: Booking, alternative: datetime | None,
                      zone: tzinfo, actor: str) -> Message:
    """A new maintenance window meets a member's booking: what, why, and where the same
    booking fits instead (a Book button), with Cancel for the booking it replaces."""
    number = booking.id
    text = (f"{actor} (an admin) scheduled {maintenance_words(window, zone)}. Your booking "
            f"#{number} ({local_time(booking.start, zone)} -> {local_time(booking.end, zone)}) "
            "overlaps it.")
    cancel = Action(f"Cancel #{number}", f"cancel {number}", "danger", "cancel", number,
                    confirm_question("cancel", number))
    if alternative is None:
        text += (" The same booking fits nowhere within the booking horizon after it; cancel "
                 "it and book a smaller one, or ask an admin.")
        return Message(MessageKind.INFO, text, number, stored([cancel]))
    end = alternative + (booking.end - booking.start)
    if alternative == booking.start:  # the window takes only some GPUs; others are free then
        text += (f" The same booking fits at the same time on other GPUs: cancel #{number}, "
                 "then book it again (buttons below).")
    else:
        text += (f" The same booking fits from {local_time(alternative, zone)} to "
                 f"{local_time(end, zone)}: cancel #{number}, then book that (buttons below).")
    offer = offer_action(booking.resources, alternative, end, zone, image=booking.image,
                         command=booking.command)
    return Message(MessageKind.INFO, text, number, stored([cancel, offer]))
