"""The words of a time (days, weekdays, months, parts of the day, fillers, the zone
abbreviations dateparser knows) and `Reading`, what the words of one time said;
core.domain.time_words reads a text with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dateparser.timezones import timezone_info_list

DAY_OFFSETS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}


WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}


MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}


PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")


FILLERS = ("at", "on", "the")


ORDINALS = ("st", "nd", "rd", "th")


_OUR_WORDS = {*DAY_OFFSETS, *WEEKDAYS, *MONTHS, *PARTS_OF_DAY, *FILLERS, *ORDINALS,
              "next", "this", "day", "after", "of", "am", "pm", "noon", "midnight"}


# The zone abbreviations dateparser reads (`UTC`, `GMT`, `CET`, `PST`...), after a time of day.
ZONE_WORDS = frozenset(
    str(zone[0]).lower() for info in timezone_info_list for zone in info["timezones"]
    if str(zone[0]).isalpha()
) - _OUR_WORDS


@dataclass
class Reading:
    """What the words of a time said, to be found again in dateparser's answer."""

    offset: int | None = None  # days after today
    weekday: int | None = None
    day: tuple[int | None, int, int] | None = None  # year (if given), month, day
    clock: tuple[int, int] | None = None
    part_of_day: str | None = None  # `morning`... or `tonight`
    zone: bool = False

    @property
    def has_day(self) -> bool:
        return self.offset is not None or self.weekday is not None or self.day is not None

    def agrees(self, parsed: datetime, local_now: datetime) -> bool:
        """Whether dateparser's `parsed` shows every part that was read."""
        if self.clock is not None and (parsed.hour, parsed.minute) != self.clock:
            return False
        if self.offset is not None and parsed.date() != local_now.date() + timedelta(days=self.offset):
            return False
        if self.weekday is not None and parsed.weekday() != self.weekday:
            return False
        if self.day is not None:
            year, month, day = self.day
            if (parsed.month, parsed.day) != (month, day) or year not in (None, parsed.year):
                return False
        return self.zone == (parsed.tzinfo is not None)
