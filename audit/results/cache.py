"""The read model's one cache: a finished run never changes, so its table is computed once and kept (bounded LRU,
thread-safe); a run still in progress is rebuilt after a few seconds, and a re-scored run (new version) at once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from audit.results.table import RunTable, build_table
from audit.store.models import AuditRun

FINISHED = ("complete", "partial", "failed", "interrupted")
RUNNING_TTL_S = 5.0


def run_version(run: AuditRun) -> tuple[Any, ...]:
    """Changes when a run's results may have changed (a stage re-run or the run finishing)."""
    return (run.status, run.stage, str(run.finished_at), len(run.stages_done or []), str(run.counts))


class ResultsCache:
    """LRU of :class:`RunTable` by run id; a finished run is reused while its version is unchanged, a running one
    is rebuilt after ``RUNNING_TTL_S`` seconds. One thread builds a run; concurrent requests for it wait."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[int, tuple[RunTable, tuple[Any, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        self._build_locks: dict[int, threading.Lock] = {}
        self.size = size

    def _fresh(self, run: AuditRun) -> RunTable | None:
        hit = self._items.get(run.id)
        if hit is None or hit[1] != run_version(run):
            return None
        if run.status not in FINISHED and time.monotonic() - hit[0].built_at >= RUNNING_TTL_S:
            return None
        self._items.move_to_end(run.id)
        return hit[0]

    def get(self, s: Session, run: AuditRun, weights: dict[str, float]) -> RunTable:
        with self._lock:
            if (table := self._fresh(run)) is not None:
                return table
            build_lock = self._build_locks.setdefault(run.id, threading.Lock())
        with build_lock:
            with self._lock:
                if (table := self._fresh(run)) is not None:
                    return table
            table = build_table(s, run.id, weights)
            with self._lock:
                self._items[run.id] = (table, run_version(run))
                self._items.move_to_end(run.id)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return table

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
