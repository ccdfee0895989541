"""Finding the times the core writes for a member, so a chat can show them its own way.

The core writes a moment as text in the member's zone: `core.domain.zones.local_time`
("2026-12-02 14:30 CET"), an offer's start in the old CLI's form ("2026 12 02 14 30
(CET)"), and a few moments in UTC ("2026-12-02 13:30 UTC"). Slack's date tokens and
Discord's timestamps show each reader their own zone; `split_times` hands a renderer
the text around such times and the moments themselves, read back in the zone they
were written in (the abbreviation picks the hour that comes twice in autumn).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

# A time as local_time writes it, and as an offer names a start.
_LOCAL = r"(?P<local>\d{4}-\d{2}-\d{2} \d{2}:\d{2}) (?P<zone>[^\s,;:)]*[^\s,;:).])"
_OFFERED = r"(?P<offered>\d{4} \d{2} \d{2} \d{2} \d{2}) \((?P<offered_zone>[^\s)]+)\)"
_TIME = re.compile(f"{_LOCAL}|{_OFFERED}")


def moment_in(written: str, zone_name: str, zone: tzinfo) -> datetime | None:
    """`written` ("2026-12-02 14:30" or "2026 12 02 14 30") in `zone`, whose abbreviation
    there is `zone_name`, as a moment in UTC; None when it is not a time of that zone."""
    try:
        naive = datetime.strptime(written, "%Y-%m-%d %H:%M" if "-" in written else "%Y %m %d %H %M")
    except ValueError:
        return None
    if zone_name == "UTC":
        return naive.replace(tzinfo=UTC)
    for fold in (0, 1):  # the hour that comes twice when the clocks go back
        local = naive.replace(tzinfo=zone, fold=fold)
        if local.tzname() == zone_name:
            return local.astimezone(UTC)
    return None


def split_times(text: str, zone: tzinfo) -> list[str | datetime]:
    """`text` as its pieces: the words between times (str) and each time the core wrote in
    `zone` (a datetime in UTC). A time of another zone stays in the words as written."""
    pieces: list[str | datetime] = []
    done = 0
    for match in _TIME.finditer(text):
        if match["local"]:
            moment = moment_in(match["local"], match["zone"], zone)
        else:
            moment = moment_in(match["offered"], match["offered_zone"], zone)
        if moment is None:
            continue
        if match.start() > done:
            pieces.append(text[done:match.start()])
        pieces.append(moment)
        done = match.end()
    if done < len(text) or not pieces:
        pieces.append(text[done:])
    return pieces
