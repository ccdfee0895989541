"""`/capacity`: the server's free resources for everyone; limits and accounts for admins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from bot.slack.blocks import escape
from core.domain import Account, ErrorCode, LinkConflict, Refusal
from core.messages import local_time
from core.service import LIMIT_KEYS, BookingService, merge_slots

SUMMARY_DAYS = 3
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_SETTING = re.compile(r"^(\w+)=(\S+)$")

USAGE = (
    "`/capacity` shows what is free. Admins also use:\n"
    "`/capacity limits [@member] [cpus=8 memory=32 gpus=1]` view or set a member's maxima\n"
    "`/capacity users` list accounts\n"
    "`/capacity link @member lab-id` link a Slack user to an account (created if new; "
    "moving a link asks you to confirm)"
)


@dataclass(frozen=True)
class CapacityAnswer:
    text: str  # mrkdwn, already escaped
    chart: bool = False  # whether the GPU timeline chart goes with it


def free_summary(service: BookingService, zone: tzinfo, days: int = SUMMARY_DAYS) -> str:
    """Per run of slots with the same free resources, what is free; times in `zone`."""
    host = service.host
    lines = [f"*{service.config.server.name}*: {host.cpus:g} CPUs, {host.memory} GB, "
             f"{host.gpus} GPUs. Free in the next {days} days:"]
    for period in merge_slots(service.free_slots("now", f"{days}-day")):
        ids = ",".join(map(str, period.gpu_ids)) or "none"
        lines.append(f"• {local_time(period.start, zone)} → {local_time(period.end, zone)}: "
                     f"{period.cpus:g} CPUs, {period.memory} GB, GPUs free: {ids}")
    return "\n".join(lines)


class CapacityCommand:
    def __init__(self, service: BookingService) -> None:
        self._service = service

    def run(self, account: Account, text: str) -> CapacityAnswer:
        words = text.split()
        verb = words[0].lower() if words else ""
        admin = self._service.is_admin(account)
        zone = self._service.zone_of(account)
        if verb in ("", "show", "free"):
            summary = free_summary(self._service, zone)
            if not admin:
                summary += "\nChanging limits or accounts needs an admin."
            return CapacityAnswer(summary, chart=admin)
        if verb == "help":
            return CapacityAnswer(USAGE)
        if verb == "limits":
            return CapacityAnswer(self._limits(account, admin, words[1:]))
        if verb in ("users", "link"):
            self._require_admin(admin)
            if verb == "users":
                return CapacityAnswer(self._users())
            return CapacityAnswer(self._link(words[1:]))
        return CapacityAnswer(f"I do not know `{verb}`.\n{USAGE}")

    def _require_admin(self, admin: bool) -> None:
        if not admin:
            raise Refusal(
                ErrorCode.NOT_OWNER,
                f"That needs an admin ({self._service.admin_names()}); "
                "`/capacity` alone shows what is free.",
            )

    def _member(self, word: str) -> Account:
        mention = _MENTION.match(word)
        if mention:
            found = [a for a in self._service.accounts() if a.slack_id == mention.group(1)]
            if not found:
                raise Refusal(ErrorCode.UNKNOWN_USER, f"{word} has no account; "
                              f"`/capacity link {word} lab-id` makes one.")
            return found[0]
        return self._service.account(word.lstrip("@"))

    def _is_self(self, account: Account, word: str) -> bool:
        mention = _MENTION.match(word)
        if mention:
            return mention.group(1) == account.slack_id
        return word.lstrip("@") == account.name

    def _limits(self, account: Account, admin: bool, words: list[str]) -> str:
        member = account
        if words and not _SETTING.match(words[0]):
            # Someone else's limits need an admin, asked first: a member is not
            # told whether that person has an account.
            if not self._is_self(account, words[0]):
                self._require_admin(admin)
            member = self._member(words[0])
            words = words[1:]
        settings = {}
        for word in words:
            setting = _SETTING.match(word)
            if setting is None or setting.group(1) not in LIMIT_KEYS:
                raise Refusal(
                    ErrorCode.BAD_INPUT, f"`{word}`: use cpus=N memory=N gpus=N (or max)."
                )
            settings[setting.group(1)] = setting.group(2)
        if settings:
            self._require_admin(admin)
            member = self._service.set_limits(member.name, settings)
            return f"{escape(member.name)} may now book up to {self._maximum(member)}."
        return f"{escape(member.name)} may book up to {self._maximum(member)}."

    def _maximum(self, member: Account) -> str:
        return self._service.limits_of(member).describe()

    def _users(self) -> str:
        lines = []
        for account in self._service.accounts():
            maximum = self._service.limits_of(account)
            slack = f" <@{account.slack_id}>" if account.slack_id else ""
            admin = " (admin)" if self._service.is_admin(account) else ""
            lines.append(f"• {escape(account.name)}{admin}{slack}: {maximum.describe()}")
        return "\n".join(lines) or "No accounts yet."

    def _link(self, words: list[str]) -> str:
        confirm = len(words) == 3 and words[2].lower() == "confirm"
        mention = _MENTION.match(words[0]) if len(words) == 2 or confirm else None
        if mention is None:
            raise Refusal(ErrorCode.BAD_INPUT, "Use `/capacity link @member lab-id`.")
        try:
            account = self._service.add_account(words[1], slack_id=mention.group(1),
                                                confirm=confirm)
        except LinkConflict as conflict:
            return (f"{escape(conflict.message)} To do it, send "
                    f"`/capacity link <@{mention.group(1)}> {escape(words[1])} confirm`.")
        return f"<@{mention.group(1)}> is now `{escape(account.name)}`."

