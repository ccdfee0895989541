"""Times the core writes for a member, found again for a chat to show its own way."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.slack.blocks import marked, to_mrkdwn
from core.chat.time_marks import split_times
from core.domain.zones import local_time

TAIPEI, BERLIN = ZoneInfo("Asia/Taipei"), ZoneInfo("Europe/Berlin")


def test_a_window_in_the_members_zone_comes_back_as_two_moments():
    start = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    end = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    text = f"#1 carol: {local_time(start, TAIPEI)} -> {local_time(end, TAIPEI)}, 2 CPUs"

    assert split_times(text, TAIPEI) == ["#1 carol: ", start, " -> ", end, ", 2 CPUs"]


def test_an_offer_in_the_old_form_and_a_time_in_utc_are_found_too():
    pieces = split_times("Earliest 2026 12 04 10 00 (CST). Failed 2026-12-02 13:30 UTC: x", TAIPEI)

    assert pieces[1] == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert pieces[3] == datetime(2026, 12, 2, 13, 30, tzinfo=UTC)


def test_the_hour_that_comes_twice_is_told_apart_by_its_abbreviation():
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert local_time(first, BERLIN)[:16] == local_time(second, BERLIN)[:16]

    [found_first] = split_times(local_time(first, BERLIN), BERLIN)
    [found_second] = split_times(local_time(second, BERLIN), BERLIN)

    assert (found_first, found_second) == (first, second)


def test_a_time_of_another_zone_and_numbers_that_are_no_time_stay_as_written():
    text = "2026-12-03 09:00 CET and 2026-13-45 99:99 CST"
    assert split_times(text, TAIPEI) == [text]


def test_slack_shows_each_reader_their_own_zone_with_an_unambiguous_fallback():
    start = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    line = f"starts {local_time(start, TAIPEI)} -> {local_time(start, TAIPEI)} <now>"

    assert marked(line, TAIPEI) == (
        "starts <!date^1796259600^{date_short_pretty} {time}|2026-12-03 01:00 UTC> → "
        "<!date^1796259600^{date_short_pretty} {time}|2026-12-03 01:00 UTC> &lt;now&gt;")
    assert "CST" not in marked(line, TAIPEI)
    assert marked(line, None) == line.replace("<", "&lt;").replace(">", "&gt;")


def test_a_labelled_time_is_a_token_and_a_labelled_value_stays_code():
    start = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    text = f"Ready.\n  ends:     {local_time(start, TAIPEI)}\n  password: a<b"

    assert to_mrkdwn(text, TAIPEI).split("\n")[1:] == [
        "ends: <!date^1796259600^{date_short_pretty} {time}|2026-12-03 01:00 UTC>",
        "password: `a&lt;b`"]
