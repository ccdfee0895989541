"""Hostile text at the inputs added with the waitlist, maintenance windows, usage reports,
admins' reasons and the HTTP listener: each is answered at once, with a refusal that says
what works or with a correct result, stores nothing when it refuses, and never shows a
traceback ("Something went wrong" in chat).

The app is the real one on a real SQLite file (bootstrap.build); the 1-second guard only
catches a hang, the assertions are on what the member or admin reads.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from bot.bootstrap import App, Environment, build
from bot.cli import main as cli
from bot.discord.forms import form_request
from bot.http_feeds import FeedServer, http_feeds_from_env
from core.chat.conversation import ConversationEngine
from core.chat.maintenance_chat import capacity_maintenance
from core.chat.report_words import capacity_report
from core.domain.model import Booking, Refusal, Resources
from core.services.capacity import BookingRequest
from tests.factories import write_config

GUARD_S = 1.0
T = TypeVar("T")
APOLOGY = "Something went wrong"

HOSTILE = {
    "100 KB of one letter": "a" * 100_000,
    "to, 30,000 times": " to" * 30_000,
    "x to, 20,000 times": "x to " * 20_000,
    "because, 12,000 times": "because " * 12_000,
    "because glued": "because" * 12_000,
    "auto, 20,000 times": "auto " * 20_000,
    "reason, 14,000 times": "reason " * 14_000,
    "gpus and commas": "gpus " + "0," * 30_000,
    "quotes and backticks": "\"`'" * 20_000,
    "unbalanced backticks": "```" + "`" * 999,
    "right-to-left marks": "\u202e\u200f" * 20_000 + "1",
    "NUL and control characters": "\x00\x01\x1b[31m" * 10_000,
    "confusable digits": "\u0661\u0662 \U0001d7d7 \u00b2 \u2167",
    "5000 digits": "9" * 5000,
    "negative": "-1",
    "NaN": "nan",
    "infinity": "inf",
    "far past": "0001 01 01 00 00",
    "far future": "9999 12 31 23 59",
    "SQL": "1; DROP TABLE bookings; --",
    "a path": "../../etc/passwd",
    "mentions": "<!channel> @everyone <@U123>",
}


@pytest.fixture
def app(tmp_path: Path) -> App:
    built = build(Environment(booking_config=write_config(tmp_path / "booking.yaml"),
                              booking_database_url=f"sqlite:///{tmp_path / 'booking.db'}",
                              booking_secret="a test secret of enough bytes",
                              booking_data_dir=tmp_path))
    for name in ("alice", "bob", "carol"):  # alice is the configured admin
        built.service.add_account(name)
    return built


def timed(call: Callable[..., T], *args: Any) -> T:
    """call(*args), which must answer within the guard."""
    started = time.perf_counter()
    result = call(*args)
    elapsed = time.perf_counter() - started
    assert elapsed < GUARD_S, f"{elapsed:.1f} s"
    return result


def stored(app: App) -> tuple[int, int, int]:
    """(bookings, waitlist entries, maintenance windows) as the database holds them."""
    service = app.service
    bookings = sum(len(service.bookings(name, history=True)) for name in ("alice", "bob", "carol"))
    waiting = sum(len(service.waitlist(name)) for name in ("alice", "bob", "carol"))
    return bookings, waiting, len(service.maintenance_windows(actor="alice"))


def running(app: App) -> Booking:
    return app.service.book(BookingRequest("bob", Resources(2, 8, 0), "now", "1-day"))


# ----- chat verbs ---------------------------------------------------------------------

CHAT_VERBS = ["notify me {}", "notify me auto {}", "notify {}", "waitlist {}", "keep {}",
              "keep {n} {}", "keep {n} nudge {}", "restart {} after 1", "restart {n} after {}",
              "cancel {n} because {}", "end {n} because {}", "extend {n} {}",
              "extend {n} 1-day because {}", "restart {n} because {}", "cancel {}", "timezone {}"]


@pytest.mark.parametrize("verb", CHAT_VERBS)
def test_chat_verbs_answer_hostile_text_at_once(app: App, verb: str) -> None:
    engine = ConversationEngine(app.service)
    booking = running(app)
    before = stored(app)
    for name, text in HOSTILE.items():
        speaker = app.service.account("alice" if "because" in verb else "bob")
        replies = timed(engine.handle, speaker, verb.format(text, n=booking.id))
        assert replies, name
        said = replies[0].text
        assert said and not said.startswith(APOLOGY), (name, said[:200])
        assert len(said) < 4000, (name, len(said))  # nothing echoed back whole
        engine.handle(speaker, "abort")
    after = stored(app)
    assert after[0] == before[0] and after[2] == before[2]


def test_a_hostile_waitlist_request_is_refused_and_not_stored(app: App) -> None:
    engine = ConversationEngine(app.service)
    bob = app.service.account("bob")
    for text in ("notify me 1e308 gpus now 1-day", "notify me -1 gpus now 1-day",
                 "notify me 2 gpus 0001 01 01 00 00 1-day", "notify me auto 99999 gpus now 1-day",
                 "notify me 1 gpu now " + "1-day " * 5000):
        [reply] = timed(engine.handle, bob, text)
        assert not reply.text.startswith(APOLOGY), reply.text
        assert "notify me" in reply.text or "`" in reply.text, reply.text
    assert app.service.waitlist("bob") == []


def test_a_timezone_name_that_is_a_path_or_huge_is_refused(app: App) -> None:
    engine = ConversationEngine(app.service)
    bob = app.service.account("bob")
    for text in ("../../etc/passwd", "/etc/localtime", "Asia/../../etc", "x" * 100_000, "\x00",
                 "Europe/Berlin\u202e"):
        [reply] = timed(engine.handle, bob, f"timezone {text}")
        assert not reply.text.startswith(("From now on", APOLOGY)), reply.text
    assert str(app.service.zone_of(app.service.account("bob"))) == "Asia/Taipei"


# ----- /capacity maintenance and /capacity report --------------------------------------

MAINTENANCE = ["add {} to tomorrow reason x", "add now to {} reason x", "add now to tomorrow reason {}",
               "add now to tomorrow gpus {} reason x", "add yes now to tomorrow reason {}",
               "add {}", "{}", "rm {}"]


def maintenance(app: App, text: str) -> str:
    try:
        return capacity_maintenance(app.service, app.service.account("alice"), text)
    except Refusal as refusal:
        return f"Refused: {refusal.message}"


def test_the_pattern_that_took_100_seconds_is_refused_at_once(app: App) -> None:
    for text in ("add" + " to" * 30_000, "add " + "x to " * 200, "add " + "x to " * 200 + "reason"):
        said = timed(maintenance, app, text)
        assert said.startswith("Refused: "), said
        assert "/capacity maintenance add START to END [gpus 0,1] reason TEXT" in said


@pytest.mark.parametrize("template", MAINTENANCE)
def test_maintenance_text_answers_hostile_text_at_once(app: App, template: str) -> None:
    for name, text in HOSTILE.items():
        said = timed(maintenance, app, template.format(text))
        assert len(said) < 4000, name
        if said.startswith("Refused: ") or template == "add yes now to tomorrow reason {}":
            continue
        assert said.startswith(("No maintenance windows", "Maintenance of", "#",
                                "Added maintenance window #")), (name, said)
    # a reason that is not a reason, however long, stores nothing; the ones that are stay
    stored_reasons = {w.reason for w in app.service.maintenance_windows(actor="alice")}
    assert all(0 < len(reason) <= 500 for reason in stored_reasons)


def test_maintenance_ids_that_are_not_small_numbers_are_refused(app: App) -> None:
    for text in ("rm " + "9" * 5000, "rm \u00b2", "rm -1", "rm 1e9"):
        said = timed(maintenance, app, text)
        assert said.startswith(("Refused: I did not understand `rm ", "Refused: That is too long")), said
        assert said.endswith("`/capacity maintenance rm N` removes one."), said
    assert maintenance(app, "rm 999999999999999999").startswith("Refused: ")
    for gpus in ("9" * 900, "5," * 400, "0 7"):
        said = maintenance(app, f"add now to tomorrow gpus {gpus} reason fans")
        assert said.endswith(("is not a list of GPU ids; use ids such as `0,1`.",
                              "is not on this server (it has GPUs 0-3).")), said
        assert len(said) < 200
    said = maintenance(app, "add now to tomorrow gpus \u00b2 reason fans")  # not an ASCII digit
    assert said.startswith("Refused: `tomorrow gpus \u00b2` is not a time I understand: "), said
    assert app.service.maintenance_windows(actor="alice") == []


def test_a_maintenance_text_over_the_limit_says_how_long_it_may_be(app: App) -> None:
    said = maintenance(app, "add now to tomorrow reason " + "fans " * 400)
    assert said.startswith("Refused: That is too long (2027 characters; at most 1000). ")
    assert app.service.maintenance_windows(actor="alice") == []


def test_a_well_formed_window_still_adds(app: App) -> None:
    said = maintenance(app, "add yes 2-day to 1-day gpus 0, 1 reason new fans to install")
    assert said.startswith("Added maintenance window #1 Maintenance of GPU 0, 1 from "), said
    [window] = app.service.maintenance_windows(actor="alice")
    assert window.reason == "new fans to install" and window.gpu_ids == (0, 1)


@pytest.mark.parametrize("month", ["9999-12", "0000-05", "0001-01", "1969-12"])
def test_a_report_for_a_year_out_of_range_says_which_years_work(app: App, month: str) -> None:
    with pytest.raises(Refusal) as refused:
        timed(capacity_report, app.service, app.service.account("alice"), [month])
    assert refused.value.message == (f"`{month}`: a report covers the years 1970 to 9998; use "
                                     "one of them, such as 2026-11.")


def test_report_words_answer_hostile_text_at_once(app: App) -> None:
    for name, text in HOSTILE.items():
        try:
            timed(capacity_report, app.service, app.service.account("alice"), text.split()[:1])
        except Refusal as refusal:
            assert "such as 2026-11" in refusal.message and len(refusal.message) < 300, name


# ----- the CLI ------------------------------------------------------------------------


@pytest.fixture
def cli_env(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKING_CONFIG", str(tmp_path / "booking.yaml"))
    monkeypatch.setenv("BOOKING_DATABASE_URL", f"sqlite:///{tmp_path / 'booking.db'}")
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOOKING_SECRET", "a test secret of enough bytes")


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("args", [
    ["report", "--month", "9999-12"], ["report", "--month", "0000-05"],
    ["report", "--start", "0001-01-01", "--end", "9999-12-31"],
    ["report", "--start", "2026-01-01", "--end", "9" * 5000],
    ["report", "--month", "x" * 100_000],
    ["maintenance", "add", "--start", "now", "--end", "1-day", "--reason", "x" * 100_000, "--yes"],
    ["maintenance", "add", "--start", "now", "--end", "1-day", "--gpus", "9" * 5000,
     "--reason", "fans", "--yes"],
    ["maintenance", "add", "--start", "now", "--end", "1-day", "--reason", "\x00\x1b\x07\u202e", "--yes"],
    ["maintenance", "add", "--start", "9999 12 31 23 59", "--end", "1-day", "--reason", "fans",
     "--yes"],
], ids=["month 9999", "month 0", "days 1-9999", "end digits", "month 100 KB", "reason 100 KB",
        "gpus digits", "reason control characters", "start far future"])
def test_the_cli_refuses_hostile_options_in_one_line(app: App, args: list[str]) -> None:
    result = timed(CliRunner().invoke, cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code != 0 and "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(("Refused: ", "Error: ")) and len(line) < 400, line
    assert app.service.maintenance_windows(actor="alice") == []


# ----- the HTTP listener --------------------------------------------------------------


@pytest.fixture
def feeds(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    monkeypatch.setenv("BOOKING_SECRET", "a test secret of enough bytes")
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOOKING_HTTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BOOKING_HTTP_PORT", "0")
    server = http_feeds_from_env(app)
    assert server is not None
    server.start()
    try:
        yield server
    finally:
        server.stop()


def request(server: FeedServer, method: str, path: str) -> tuple[int, bytes]:
    """One request as raw bytes (a path may hold what http.client refuses to send)."""
    host, port = server.httpd.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=5) as connection:
        connection.sendall(f"{method} {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_the_listener_answers_odd_paths_with_a_plain_status(feeds: FeedServer) -> None:
    link = feeds.link_for("bob").removeprefix(feeds.base_url)
    assert timed(request, feeds, "GET", link)[0] == 200
    odd = ["/", "/calendar", "/calendar/", "//calendar//bob//x.ics", "/calendar/bob/../alice.ics",
           "/calendar/%2e%2e/%2e%2e/etc/passwd.ics", "/calendar/bob/%00.ics", "/calendar/bob/%ZZ.ics",
           "/calendar/" + "%" * 90 + "/x.ics", "/" * 400, "/metrics/../calendar/bob/x.ics",
           "/calendar/bob/" + "a" * 96 + "/server.ics", "/calendar/" + "\u202e" * 20 + "/x.ics",
           link.replace("/calendar/bob/", "/calendar/alice/"), link + "/..", link + "%00",
           "/calendar/<!channel>/@everyone.ics", "/calendar/bob/'%20OR%201=1%20--.ics"]
    for path in odd:
        status, body = timed(request, feeds, "GET", path)
        assert (status, body) == (404, b"not found\n"), path
    status, body = timed(request, feeds, "GET", "/" + "a" * 5000)
    assert (status, body) == (414, b"request path too long\n")
    assert timed(request, feeds, "HEAD", "/nothing")[0] == 404
    assert timed(request, feeds, "HEAD", link) == (200, b"")
    for method in ("POST", "PUT", "DELETE"):
        assert timed(request, feeds, method, link)[0] == 405


# ----- control characters never reach the database or someone else's message -------------


def test_control_characters_in_an_admins_reason_do_not_reach_the_owner(app: App) -> None:
    booking = running(app)
    engine = ConversationEngine(app.service)
    [reply] = engine.handle(app.service.account("alice"),
                            f"cancel {booking.id} because disk\x00 full\x1b[2J\x07")
    assert reply.text == f"Booking #{booking.id} is cancelled."
    assert app.engine is not None
    with app.engine.connect() as connection:
        texts = [row[0] for row in connection.exec_driver_sql("SELECT text FROM outbox")]
    [told] = [text for text in texts if "Why:" in text]
    assert told.endswith("Why: disk full[2J") and not any(c in told for c in "\x00\x1b\x07")


def test_control_characters_in_a_maintenance_reason_are_dropped(app: App) -> None:
    said = maintenance(app, "add 2-day to 1-day reason new\x00 fans\x1b[31m\u202e")
    assert said.startswith("Added maintenance window #1 "), said
    [window] = app.service.maintenance_windows(actor="alice")
    assert window.reason == "new fans[31m"
    said = maintenance(app, "add 2-day to 1-day reason \x00\x1b\x07")
    assert said == ("Refused: Say why, in at most 500 characters (`--reason \"new fans\"`); "
                    "members read it.")
    assert len(app.service.maintenance_windows(actor="alice")) == 1


def test_an_admins_reason_over_500_characters_is_refused_and_changes_nothing(app: App) -> None:
    booking = running(app)
    engine = ConversationEngine(app.service)
    why = "the disk is full " * 40  # 680 characters: the owner's message would outgrow its column
    [reply] = timed(engine.handle, app.service.account("alice"), f"cancel {booking.id} because {why}")
    assert reply.text == ("Say why in at most 500 characters (that was 679): "
                          "`cancel 12 because the disk is full`.")
    assert app.service.get(booking.id or 0).status == booking.status
    assert app.engine is not None
    with app.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM outbox").scalar() == 0


# ----- the Discord booking form (its fields, as the modal hands them over) ------------------


def test_the_discord_forms_fields_answer_hostile_text_at_once(app: App) -> None:
    engine = ConversationEngine(app.service)
    bob = app.service.account("bob")
    numbers = {"NaN CPUs": "nan cpus", "infinite GPUs": "inf gpus", "-3 GPUs": "-3 gpus",
               "1e308": "1e308 cpus 1e308g"}
    for name, text in {**HOSTILE, **numbers}.items():
        for fields in ((text, "now", "1-day", ""), ("", text, "1-day", ""), ("", "now", text, ""),
                       ("", "now", "1-day", text)):
            try:
                said = [reply.text for reply in timed(engine.book, bob, form_request(*fields, ""))]
            except Refusal as refusal:  # the form's own check of its resources field
                said = [refusal.message]
            assert said and not said[0].startswith((APOLOGY, "Booked")), (name, said[0][:200])
            assert len(said[0]) < 2000, (name, fields.index(text), said[0][:200])
    assert app.service.bookings("bob") == []


def test_a_report_of_many_words_quotes_only_the_start_of_them(app: App) -> None:
    words = ["2026-11"] * 20_000
    with pytest.raises(Refusal) as refused:
        timed(capacity_report, app.service, app.service.account("alice"), words)
    message = refused.value.message
    assert message.startswith("`2026-11 2026-11") and "...` is not a month or a range of days" in message
    assert len(message) < 300
