"""Calendar feeds and Prometheus metrics over real HTTP (bot/http_feeds.py), on real
SQLite and PostgreSQL, for bookings made through the booking service."""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from prometheus_client.parser import text_string_to_metric_families

from bot.bootstrap import App
from bot.http_feeds import FeedServer, http_feeds_from_env
from bot.serve import serve
from core.chat import idle_words
from core.domain.model import Booking, ErrorCode, Refusal, Resources, Status
from core.services.accounts import utcnow
from core.services.capacity import BookingRequest
from core.services.idle_watch import IdleWatch
from storage.uow import SqlUnitOfWork
from tests.support.docker_fixtures import free_tcp_port

SECRET = "calendar-test-secret-0123456789abcdef"


@pytest.fixture
def served(make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch,
           tmp_path: Path) -> Iterator[tuple[App, FeedServer]]:
    """The application with its HTTP listener on a free port, as `booking serve` starts it."""
    monkeypatch.setenv("BOOKING_SECRET", SECRET)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOOKING_HTTP_PORT", "0")
    app = make_app()
    for name in ("alice", "bob", "carol"):  # alice is the configured admin
        app.service.add_account(name)
    feeds = http_feeds_from_env(app)
    assert feeds is not None
    feeds.start()
    try:
        yield app, feeds
    finally:
        feeds.stop()


def get(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def book(app: App, user: str, gpus: int, start: str, end: str) -> Booking:
    return app.service.book(BookingRequest(user=user, resources=Resources(2, 8, gpus),
                                           start=start, end=end))


def events(body: bytes) -> dict[str, tuple[str, datetime, datetime, str]]:
    """UID -> (summary, start, end, status) of each event in a feed."""
    found = {}
    for event in Calendar.from_ical(body).walk("VEVENT"):
        found[str(event["UID"])] = (str(event["SUMMARY"]), event.decoded("DTSTART"),
                                    event.decoded("DTEND"), str(event["STATUS"]))
    return found


def uid(booking: Booking) -> str:
    return f"booking-{booking.id}@gpu1.server-booking"


def test_a_members_feed_has_their_bookings_as_made(served: tuple[App, FeedServer]) -> None:
    app, feeds = served
    first = book(app, "bob", 1, "now", "1-day")
    later = book(app, "bob", 2, "3-day", "1-day")
    called_off = book(app, "bob", 0, "6-day", "1-day")
    app.service.cancel(called_off.id or 0, actor="bob")
    book(app, "carol", 1, "now", "1-day")

    status, body = get(feeds.link_for("bob"))

    assert status == 200
    assert events(body) == {
        uid(first): (f"gpu1: 2 CPUs, 8 GB, 1 GPU (#{first.id})", first.start, first.end, "CONFIRMED"),
        uid(later): (f"gpu1: 2 CPUs, 8 GB, 2 GPUs (#{later.id})", later.start, later.end, "CONFIRMED"),
        uid(called_off): (f"Cancelled: gpu1: 2 CPUs, 8 GB, 0 GPUs (#{called_off.id})",
                          called_off.start, called_off.end, "CANCELLED"),
    }


def test_a_wrong_or_missing_token_is_404_and_says_nothing_about_the_member(
    served: tuple[App, FeedServer],
) -> None:
    app, feeds = served
    book(app, "bob", 1, "now", "1-day")
    base, token = feeds.base_url, feeds.tokens.token_for("bob")
    carols = feeds.tokens.token_for("carol")
    answers = {
        path: get(base + path) for path in (
            f"/calendar/bob/{token[:-1]}x.ics",  # wrong token
            f"/calendar/bob/{carols}.ics",  # another member's token
            "/calendar/bob/.ics", "/calendar/bob", "/calendar/bob/",  # missing
            f"/calendar/nobody/{token}.ics",  # no such member
            f"/calendar/bob/{token}/server.ics",  # the server's feed, bob being no admin
        )
    }
    assert set(answers.values()) == {(404, b"not found\n")}, answers
    # Only GET (and HEAD) is served; long paths are refused; nothing leaks a traceback.
    assert get(feeds.link_for("bob"), method="POST") == (405, b"only GET is served here\n")
    assert get(base + "/" + "a" * 600)[0] == 414
    assert get(feeds.link_for("bob"), method="HEAD") == (200, b"")


def test_the_admin_feed_has_everyones_bookings(served: tuple[App, FeedServer]) -> None:
    app, feeds = served
    bobs = book(app, "bob", 1, "now", "1-day")
    carols = book(app, "carol", 2, "now", "1-day")
    alices = book(app, "alice", 1, "2-day", "1-day")

    status, body = get(feeds.link_for("alice").removesuffix(".ics") + "/server.ics")

    assert status == 200
    found = events(body)
    assert set(found) == {uid(bobs), uid(carols), uid(alices)}
    assert found[uid(carols)][0] == f"carol on gpu1: 2 CPUs, 8 GB, 2 GPUs (#{carols.id})"
    # Her own feed has only her booking.
    assert set(events(get(feeds.link_for("alice"))[1])) == {uid(alices)}


def test_the_booking_confirmation_carries_the_link_and_the_link_works(
    served: tuple[App, FeedServer],
) -> None:
    app, feeds = served
    app.conversation.calendar_link = feeds.link_for  # as `booking serve` sets it
    bob = app.service.account("bob")
    app.conversation.handle(bob, "book 1 gpu now")
    [reply] = app.conversation.handle(bob, "2-day")

    assert reply.text.startswith("Booked: #1 [booked] bob")
    link = f"{feeds.base_url}/calendar/bob/{feeds.tokens.token_for('bob')}.ics"
    assert reply.text.endswith(
        f"Your bookings as a calendar (subscribe, keep it private): {link}")
    assert list(events(get(link)[1])) == ["booking-1@gpu1.server-booking"]


def test_calendar_in_chat_gives_the_link_again_and_an_admin_the_servers_too(
    served: tuple[App, FeedServer],
) -> None:
    app, feeds = served
    bob, alice = app.service.account("bob"), app.service.account("alice")
    [off] = app.conversation.handle(bob, "calendar")
    assert off.text == ("Calendar feeds are not served here; an admin can turn them on "
                        "(BOOKING_HTTP_PORT for `booking serve`).")
    app.conversation.calendar_link = feeds.link_for  # as `booking serve` sets it
    bobs = book(app, "bob", 1, "1-day", "1-day")
    alices = book(app, "alice", 1, "2-day", "1-day")

    [mine] = app.conversation.handle(bob, "calendar")
    assert mine.private
    link = mine.text.removeprefix("Your bookings as a calendar (subscribe, keep it private): ")
    assert link == f"{feeds.base_url}/calendar/bob/{feeds.tokens.token_for('bob')}.ics"
    assert set(events(get(link)[1])) == {uid(bobs)}
    [admins] = app.conversation.handle(alice, "calendar")
    own, server = admins.text.splitlines()
    assert own.endswith(feeds.link_for("alice"))
    everyone = server.removeprefix("The whole server's bookings, everyone's (admins): ")
    assert set(events(get(everyone)[1])) == {uid(bobs), uid(alices)}


def metrics(feeds: FeedServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(feeds.base_url + "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_metrics_count_bookings_by_status_refusals_by_code_and_gpus(
    served: tuple[App, FeedServer],
) -> None:
    app, feeds = served
    now_booking = book(app, "bob", 1, "now", "1-day")
    book(app, "carol", 2, "now", "1-day")
    later = book(app, "bob", 1, "3-day", "1-day")
    app.service.cancel(later.id or 0, actor="alice")  # an admin's change: bob is told
    for user, gpus, start in (("bob", 3, "5-day"), ("carol", 1, "now")):
        with pytest.raises(Refusal) as refused:
            book(app, user, gpus, start, "1-day")
        assert refused.value.code in (ErrorCode.OVER_LIMIT, ErrorCode.OVERLAP)
    running(app, now_booking)  # the container of bob's booking comes up

    seen = metrics(feeds)

    def value(name: str, **labels: str) -> float:
        return seen[(name, tuple(sorted({"server": "gpu1", **labels}.items())))]

    assert {status.value: value("booking_bookings", status=status.value) for status in Status} == {
        "booked": 1, "starting": 0, "running": 1, "ending": 0, "finished": 0, "failed": 0,
        "cancelled": 1}
    assert value("booking_gpus_capacity") == 4
    assert value("booking_gpus_booked") == 3
    assert value("booking_gpus_held") == 1
    assert value("booking_outbox_backlog") == 1
    assert value("booking_decisions_total", action="book", outcome="ok") == 3
    assert value("booking_decisions_total", action="book", outcome="refused") == 2
    assert value("booking_refusals_total", action="book", code="over_limit") == 1
    assert value("booking_refusals_total", action="book", code="overlap") == 1
    assert value("booking_decision_seconds_count", action="book") == 5
    assert value("booking_container_start_lag_seconds_count") == 1
    assert 0 <= value("booking_container_start_lag_seconds_sum") < 60


def running(app: App, booking: Booking) -> Booking:
    """The booking's container came up (what the lifecycle records)."""
    started = Booking(**{**booking.__dict__, "status": Status.RUNNING})
    with app.service.unit() as uow:
        uow.bookings.save(started)
        uow.bookings.record(booking.id or 0, "running", "scheduler")
        uow.commit()
    return started


def test_metrics_count_the_gpus_idle_at_the_idle_watchs_last_sample(
    served: tuple[App, FeedServer],
) -> None:
    app, feeds = served
    assert app.engine is not None
    engine, server_id = app.engine, app.server_id
    readings: dict[int, float] = {}  # percent per GPU id, as the stand-in for NVML reads them

    class StandInGpus:
        def utilisation(self) -> dict[int, float]:
            return dict(readings)

    watch = IdleWatch(config=app.config, uow=lambda: SqlUnitOfWork(engine, server_id),
                      gpus=StandInGpus(), words=idle_words, end=lambda booking_id: None, clock=utcnow)
    feeds.metrics.watch_idle(watch.last_reading)  # as `booking serve` does
    bobs = running(app, book(app, "bob", 2, "now", "1-day"))
    carols = running(app, book(app, "carol", 1, "now", "1-day"))
    book(app, "carol", 1, "3-day", "1-day")  # booked, not running: never read

    def idle_and_read() -> tuple[float, float]:
        seen = metrics(feeds)
        server = (("server", "gpu1"),)
        return seen[("booking_gpus_idle", server)], seen[("booking_gpus_sampled", server)]

    assert idle_and_read() == (0, 0)  # nothing sampled yet
    [free] = set(range(4)) - {*bobs.gpu_ids, *carols.gpu_ids}
    # bob: one GPU idle, one busy; carol's idle; the GPU nobody holds is not counted
    readings.update({bobs.gpu_ids[0]: 2.0, bobs.gpu_ids[1]: 90.0, carols.gpu_ids[0]: 0.0,
                     free: 0.0})
    watch.sample()
    assert idle_and_read() == (2, 3)
    del readings[carols.gpu_ids[0]]  # a GPU that does not answer is neither
    readings[bobs.gpu_ids[0]] = 40.0
    watch.sample()
    assert idle_and_read() == (0, 2)
    app.service.cancel(bobs.id or 0, actor="bob")
    app.service.cancel(carols.id or 0, actor="carol")
    watch.sample()
    assert idle_and_read() == (0, 0)


def test_serve_starts_the_listener_links_the_confirmation_and_stops_it(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """`booking serve` itself (no Docker engine needed until a container is due)."""
    port = free_tcp_port()
    monkeypatch.setenv("BOOKING_SECRET", SECRET)
    monkeypatch.setenv("BOOKING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOOKING_HTTP_PORT", str(port))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    app = make_app()
    app.service.add_account("bob")
    stop = threading.Event()
    runner = threading.Thread(target=lambda: serve(app, stdin=io.StringIO(), stop=stop))
    runner.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert get(base + "/metrics")[0] == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the listener never answered"
                time.sleep(0.1)
        bob = app.service.account("bob")
        app.conversation.handle(bob, "book 1 gpu 2-day")
        [reply] = app.conversation.handle(bob, "1-day")
        [link] = [word for word in reply.text.split() if word.startswith(base + "/calendar/bob/")]
        assert list(events(get(link)[1])) == ["booking-1@gpu1.server-booking"]
        scraped = get(base + "/metrics")[1]
        assert scraped.count(
            b'booking_decisions_total{action="book",outcome="ok",server="gpu1"} 1.0') == 1
        assert b'booking_gpus_idle{server="gpu1"} 0.0' in scraped  # the idle watch's, wired
    finally:
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()
    with pytest.raises(urllib.error.URLError):
        get(base + "/metrics")


def raw(feeds: FeedServer, request: bytes) -> bytes:
    host, port = feeds.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        return b"".join(iter(lambda: conn.recv(65536), b""))


def test_malformed_requests_get_a_short_status_never_a_traceback(
    served: tuple[App, FeedServer],
) -> None:
    _app, feeds = served
    garbage = raw(feeds, b"NOT HTTP AT ALL\r\n\r\n")
    with_body = raw(feeds, b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    huge_header = raw(feeds, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n")
    assert garbage.startswith(b"400 Bad request")  # an HTTP/0.9 answer: no status line
    assert with_body.startswith(b"HTTP/1.0 413 ") and with_body.endswith(b"GET requests carry no body\n")
    assert huge_header.split(b"\r\n", 1)[0] in (b"HTTP/1.0 431 Line too long", b"HTTP/1.0 400 Line too long")
    for answer in (garbage, with_body, huge_header):
        assert b"Traceback" not in answer and b"File \"" not in answer
