"""Reads for autocomplete: never behind the write lock, and within Discord's 3 seconds.

Discord drops an autocomplete answer that comes after three seconds. On SQLite
every unit of work begins with BEGIN IMMEDIATE and so waits for a booking being
written; the reads here begin a plain transaction instead (storage's `reading`),
which in WAL mode reads the last committed state at once. Whatever still takes
too long, or fails, is given up: the member gets the choices known without the
database, or none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from storage.engine import reading

log = logging.getLogger(__name__)

BUDGET_SECONDS = 2.0  # of Discord's 3: the rest is for the answer's way back
T = TypeVar("T")


def read_only(work: Callable[[], T]) -> T:
    """`work()` in a reading transaction: never behind the write lock."""
    with reading():
        return work()


async def within_budget(
    work: Callable[[], T], otherwise: T, what: str, budget: float = BUDGET_SECONDS,
) -> T:
    """`work()` reading in a worker thread, or `otherwise` when it is not done within
    `budget` seconds or fails."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(read_only, work), budget)
    except TimeoutError:
        log.warning("autocomplete for %s took over %gs; answered without it", what, budget)
    except Exception:
        log.exception("autocomplete for %s failed; answered without it", what)
    return otherwise
