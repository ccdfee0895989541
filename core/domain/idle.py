"""Idle GPUs: a running booking's summary of its GPUs' utilisation, and what to do about
a booking whose GPUs all sat idle (core/services/idle_watch.py acts on it).

A sample is the mean utilisation (percent) of the booking's GPUs at one moment; the
booking is idle at that moment when every one of its GPUs is below the threshold. Only
the summary is kept: the number of samples, their sum, and since when the GPUs have been
idle without a break. The idle clock starts at the later of that moment and the member's
last *Keep it*; the member is asked once per idle stretch, and with a release set the
booking is ended when the stretch reaches it with no answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.domain.config import IdleSection

NOTIFIED = "idle_notified"  # the member was asked; detail: nudge (1, 2, ...), at, summary
KEPT = "idle_kept"  # the member pressed Keep it; detail: nudge, at
RELEASED = "idle_released"  # ended for idleness; detail: at, idle_since, summary
USAGE = "gpu_usage"  # at the end: avg_util, samples (the usage report reads it)


@dataclass(frozen=True)
class UsageSummary:
    samples: int = 0
    total: float = 0.0  # the sum of the samples (each a mean over the booking's GPUs)
    idle_since: datetime | None = None  # None while some GPU is in use

    @property
    def avg_util(self) -> float:
        return round(self.total / self.samples, 1) if self.samples else 0.0

    def add(self, utilisation: Sequence[float], at: datetime, threshold: float) -> UsageSummary:
        """The summary with one more sample: each of the booking's GPUs' percent at `at`."""
        if not utilisation:
            return self
        idle = all(u < threshold for u in utilisation)
        since = (self.idle_since or at) if idle else None
        return replace(self, samples=self.samples + 1,
                       total=self.total + sum(utilisation) / len(utilisation), idle_since=since)

    def detail(self) -> dict[str, Any]:
        """What an event keeps of it."""
        return {"avg_util": self.avg_util, "samples": self.samples}

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> UsageSummary:
        """The summary an event kept (after a restart, sampling goes on from it)."""
        samples = int(detail.get("samples", 0))
        return cls(samples, float(detail.get("avg_util", 0.0)) * samples)


class Step(StrEnum):
    NOTHING = "nothing"
    NOTIFY = "notify"
    RELEASE = "release"


@dataclass(frozen=True)
class Marks:
    """What the booking's events say about its idle stretches."""

    nudges: int = 0  # how many times the member was asked
    last_nudge: datetime | None = None
    kept: frozenset[int] = frozenset()  # the nudges answered with Keep it
    last_keep: datetime | None = None
    released: bool = False


def idle_clock(summary: UsageSummary, marks: Marks) -> datetime | None:
    """Since when the booking counts as idle: a Keep it starts the clock again."""
    if summary.idle_since is None:
        return None
    if marks.last_keep is not None and marks.last_keep > summary.idle_since:
        return marks.last_keep
    return summary.idle_since


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def next_step(summary: UsageSummary, marks: Marks, now: datetime, settings: IdleSection) -> Step:
    """Ask once per idle stretch after notify_hours; end after release_hours unanswered."""
    since = idle_clock(summary, marks)
    if since is None or settings.notify_hours is None or marks.released:
        return Step.NOTHING
    asked = (marks.last_nudge is not None and marks.last_nudge >= since
             and marks.nudges not in marks.kept)  # a kept question is answered
    if not asked:
        return Step.NOTIFY if now - since >= hours(settings.notify_hours) else Step.NOTHING
    if settings.release_hours is not None and now - since >= hours(settings.release_hours):
        return Step.RELEASE
    return Step.NOTHING


class KeepOutcome(StrEnum):
    KEPT = "kept"
    ALREADY = "already"  # this nudge was answered before: a second press acts no more
    OLD = "old"  # a newer nudge was sent since
    NOT_ASKED = "not_asked"  # no nudge to answer
    RELEASED = "released"  # too late: ended for idleness


def keep_outcome(marks: Marks, nudge: int | None) -> tuple[KeepOutcome, int]:
    """What a Keep it for `nudge` (None: the latest, as typed) does, and which nudge it keeps."""
    target = marks.nudges if nudge is None else nudge
    if marks.released:
        return KeepOutcome.RELEASED, target
    if marks.nudges == 0 or target < 1 or target > marks.nudges:
        return KeepOutcome.NOT_ASKED, target
    if target in marks.kept:
        return KeepOutcome.ALREADY, target
    if target < marks.nudges:
        return KeepOutcome.OLD, target
    return KeepOutcome.KEPT, target


def marks_from(events: Sequence[tuple[str, Mapping[str, Any], datetime]]) -> Marks:
    """The marks of a booking's events, each (kind, detail, when)."""
    marks = Marks()
    for kind, detail, at in events:
        if kind == NOTIFIED:
            marks = replace(marks, nudges=marks.nudges + 1, last_nudge=at)
        elif kind == KEPT:
            marks = replace(marks, kept=marks.kept | {int(detail.get("nudge", 0))}, last_keep=at)
        elif kind == RELEASED:
            marks = replace(marks, released=True)
    return marks
