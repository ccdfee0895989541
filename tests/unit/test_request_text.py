"""One-line requests: what the member gets for the times they typed."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.domain.request_line import RequestTextError
from core.domain.request_text import parse_request, split_times
from core.domain.time_tokens import TimeInputError
from core.domain.timeparse import parse_end, parse_start

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 29, 4, 10, tzinfo=UTC)  # 12:10 in Taipei, a Sunday


def booked(line: str) -> str:
    """The window a one-line request gets, in local time, or the refusal text."""
    parsed = parse_request(line)
    assert parsed.start is not None
    try:
        start = parse_start(parsed.start, zone=TAIPEI, now=NOW, slot_minutes=30)
        if parsed.end is None:
            return f"{start.astimezone(TAIPEI):%Y-%m-%d %H:%M} -> ?"
        end = parse_end(parsed.end, start=start, zone=TAIPEI, now=NOW, slot_minutes=30)
    except TimeInputError as exc:
        return f"refused: {exc}"
    return f"{start.astimezone(TAIPEI):%Y-%m-%d %H:%M} -> {end.astimezone(TAIPEI):%Y-%m-%d %H:%M}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now 3-day", ("now", "3-day")),
        ("now 2h", ("now", "2h")),
        ("now 1-day 6-hour", ("now", "1-day 6-hour")),
        ("tonight for 2 hours", ("tonight", "2 hours")),
        ("tomorrow 9am 2-hour", ("tomorrow 9am", "2-hour")),
        ("from tomorrow 9am until 1-week", ("tomorrow 9am", "1-week")),
        ("in 3 hours", ("in 3 hours", None)),  # a start on its own, not `in` + an end
        ("in 3 hours 1-day", ("in 3 hours", "1-day")),
        ("in 2 days", ("in 2 days", None)),
        ("2026 12 01 09 00 2026 12 02 09 00", ("2026 12 01 09 00", "2026 12 02 09 00")),
        ("now 1-day ✨", ("now 1-day ✨", None)),  # left whole, for timeparse to refuse
        ("", (None, None)),
    ],
)
def test_split_times(text: str, expected: tuple[str | None, str | None]) -> None:
    assert split_times(text) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1 gpu now 3-day", "2026-11-29 12:00 -> 2026-12-02 12:00"),
        ("1 gpu tonight for 2 hours", "2026-11-29 20:00 -> 2026-11-29 22:00"),
        ("2 gpus 8 cpus 32g now 2h", "2026-11-29 12:00 -> 2026-11-29 14:00"),
        ("1 gpu now 1-day 6-hour", "2026-11-29 12:00 -> 2026-11-30 18:00"),
        ("1 gpu tomorrow 9am for 1-week", "2026-11-30 09:00 -> 2026-12-07 09:00"),
        ("1 gpu in 3 hours for 2 hours", "2026-11-29 15:30 -> 2026-11-29 17:30"),
        ("1 gpu in 3 hours", "2026-11-29 15:30 -> ?"),
        ("1 gpu now ✨ 1-day", "refused: `now ✨`: ✨ is not part of a time"),
        ("1 gpu now 1-day ✨", "refused: `now 1-day ✨`: ✨ is not part of a time"),
        ("1 gpu now for 3", "refused: `3` is only a number"),
        ("1 gpu tomorrow 9am 3-day banana",
         "refused: `tomorrow 9am 3-day banana` mixes a duration with other words"),
    ],
)
def test_what_a_one_line_request_books(line: str, expected: str) -> None:
    assert booked(line).startswith(expected)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2 gpus 8 cpus 32g now 3-day", (8.0, 32, 2, "now", "3-day")),
        ("2x gpu 4 cores 16 gb of ram tomorrow 9am for 1-week", (4.0, 16, 2, "tomorrow 9am", "1-week")),
        ("gpus=1 cpus: 2.5 mem=12g now 2h", (2.5, 12, 1, "now", "2h")),
        ("8 32 1", (8.0, 32, 1, None, None)),  # the old CLI's `cpus memory gpus`
        ("2 xgpus 1 cpu 8 memory in 3 hours 1-day", (1.0, 8, 2, "in 3 hours", "1-day")),
        ("1 gpu now 1 day and 6 hours", (None, None, 1, "now", "1 day and 6 hours")),
        ("1 gpu in 3 hours and 1-day", (None, None, 1, "in 3 hours", "1-day")),
        ("1 GPU 32GB RAM starting tomorrow 9am until 2026 12 03 09 00",
         (None, 32, 1, "tomorrow 9am", "2026 12 03 09 00")),
        ("gpu: 1 2 cpus 8g now -> 1-week", (2.0, 8, 1, "now", "1-week")),
    ],
)
def test_what_a_request_line_names(line: str, expected: tuple[object, ...]) -> None:
    parsed = parse_request(line)
    assert (parsed.cpus, parsed.memory, parsed.gpus, parsed.start, parsed.end) == expected


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("-2 gpus now 1-day", "A count has no sign: write `2`, not `-2`"),
        ("gpus=-1 now 1-day", "A count has no sign: write `1`, not `-1`"),
        ("1e3 gpus now 1-day", "`1e3` is not a count; write counts as plain numbers, as in `book 1 gpu"),
        ("1.5 gpus now 1-day", "1.5 must be a whole number of gpus"),
        ("mem=2.5g now 1-day", "2.5 must be a whole number of GB of memory"),
        ("1234567 gpus now 1-day", "1234567 gpus is more than this server has"),
        ("1 gpu now " + "1-day " * 50, "That request is too long (310 characters; at most 300)"),
    ],
)
def test_counts_that_cannot_be_read_as_written_are_refused(line: str, complaint: str) -> None:
    with pytest.raises(RequestTextError) as caught:
        parse_request(line)
    assert complaint in str(caught.value)
