"""Watching booking decisions: who wants to know how long each took and how it ended.

Adapters (metrics, for one) register a `DecisionObserver` with the service; `book` and
`extend` report to each, after the decision, whether it was made or refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from core.domain.model import Refusal

log = logging.getLogger(__name__)


class DecisionObserver(Protocol):
    def observe(self, action: str, seconds: float, refusal: Refusal | None) -> None:
        """`action` ("book", "extend") took `seconds`; `refusal` is why it was refused."""


@contextmanager
def observed(observers: Sequence[DecisionObserver], action: str) -> Iterator[None]:
    """Time the block and report it to every observer; an observer that fails is logged,
    never the member's answer."""
    began = time.perf_counter()
    refusal: Refusal | None = None
    try:
        yield
    except Refusal as exc:
        refusal = exc
        raise
    finally:
        seconds = time.perf_counter() - began
        for observer in observers:
            try:
                observer.observe(action, seconds, refusal)
            except Exception:
                log.exception("a decision observer failed")
