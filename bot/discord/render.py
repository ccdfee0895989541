"""How the service's words look in Discord: timestamps and Discord's limits.

Discord renders `<t:UNIX:f>` in each reader's own time zone, so times sent to
Discord carry no zone of ours: `stamped` turns the times the core writes for a
member (core.domain.zones.local_time, in the member's zone) into such stamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

import discord

MESSAGE_LIMIT = 2000  # characters in a message's content
LABEL_LIMIT = 80  # characters in a button label
CHOICE_LIMIT = 100  # characters in a choice's name and value


def stamp(moment: datetime, style: str = "f") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


# A time as core.domain.zones.local_time writes it ("2026-12-02 14:30 CET"), alone or
# as a window ("... -> ..."); and as an offer names a start ("2026 12 02 14 30 (CET)").
_LOCAL = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) ([^\s,;:)]*[^\s,;:).])"
_TIMES = re.compile(_LOCAL + r"(?: -> " + _LOCAL + ")?")
_OFFERED = re.compile(r"(\d{4} \d{2} \d{2} \d{2} \d{2}) \(([^\s)]+)\)")


def _moment(written: str, zone_name: str, zone: tzinfo) -> datetime | None:
    naive = datetime.strptime(written, "%Y-%m-%d %H:%M" if "-" in written else "%Y %m %d %H %M")
    for fold in (0, 1):  # the hour that comes twice when the clocks go back
        local = naive.replace(tzinfo=zone, fold=fold)
        if local.tzname() == zone_name:
            return local
    return None


def stamped(text: str, zone: tzinfo) -> str:
    """`text` with the times written in `zone` as Discord timestamps: a window as its
    start and end, a time alone also as how long from now ("in 3 hours")."""
    def alone(match: re.Match[str]) -> str:
        moment = _moment(match[1], match[2], zone)
        return f"{stamp(moment)} ({stamp(moment, 'R')})" if moment else match[0]

    def one(match: re.Match[str]) -> str:
        if match[3] is None:
            return alone(match)
        start, end = _moment(match[1], match[2], zone), _moment(match[3], match[4], zone)
        return f"{stamp(start)} → {stamp(end)}" if start and end else match[0]
    return _OFFERED.sub(alone, _TIMES.sub(one, text))


def fenced(text: str) -> str:
    """Lines the core indents by two spaces (a login's host, port, password and `ssh`
    command; help's table) as a code block: copied exactly, aligned as written."""
    out: list[str] = []
    block: list[str] = []
    for line in [*text.split("\n"), None]:
        if line is not None and line.startswith("  ") and line.strip():
            block.append(line[2:])
            continue
        if block:
            out += ["```", *block, "```"]
            block = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text cut to Discord's limit, saying so when something was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


# A login as the core writes it (core.chat: a login reply, the ready message): indented
# `host:`, `port:`, `user:`, `password:` lines and the `ssh` command.
_LOGIN_FIELDS = ("host", "port", "user", "password")
_LOGIN_LINE = re.compile(r"^  (host|port|user|password):\s+(\S.*)$")
_SSH_LINE = re.compile(r"^  (ssh \S.*)$")


@dataclass(frozen=True)
class LoginCard:
    host: str
    port: str
    user: str
    password: str
    ssh: str

    def embed(self) -> discord.Embed:
        """Host, port and user side by side; password and `ssh` command as code, to copy."""
        embed = discord.Embed(title="Log in", colour=discord.Colour.green())
        embed.add_field(name="host", value=f"`{self.host}`")
        embed.add_field(name="port", value=f"`{self.port}`")
        embed.add_field(name="user", value=f"`{self.user}`")
        embed.add_field(name="password", value=f"`{self.password}`", inline=False)
        embed.add_field(name="ssh command", value=f"```\n{self.ssh}\n```", inline=False)
        return embed


def login_card(text: str) -> tuple[str, LoginCard | None]:
    """`text` without its login lines, and those lines as a card; `text` as it is, and
    None, when it has no complete login (all four fields and the `ssh` command)."""
    found: dict[str, str] = {}
    kept: list[str] = []
    for line in text.split("\n"):
        field, ssh = _LOGIN_LINE.match(line), _SSH_LINE.match(line)
        if field and field[1] not in found:
            found[field[1]] = field[2].strip()
        elif ssh and "ssh" not in found:
            found["ssh"] = ssh[1].strip()
        else:
            kept.append(line)
    if any(key not in found for key in (*_LOGIN_FIELDS, "ssh")):
        return text, None
    return "\n".join(kept), LoginCard(**found)
