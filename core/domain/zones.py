"""A member's time zone and how a moment is shown in it."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

import tzlocal

from core.domain.config import Config
from core.domain.model import Account


def member_zone(account: Account | None, config: Config) -> tzinfo:
    """The zone a member's times are shown in: their own, else the server's, else the host's."""
    name = (account.timezone if account else None) or config.server.timezone
    return ZoneInfo(name) if name else tzlocal.get_localzone()


def local_time(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
