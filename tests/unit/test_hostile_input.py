"""Hostile text at every parser entry point: answered at once, with a message, never a traceback.

Each entry point gets 10,000 generated inputs built to hurt a backtracking
regular expression (the same token repeated, amounts without end, long runs of
digits, odd Unicode) and must answer each one within 100 ms, either with a
result or with its own error (TimeInputError, RequestTextError, Refusal) that
carries a message. A call over the limit is timed twice more, and only counts
as slow when every try is: a busy machine may pause one call, an exponential
pattern is slow every time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.chat import notice_words
from core.chat.conversation import ConversationEngine
from core.domain.gpus import GpuInventory
from core.domain.member_settings import check_timezone
from core.domain.model import Account, Refusal, Resources
from core.domain.request_line import RequestTextError
from core.domain.request_text import parse_request, split_times
from core.domain.resource_words import parse_resources
from core.domain.time_tokens import TimeInputError, parse_duration
from core.domain.timeparse import parse_end, parse_start
from core.services.booking import BookingService
from core.services.capacity import BookingRequest
from tests.factories import NOW, Clock, fake_service, make_config
from tests.fakes import FakeUnitOfWork, Store

LIMIT_S = 0.1
INPUTS = 10_000
TAIPEI = ZoneInfo("Asia/Taipei")

_PIECES = [
    "1h ", "1 day ", "1-day ", "2 days ", "1 week and ", "3h", "2 ", "12 ", "0", "9", "and ", "and",
    ", ", ",", "for ", "in ", "+", "-", "--", "+3-day ", "now ", "from now ", "tomorrow ", "9am ",
    "at ", "the ", "of ", "next ", "monday ", "dec ", "1st ", "14:00 ", ":", "utc ", "+0800 ",
    "gpus ", "2 gpus ", "8 cpus ", "32g ", "32 gb of ram ", "mem=", "gpus=", "cpus:", "x", "x ",
    "h", "hours ", "minutes ", "week ", "weeks", ".", "3.5 ", "1e308 ", "no ", "mem ", "/", "12/01 ",
    "2026 ", "2026 12 01 09 00 ", "9999 12 31 00 00 ", " ", "  ", "\t", "\n", "✨", "é", "٣", "𝟗",
    "İ", "\u200b", "\x00", "_", "'", "->", "until ", "to ",
]
_ENDINGS = ["", "x", "✨", " x", "1", " now", "-", " and", ",", " 1-day", "!"]


def _hostile(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:  # one piece repeated: the classic catastrophic-backtracking shape
        return rng.choice(_PIECES) * rng.randint(2, 120) + rng.choice(_ENDINGS)
    if kind < 0.6:  # a soup of pieces, short or long
        return "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 60))) + rng.choice(_ENDINGS)
    if kind < 0.7:  # long runs of digits, as counts and as durations
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((20, 90, 299, 5000))))
        return rng.choice(("", "for ", "in ", "+", "gpus=")) + digits + rng.choice(
            ("", "-day", " days", "h", " gpus", "g", " from now"))
    if kind < 0.8:  # any Unicode at all
        return "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 150)))
    if kind < 0.9:  # what works, with something stuck on
        good = rng.choice(("now", "3-day", "tomorrow 9am", "next monday 14:00", "in 3 hours",
                           "2026 12 01 09 00", "1 week and 2 days", "2 gpus 8 cpus 32g now 3-day"))
        return rng.choice(_PIECES) * rng.randint(0, 30) + good + rng.choice(_PIECES) * rng.randint(0, 30)
    return "".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(1, 400)))


def hostile_inputs(seed: int, count: int = INPUTS) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield _hostile(rng)


def assert_answered_in_time(
    call: Callable[[str], object], allowed: type[Exception] | tuple[type[Exception], ...],
    texts: Iterator[str],
) -> None:
    """Every text is answered within LIMIT_S, by a result or by an `allowed` error with a message."""
    slow: list[str] = []
    crashed: list[str] = []
    for text in texts:
        for _attempt in range(3):
            started = time.perf_counter()
            try:
                call(text)
            except allowed as exc:
                if not str(exc):
                    crashed.append(f"{type(exc).__name__} without a message for {text[:80]!r}")
            except Exception as exc:  # anything else is a traceback for the member
                crashed.append(f"{type(exc).__name__}: {exc} for {text[:80]!r}")
            elapsed = time.perf_counter() - started
            if elapsed < LIMIT_S:
                break
        else:
            slow.append(f"{elapsed * 1000:.0f} ms for {text[:80]!r} ({len(text)} characters)")
    assert crashed == [], crashed[:5]
    assert slow == [], slow[:5]


@pytest.fixture(scope="module", autouse=True)
def _dateparser_loaded() -> None:
    """dateparser loads its English data on first use; that one-time cost is not a parse."""
    parse_start("tomorrow 9am", zone=TAIPEI, now=NOW, slot_minutes=30)


def _start(text: str) -> object:
    return parse_start(text, zone=TAIPEI, now=NOW, slot_minutes=30)


def _end(text: str) -> object:
    return parse_end(text, start=NOW + timedelta(hours=1), zone=TAIPEI, now=NOW, slot_minutes=30)


@pytest.mark.parametrize(
    ("entry", "seed"),
    [(_start, 1), (_end, 2), (parse_duration, 3)],
    ids=["parse_start", "parse_end", "parse_duration"],
)
def test_time_parsers_answer_hostile_text_in_time(entry: Callable[[str], object], seed: int) -> None:
    assert_answered_in_time(entry, TimeInputError, hostile_inputs(seed))


@pytest.mark.parametrize(
    ("entry", "seed"),
    [(parse_request, 4), (split_times, 5), (parse_resources, 6)],
    ids=["parse_request", "split_times", "parse_resources"],
)
def test_request_readers_answer_hostile_text_in_time(entry: Callable[[str], object], seed: int) -> None:
    assert_answered_in_time(entry, RequestTextError, hostile_inputs(seed))


def test_the_service_answers_hostile_times_in_time() -> None:
    service, _store = fake_service()
    bob = service.account("bob")
    assert_answered_in_time(lambda text: service.parse_window(bob, text, "1-day"), Refusal,
                            hostile_inputs(7))
    assert_answered_in_time(lambda text: service.parse_window(bob, "now", text), Refusal,
                            hostile_inputs(8))


def test_extend_answers_hostile_text_in_time() -> None:
    service, _store = fake_service()
    booking = service.book(BookingRequest("bob", Resources(2, 8, 0), "now", "1-day"))
    assert booking.id is not None
    assert_answered_in_time(lambda text: service.extend(booking.id or 0, text, actor="bob"), Refusal,
                            hostile_inputs(9))


def test_time_zone_names_answer_hostile_text_in_time() -> None:
    service, _store = fake_service()
    assert_answered_in_time(check_timezone, Refusal, hostile_inputs(10))
    assert_answered_in_time(lambda text: service.set_timezone("bob", text), Refusal,
                            hostile_inputs(11, 2_000))


def test_the_conversation_never_answers_hostile_text_with_an_apology() -> None:
    """What a member sees: a refusal or a question, never "Something went wrong"."""
    service, _store = fake_service()
    engine = ConversationEngine(service)
    bob = service.account("bob")
    replies: list[str] = []

    def talk(text: str) -> None:
        for line in ("abort", f"book {text}"):
            replies.extend(reply.text for reply in engine.handle(bob, line))

    assert_answered_in_time(talk, (), hostile_inputs(12, 1_000))
    assert replies and not [r for r in replies if r.startswith("Something went wrong")]


# ----- the inputs the review timed ---------------------------------------------


def test_the_start_that_took_90_seconds_is_refused_at_once() -> None:
    for text in ("1h " * 18 + "x", "1h " * 33 + "x"):  # 55 characters, and just under the cap
        started = time.perf_counter()
        with pytest.raises(TimeInputError) as caught:
            _start(text)
        assert time.perf_counter() - started < LIMIT_S
        assert "mixes a duration with other words; give one time (`tomorrow 9am`, `3-day`, " \
               "`in 3 hours`), or a start and an end: `tomorrow 9am for 3-day`" in str(caught.value)


def test_the_request_line_that_took_100_seconds_is_read_at_once() -> None:
    service, store = fake_service()
    engine = ConversationEngine(service)
    for amounts in ("1 day " * 25, "1 day " * 15, "1 day " * 48):  # 48: as long as a line may be
        line = amounts + "x"
        started = time.perf_counter()
        parsed = parse_request(line)
        assert time.perf_counter() - started < LIMIT_S
        assert (parsed.start, parsed.end) == (line, None)
        [reply] = engine.handle(service.account("bob"), "book 2 gpus " + line)
        if len(line) > 100:
            assert reply.text.startswith(f"that is too long for a time ({len(line)} characters; "
                                         "at most 100); try `now`, `3-day`")
        else:
            assert reply.text.startswith(f"`{line}` mixes a duration with other words; give one time")
        engine.handle(service.account("bob"), "abort")
    assert store.bookings == {}


def test_a_request_line_over_300_characters_is_refused_before_it_is_read() -> None:
    with pytest.raises(RequestTextError) as caught:
        parse_request("2 gpus now for " + "1 day " * 60)
    assert str(caught.value).startswith(
        "That request is too long (375 characters; at most 300): write it as "
        "`book 1 gpu 8 cpus 32g tomorrow 9am for 3-day`")


# ----- half-read input (review item 10) ------------------------------------------


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("book 1 gpu now for 3.5",
         "`3.5` is a decimal number, not a time; durations are whole numbers (`3-day 12-hour`, "
         "`90-hour`) and a time of day is written `9:30` or `9am`"),
        ("book 1 gpu now for 2.12", "`2.12` is a decimal number, not a time; durations are whole numbers"),
        ("book 1 gpu mem for 1-day",
         "`mem` is not a time I understand: `mem` is not a date or time word; try `now`, `3-day`"),
        ("book 1 gpu 1e308 for 1-day",
         "`1e308` is not a time I understand: `1e308` is neither a day nor a time of day; try `now`"),
        ("book 1 gpu now for no",
         "`no` is not a time I understand: `no` is not a date or time word; try `now`, `3-day`"),
        ("book 1 gpu tomorrow 9 for 1-day",
         "`9` alone is not a time of day; write `9am`, `9pm` or `09:00`"),
        ("book 1 gpu now for 12/01",
         "`12/01` reads as different dates in different countries; write the year first "
         "(`2026-12-01`), the month as a word (`dec 1`), or `YYYY MM DD hh mm`"),
        ("book 1 gpu tomorrow 9am today for 1-day", "it names a day twice (`today` is the second)"),
        ("book -2 gpus now for 1-day", "A count has no sign: write `2`, not `-2`."),
        ("book gpus=+1 now for 1-day", "A count has no sign: write `1`, not `+1`."),
        ("book 1.5 gpus now for 1-day", "1.5 must be a whole number of gpus."),
        ("book 1 gpu now for -3-day", "a duration cannot be negative; write it without the sign, "
                                      "as in `3-day`"),
    ],
)
def test_half_read_requests_are_refused_saying_what_works(line: str, says: str) -> None:
    service, store = fake_service()
    [reply] = ConversationEngine(service).handle(service.account("bob"), line)
    assert says in reply.text
    assert store.bookings == {}


def test_what_dateparser_would_misread_is_refused_and_what_it_reads_whole_is_kept() -> None:
    refused = ["monday 9", "december 9:30", "the 5th", "tomorrow 9am, 10am", "tomorrow at 25:00",
               "in december", "9am 30", "13pm", "feb 30", "tomorrow UTC", "9h30", "1.12.2026"]
    for text in refused:
        with pytest.raises(TimeInputError):
            _start(text)
    kept = {
        "tomorrow at 9am": "2026-11-30 09:00", "9am tomorrow": "2026-11-30 09:00",
        "on monday at 14:00": "2026-11-30 14:00", "dec 1, 2026 9am": "2026-12-01 09:00",
        "1st of december at 14:00": "2026-12-01 14:00", "2026-12-01 09:30": "2026-12-01 09:30",
        "tonight 9pm": "2026-11-29 21:00", "tomorrow morning": "2026-11-30 09:00",
        "noon tomorrow": "2026-11-30 12:00", "14:00 +0800": "2026-11-30 14:00",
        "day after tomorrow 9am": "2026-12-01 09:00",
    }
    for text, expected in kept.items():
        moment = parse_start(text, zone=TAIPEI, now=NOW, slot_minutes=30)
        assert f"{moment.astimezone(TAIPEI):%Y-%m-%d %H:%M}" == expected, text


@pytest.mark.parametrize(
    ("zone", "start", "end", "says"),
    [
        ("Asia/Taipei", "9999 12 31 00 00", "1-day", "The start is more than 14 days ahead"),
        ("Asia/Taipei", "9999 12 31 00 00", "3-day", "that date is out of range; try `now`, `3-day`"),
        # 08:00 UTC: one more day would be past the year 9999
        ("America/Los_Angeles", "9999 12 31 00 00", "1-day", "that date is out of range; try `now`"),
        ("America/Los_Angeles", "9999 12 31 23 30", "1-day", "that date is out of range; try `now`"),
        ("Asia/Taipei", "now", "9" * 5000 + "-day",
         "that is too long for a time (5004 characters; at most 100)"),
        ("Asia/Taipei", "now", "9" * 90 + "-day", "`999999999…-day` is out of range: days go from 1 to 14"),
        ("Asia/Taipei", "now", "in " + "9" * 80 + " minutes", "`999999999…-minute` is out of range"),
    ],
)
def test_extreme_dates_and_durations_are_refusals(zone: str, start: str, end: str, says: str) -> None:
    service, store = fake_service(server={"timezone": zone})
    with pytest.raises(Refusal) as caught:
        service.book(BookingRequest("bob", Resources(2, 8, 0), start, end))
    assert says in caught.value.message
    assert store.bookings == {}


def test_a_5000_digit_extension_is_a_refusal() -> None:
    service, _store = fake_service()
    booking = service.book(BookingRequest("bob", Resources(2, 8, 0), "now", "1-day"))
    for text in ("9" * 5000 + "-day", "+" + "9" * 98 + "h"):
        with pytest.raises(Refusal) as caught:
            service.extend(booking.id or 0, text, actor="bob")
        assert "too long for a time" in caught.value.message or "is out of range" in caught.value.message
    assert service.get(booking.id or 0).end == booking.end


def test_a_300_character_time_zone_is_a_refusal() -> None:
    service, _store = fake_service()
    with pytest.raises(Refusal) as caught:
        service.set_timezone("bob", "A" * 300)
    assert caught.value.message == (
        "That time zone name is too long (300 characters); use a name like Asia/Taipei or UTC.")
    [reply] = ConversationEngine(service).handle(service.account("bob"), "timezone " + "Asia/" * 60)
    assert reply.text.startswith("That time zone name is too long (300 characters)")
    for name in ("America", "../../etc/passwd", "Asia/Taipei\x00"):
        with pytest.raises(Refusal) as caught:
            service.set_timezone("bob", name)
        assert caught.value.message.endswith("use a name like Asia/Taipei or UTC.")
    assert service.account("bob").timezone is None


# ----- no parsing while the server's write lock is held ---------------------------


def test_times_are_read_before_the_write_transaction_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store()
    for number, name in enumerate(("alice", "bob", "carol"), start=1):
        store.accounts[name] = Account(name=name, display_name=name, id=number)
    open_units = 0
    seen: list[tuple[str, int]] = []

    class TrackedUnitOfWork(FakeUnitOfWork):
        def __enter__(self) -> FakeUnitOfWork:
            nonlocal open_units
            open_units += 1
            return super().__enter__()

        def __exit__(self, *exc: object) -> None:
            nonlocal open_units
            open_units -= 1
            super().__exit__(*exc)

    service = BookingService(config=make_config(), uow=lambda: TrackedUnitOfWork(store),
                             gpus=GpuInventory(4), clock=Clock(NOW), notices=notice_words)

    @contextmanager
    def watching(name: str, module: object) -> Iterator[None]:
        real = getattr(module, name)

        def watched(*args: object, **kwargs: object) -> object:
            seen.append((name, open_units))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, watched)
        yield

    import core.domain.time_words
    import core.services.booking
    import core.services.capacity
    bookings, capacity = core.services.booking, core.services.capacity
    with watching("parse_start", capacity), watching("parse_end", capacity), \
            watching("parse_end", bookings), watching("parse_duration", bookings), \
            watching("parse", core.domain.time_words.dateparser):
        booking = service.book(BookingRequest("bob", Resources(2, 8, 0), "tomorrow 9am", "1-day"))
        service.extend(booking.id or 0, "1-day", actor="bob")
        service.extend(booking.id or 0, "dec 2 at 6pm", actor="bob")
        with pytest.raises(Refusal):
            service.book(BookingRequest("carol", Resources(2, 8, 0), "tomorrow 9am", "1.5-day"))
        with pytest.raises(Refusal):
            service.extend(booking.id or 0, "next monday 9", actor="bob")
    names = {name for name, _ in seen}
    assert names == {"parse_start", "parse_end", "parse_duration", "parse"}
    assert [(name, depth) for name, depth in seen if depth] == []
    assert service.get(booking.id or 0).end == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
