from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.model import Account
from core.domain.time_tokens import TimeInputError, slot_ceil, slot_floor
from core.domain.timeparse import parse_end, parse_start
from tests.factories import Clock, fake_service

TAIPEI = ZoneInfo("Asia/Taipei")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 29, 4, 10, tzinfo=UTC)  # 12:10 in Taipei, a Sunday
BEFORE_FALL_BACK = datetime(2026, 10, 24, 10, 0, tzinfo=UTC)  # Sat 12:00 CEST; Sun 25 Oct is CET
BEFORE_SPRING_FORWARD = datetime(2026, 3, 28, 23, 10, tzinfo=UTC)  # Sun 29 Mar 00:10 CET; CEST from 02:00


def local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def start(text: str, *, zone: ZoneInfo = TAIPEI, now: datetime = NOW) -> str:
    return f"{parse_start(text, zone=zone, now=now, slot_minutes=30).astimezone(zone):%Y-%m-%d %H:%M}"


def end(text: str, *, begin: datetime, zone: ZoneInfo = TAIPEI, now: datetime = NOW) -> str:
    moment = parse_end(text, start=begin, zone=zone, now=now, slot_minutes=30)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def refusal(text: str, *, zone: ZoneInfo = TAIPEI, now: datetime = NOW, as_end: bool = False) -> str:
    with pytest.raises(TimeInputError) as caught:
        if as_end:
            parse_end(text, start=slot_ceil(now, 30), zone=zone, now=now, slot_minutes=30)
        else:
            parse_start(text, zone=zone, now=now, slot_minutes=30)
    return str(caught.value)


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
        ("3 hours from now", "2026-11-29 15:30"),
        ("in 90 minutes", "2026-11-29 14:00"),  # 13:40 rounds up
        ("in 2 days", "2026-12-01 12:00"),
        ("2 days from now", "2026-12-01 12:00"),
        ("in 14 days", "2026-12-13 12:00"),
        # hour durations count from the start of the current slot, like days and weeks
        ("2-hour", "2026-11-29 14:00"),
        ("2h", "2026-11-29 14:00"),
        ("2 hours", "2026-11-29 14:00"),
        ("for 2 hours", "2026-11-29 14:00"),
        ("1-day 6-hour", "2026-11-30 18:00"),
        ("1 day and 6 hours", "2026-11-30 18:00"),
        ("336-hour", "2026-12-13 12:00"),
        ("9am UTC", "2026-11-29 17:00"),  # a text naming its own zone is read in it
    ],
)
def test_start_texts(text: str, expected: str) -> None:
    assert start(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3-day", "2026-12-04 09:00"),  # end flags count from the start
        ("2-hour", "2026-12-01 11:00"),
        ("for 2 hours", "2026-12-01 11:00"),
        ("2h", "2026-12-01 11:00"),
        ("1-day 6-hour", "2026-12-02 15:00"),
        ("1-week 12h", "2026-12-08 21:00"),
        ("in 3 hours", "2026-11-29 15:30"),  # `in` + hours counts from now
        ("2026 12 02 10 00", "2026-12-02 10:00"),
    ],
)
def test_end_texts(text: str, expected: str) -> None:
    assert end(text, begin=datetime(2026, 12, 1, 1, 0, tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # Sat 24 Oct 12:00 CEST; the clocks go back on Sun 25 Oct
        (BEFORE_FALL_BACK, "tomorrow 9am", "2026-10-25 09:00 CET"),
        (BEFORE_FALL_BACK, "tomorrow 17:00", "2026-10-25 17:00 CET"),
        (BEFORE_FALL_BACK, "today 18:00", "2026-10-24 18:00 CEST"),
        (BEFORE_FALL_BACK, "next monday 14:00", "2026-10-26 14:00 CET"),
        (BEFORE_FALL_BACK, "in 24 hours", "2026-10-25 11:00 CET"),  # 24 real hours
        (BEFORE_FALL_BACK, "2026 10 25 02 30", "2026-10-25 02:30 CEST"),  # twice: the first
        (BEFORE_FALL_BACK, "2026 10 25 03 00", "2026-10-25 03:00 CET"),
        # Sun 29 Mar 00:10 CET; the clocks jump from 02:00 to 03:00 that night
        (BEFORE_SPRING_FORWARD, "tomorrow 9am", "2026-03-30 09:00 CEST"),
        (BEFORE_SPRING_FORWARD, "today 17:00", "2026-03-29 17:00 CEST"),
        (BEFORE_SPRING_FORWARD, "tomorrow midnight", "2026-03-30 00:00 CEST"),
        (BEFORE_SPRING_FORWARD, "today 1:30am", "2026-03-29 01:30 CET"),
        (BEFORE_SPRING_FORWARD, "today 3am", "2026-03-29 03:00 CEST"),
        (BEFORE_SPRING_FORWARD, "in 3 hours", "2026-03-29 04:30 CEST"),  # 02:10 UTC, rounded up
        (BEFORE_SPRING_FORWARD, "now", "2026-03-29 00:00 CET"),
        (BEFORE_SPRING_FORWARD, "1-day", "2026-03-30 01:00 CEST"),  # 24 hours after 00:00 CET
        (BEFORE_SPRING_FORWARD, "9am UTC", "2026-03-29 11:00 CEST"),
    ],
)
def test_wall_clock_times_keep_their_hour_across_a_dst_change(
    now: datetime, text: str, expected: str
) -> None:
    assert local(parse_start(text, zone=BERLIN, now=now, slot_minutes=30), BERLIN) == expected


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (NOW, "tomorrow 9am", "2026-11-30 09:00"),
        (NOW, "today 17:00", "2026-11-29 17:00"),
        (NOW, "tomorrow midnight", "2026-11-30 00:00"),
        (BEFORE_FALL_BACK, "tomorrow 9am", "2026-10-25 09:00"),
        (BEFORE_SPRING_FORWARD, "tomorrow 9am", "2026-03-30 09:00"),
        (BEFORE_SPRING_FORWARD, "today 17:00", "2026-03-29 17:00"),
    ],
)
def test_a_zone_without_dst_is_unchanged(now: datetime, text: str, expected: str) -> None:
    assert start(text, now=now) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2026 12 01 09 15", "minutes must be on the slot grid (00, 30)"),
        ("15-day", "days go from 1 to 14"),
        ("3-week", "weeks go from 1 to 2"),
        ("0-day", "days go from 1 to 14"),
        ("0-hour", "hours go from 1 to 336"),
        ("337 hours", "hours go from 1 to 336"),
        ("in 337 hours", "hours go from 1 to 336"),
        ("2026 02 30 10 00", "no such date"),
        ("blue banana", "is not a time I understand"),
        ("", "no time given"),
        # bare numbers: dateparser would read `3` as March
        ("3", "`3` is only a number; write a duration such as `3-day` or `2-hour`"),
        ("12 30", "`12 30` is only a number"),
        ("2026 12 01", "or a full date and time as `YYYY MM DD hh mm`"),
        # `now` or a duration mixed with other words is refused, not half-read
        ("now 1-day", "`now` goes on its own, as a start; for a start and an end write `now for 1-day`"),
        ("right now", "`now` goes on its own"),
        ("tomorrow 9am 3-day", "a start and an end: `tomorrow 9am for 3-day`"),
        ("tomorrow 9am for 3-day", "mixes a duration with other words"),
        ("1-day banana", "mixes a duration with other words"),
        ("2 hours ago", "mixes a duration with other words"),
        ("90 minutes", "minutes work only from now (`in 90 minutes`)"),
        ("now 1-day ✨", "✨ is not part of a time"),
        ("tomorrow ✨ 9am", "✨ is not part of a time"),
    ],
)
def test_refused_start_texts_say_what_works(text: str, complaint: str) -> None:
    assert complaint in refusal(text)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("now", "`now` is for a start"),
        ("3", "`3` is only a number"),  # once read as March: a booking to next year
        ("now 1-day", "`now` goes on its own"),
        ("tomorrow 9am 3-day", "a start and an end: `tomorrow 9am for 3-day`"),
    ],
)
def test_refused_end_texts_say_what_works(text: str, complaint: str) -> None:
    assert complaint in refusal(text, as_end=True)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2026 03 29 02 30", "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks jump from "
                             "02:00 to 03:00 that day (daylight saving time)"),
        ("2026 03 29 02 00", "2026-03-29 02:00 does not exist in Europe/Berlin"),
        ("today 2:30am", "2026-03-29 02:30 does not exist in Europe/Berlin"),
    ],
)
def test_times_in_the_spring_forward_gap_are_refused(text: str, complaint: str) -> None:
    assert complaint in refusal(text, zone=BERLIN, now=BEFORE_SPRING_FORWARD)


def test_end_flags_count_from_the_start() -> None:
    begin = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert parse_end("3-day", start=begin, zone=TAIPEI, now=NOW, slot_minutes=30) == datetime(
        2026, 12, 4, 1, 0, tzinfo=UTC
    )


def test_slot_rounding() -> None:
    moment = datetime(2026, 1, 1, 10, 31, tzinfo=UTC)
    assert slot_floor(moment, 30) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert slot_ceil(moment, 30) == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    on_grid = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    assert slot_ceil(on_grid, 30) == on_grid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14-day", "2026-12-13 12:00"),
        ("in 14 days", "2026-12-13 12:00"),
        ("in 336 hours", "2026-12-13 12:30"),  # 12:10 rounded up: still within the horizon
        ("2026 12 13 12 30", "2026-12-13 12:30"),
    ],
)
def test_the_last_slot_of_the_horizon_can_be_booked(text: str, expected: str) -> None:
    service, _ = fake_service(clock=Clock(NOW))
    moment = service.parse_start(Account(name="bob", display_name="bob"), text)
    assert f"{moment.astimezone(TAIPEI):%Y-%m-%d %H:%M}" == expected


@given(st.text(max_size=60))
def test_random_text_never_crashes_the_parser(text: str) -> None:
    try:
        moment = parse_start(text, zone=TAIPEI, now=NOW, slot_minutes=30)
    except TimeInputError as exc:
        assert str(exc)
    else:
        assert moment.tzinfo is not None
        assert moment.minute in (0, 30) and moment.second == 0


@given(st.text(max_size=60))
def test_random_text_never_crashes_the_parser_in_a_dst_zone(text: str) -> None:
    try:
        moment = parse_end(text, start=NOW, zone=BERLIN, now=BEFORE_SPRING_FORWARD, slot_minutes=30)
    except TimeInputError as exc:
        assert str(exc)
    else:
        assert moment.tzinfo is not None
        assert moment.minute in (0, 30) and moment.second == 0
