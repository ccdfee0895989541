"""Prometheus metrics of one `booking serve`, labelled by server name.

Gauges are read from the database at scrape time (storage/metrics_reads.py): bookings
by status, GPUs booked now and held by containers, the outbox backlog, and container
start lag (a histogram over every started booking, from its events). Decisions, refusals
by code and decision latency are counted in this process: `Metrics` observes the booking
service's decisions (`book`, `extend`; core/services/decisions.py). Chat adapters and the
terminal chat run here; the `booking` CLI in another process is not counted.

GPUs idle now come from the idle watch's last sample in this process (`IdleCollector`,
core/services/idle_watch.py): which GPUs are idle is known only there, since nothing
per minute is written to the database. `booking serve` registers it; without NVML
nothing is read, so both of its gauges are 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from core.domain.model import Refusal
from core.services.accounts import utcnow
from core.services.idle_watch import IdleReading
from storage.metrics_reads import read_state

START_LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class StateCollector(Collector):
    """Current state, read from the database on every scrape."""

    def __init__(self, engine: Engine, server_id: int, server: str, gpu_capacity: int) -> None:
        self._engine, self._server_id, self._server = engine, server_id, server
        self._capacity = gpu_capacity

    def collect(self) -> Iterator[Metric]:
        state = read_state(self._engine, self._server_id, utcnow())
        server = [self._server]
        bookings = GaugeMetricFamily("booking_bookings", "Bookings by status.",
                                     labels=["server", "status"])
        for status, count in sorted(state.by_status.items()):
            bookings.add_metric([self._server, status], count)
        yield bookings
        for name, help_text, value in (
            ("booking_gpus_capacity", "GPUs this server has.", self._capacity),
            ("booking_gpus_booked", "GPUs of bookings whose window covers now.", state.gpus_booked),
            ("booking_gpus_held", "GPUs held by bookings whose container exists.", state.gpus_held),
            ("booking_outbox_backlog", "Messages recorded and not sent yet.", state.outbox_backlog),
        ):
            gauge = GaugeMetricFamily(name, help_text, labels=["server"])
            gauge.add_metric(server, value)
            yield gauge
        lag = HistogramMetricFamily(
            "booking_container_start_lag_seconds",
            "From a booking's start (or its making, if later) to its container running.",
            labels=["server"])
        lags = state.start_lags
        buckets = [(f"{bound:g}", sum(1 for x in lags if x <= bound)) for bound in START_LAG_BUCKETS]
        lag.add_metric(server, [*buckets, ("+Inf", len(lags))], sum_value=sum(lags))
        yield lag


class IdleCollector(Collector):
    """GPUs of running bookings read at the idle watch's last sample (every minute), and
    those of them below idle.threshold_percent."""

    def __init__(self, reading: Callable[[], IdleReading], server: str) -> None:
        self._reading, self._server = reading, server

    def collect(self) -> Iterator[Metric]:
        reading = self._reading()
        for name, help_text, value in (
            ("booking_gpus_sampled", "GPUs of running bookings read at the last idle sample.",
             reading.gpus_read),
            ("booking_gpus_idle", "GPUs of running bookings below idle.threshold_percent at the "
             "last idle sample.", reading.gpus_idle),
        ):
            gauge = GaugeMetricFamily(name, help_text, labels=["server"])
            gauge.add_metric([self._server], value)
            yield gauge


class Metrics:
    def __init__(self, server: str) -> None:
        self.server = server
        self.registry = CollectorRegistry()
        self.decisions = Counter("booking_decisions", "Booking decisions made here, by outcome.",
                                 ["server", "action", "outcome"], registry=self.registry)
        self.refusals = Counter("booking_refusals", "Refused requests, by refusal code.",
                                ["server", "action", "code"], registry=self.registry)
        self.latency = Histogram("booking_decision_seconds", "How long a decision took.",
                                 ["server", "action"], registry=self.registry)

    def watch_idle(self, reading: Callable[[], IdleReading]) -> None:
        """Serve the idle watch's last sample (`IdleWatch.last_reading`) too."""
        self.registry.register(IdleCollector(reading, self.server))

    def observe(self, action: str, seconds: float, refusal: Refusal | None) -> None:
        self.latency.labels(self.server, action).observe(seconds)
        self.decisions.labels(self.server, action, "refused" if refusal else "ok").inc()
        if refusal is not None:
            self.refusals.labels(self.server, action, refusal.code.value).inc()
