"""The decision's sweeps over spans agree with the plain per-window check."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.domain.allocation import (
    Fit,
    choose_port,
    earliest_fit,
    load_in,
    micros,
    shortages,
    usage_in,
)
from core.domain.model import Booking, Resources, Status
from storage.tables import HOLDING_INDEX_COLUMNS, HOLDING_LENGTH_SQL, HOLDING_STATUS_SQL, MICROS_SQL

BASE = datetime(2026, 12, 1, tzinfo=UTC)
HOUR = 3_600_000_000
HOST = Resources(8, 32, 4)

spans_strategy = st.lists(
    st.tuples(
        st.integers(0, 3),  # account id
        st.integers(0, 40),  # start, in hours
        st.integers(1, 12),  # length, in hours
        st.sampled_from([1.0, 2.5, 4.0]),
        st.integers(1, 16),
        st.lists(st.integers(0, 3), max_size=2, unique=True),
        st.integers(10001, 10004),
    ),
    max_size=14,
)


def as_spans(raw):  # type: ignore[no-untyped-def]
    base = micros(BASE)
    return [(n + 1, owner, base + start * HOUR, base + (start + length) * HOUR, cpus, memory,
             ",".join(map(str, sorted(gpus))), port)
            for n, (owner, start, length, cpus, memory, gpus, port) in enumerate(raw)]


def as_bookings(spans):  # type: ignore[no-untyped-def]
    return [Booking(id=i, account=f"a{owner}", status=Status.BOOKED,
                    start=BASE + timedelta(microseconds=s - micros(BASE)),
                    end=BASE + timedelta(microseconds=e - micros(BASE)),
                    resources=Resources(c, m, len(g.split(",")) if g else 0),
                    gpu_ids=tuple(int(x) for x in g.split(",") if x), port=p, image="i")
            for i, owner, s, e, c, m, g, p in spans]


def fits(spans, fit: Fit, start: int, end: int) -> bool:  # type: ignore[no-untyped-def]
    """The plain check of one window, as the service did it before the sweep."""
    bookings = as_bookings(spans)
    window_start = BASE + timedelta(microseconds=start - micros(BASE))
    window_end = BASE + timedelta(microseconds=end - micros(BASE))
    near = [b for b in bookings if b.start < window_end and b.end > window_start]
    if any(b.account == f"a{fit.account_id}" for b in near):
        return False
    from core.domain.model import Window

    usage = usage_in(Window(window_start, window_end), near)
    if shortages(fit.resources, fit.host, usage):
        return False
    if fit.port is not None:
        return fit.port not in usage.busy_ports
    return choose_port(preferred=fit.preferred, port_range=fit.port_range,
                       busy=usage.busy_ports, reserved=frozenset()) is not None


@given(spans_strategy, st.integers(0, 3), st.sampled_from([1.0, 4.0, 8.0]), st.integers(1, 32),
       st.integers(0, 4), st.sampled_from([None, 10002]), st.sampled_from([None, 10001]),
       st.integers(1, 10))
def test_earliest_fit_is_the_first_candidate_the_plain_check_accepts(  # type: ignore[no-untyped-def]
    raw, account, cpus, memory, gpus, port, preferred, hours,
) -> None:
    spans = as_spans(raw)
    fit = Fit(resources=Resources(cpus, memory, gpus), host=HOST, account_id=account, port=port,
              preferred=preferred, port_range=(10001, 10003))
    base = micros(BASE)
    candidates = sorted({base} | {s[3] for s in spans})
    expected = next((c for c in candidates if fits(spans, fit, c, c + hours * HOUR)), None)
    assert earliest_fit(spans, fit, hours * HOUR, candidates) == expected


@given(spans_strategy, st.integers(0, 40), st.integers(1, 20))
def test_load_in_is_usage_in_on_spans(raw, start, length) -> None:  # type: ignore[no-untyped-def]
    from core.domain.model import Window

    spans = as_spans(raw)
    begin, end = micros(BASE) + start * HOUR, micros(BASE) + (start + length) * HOUR
    window = Window(BASE + timedelta(hours=start), BASE + timedelta(hours=start + length))
    load = load_in(begin, end, spans, 2)
    assert load.usage == usage_in(window, as_bookings(spans))
    own = [s[0] for s in spans if s[1] == 2 and s[2] < end and s[3] > begin]
    assert load.own == (own[0] if own else None)


def test_the_partial_index_and_generated_times_are_the_ones_the_migration_made() -> None:
    path = Path(__file__).parents[2] / "storage/migrations/versions/0006_booking_micros.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._WHERE == HOLDING_STATUS_SQL
    assert tuple(module._COLUMNS) == HOLDING_INDEX_COLUMNS
    assert module._MICROS == MICROS_SQL
    assert module._LENGTH == HOLDING_LENGTH_SQL
