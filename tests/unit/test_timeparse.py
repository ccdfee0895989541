from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.timeparse import TimeInputError, parse_end, parse_start, slot_ceil, slot_floor

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 29, 4, 10, tzinfo=UTC)  # 12:10 in Taipei, a Sunday


def start(text: str) -> str:
    moment = parse_start(text, zone=TAIPEI, now=NOW, slot_minutes=30)
    return f"{moment.astimezone(TAIPEI):%Y-%m-%d %H:%M}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", "2026-11-29 12:00"),  # the start of the current slot
        ("NOW", "2026-11-29 12:00"),
        ("1-day", "2026-11-30 12:00"),  # start flags count from the current slot
        ("1-week 2-day", "2026-12-08 12:00"),
        ("2026 12 01 09 30", "2026-12-01 09:30"),
        ("2026 12 1 9 00", "2026-12-01 09:00"),
        ("tomorrow 9am", "2026-11-30 09:00"),
        ("next monday 14:00", "2026-11-30 14:00"),
        ("in 3 hours", "2026-11-29 15:30"),  # 15:10 rounds up to the next slot
        ("in 2 days", "2026-12-01 12:00"),
    ],
)
def test_start_texts(text: str, expected: str) -> None:
    assert start(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2026 12 01 09 15", "minutes must be on the slot grid (00, 30)"),
        ("15-day", "days go from 1 to 14"),
        ("3-week", "weeks go from 1 to 2"),
        ("0-day", "days go from 1 to 14"),
        ("2026 02 30 10 00", "no such date"),
        ("blue banana", "is not a time I understand"),
        ("", "no time given"),
    ],
)
def test_refused_start_texts_say_what_works(text: str, complaint: str) -> None:
    with pytest.raises(TimeInputError, match=None) as caught:
        start(text)
    assert complaint in str(caught.value)


def test_end_flags_count_from_the_start() -> None:
    begin = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    end = parse_end("3-day", start=begin, zone=TAIPEI, now=NOW, slot_minutes=30)
    assert end == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_now_is_not_an_end() -> None:
    with pytest.raises(TimeInputError, match="`now` is for a start"):
        parse_end("now", start=NOW, zone=TAIPEI, now=NOW, slot_minutes=30)


def test_slot_rounding() -> None:
    moment = datetime(2026, 1, 1, 10, 31, tzinfo=UTC)
    assert slot_floor(moment, 30) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert slot_ceil(moment, 30) == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    on_grid = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    assert slot_ceil(on_grid, 30) == on_grid


@given(st.text(max_size=60))
def test_random_text_never_crashes_the_parser(text: str) -> None:
    try:
        moment = parse_start(text, zone=TAIPEI, now=NOW, slot_minutes=30)
    except TimeInputError as exc:
        assert str(exc)
    else:
        assert moment.tzinfo is not None
        assert moment.minute in (0, 30) and moment.second == 0
