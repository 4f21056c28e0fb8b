"""The dashboard's HTTP-level caches: rendered pages of finished runs, short-lived memos and Cache-Control.

The run results themselves are cached once, by the read model (:class:`audit.results.cache.ResultsCache`); these
caches only keep what the dashboard made of them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.results.cache import FINISHED, run_version
from audit.store.models import AuditRun


def cache_control(run: AuditRun | None, explicit: bool) -> str:
    """How long a client or proxy may reuse an answer about ``run``: a finished run never changes (an hour when
    the address names it; a minute when it means "the newest run", which a new audit replaces); a run in
    progress must be revalidated every time (its ETag changes as it advances)."""
    if run is None or run.status not in FINISHED:
        return "no-cache"
    return "public, max-age=3600" if explicit else "public, max-age=60"


class TTLMemo:
    """Tiny time-bounded memo for values that may change but need not be re-read on every request (which run
    is the newest, the run header, the list of years): at most ``ttl_s`` seconds stale."""

    def __init__(self, ttl_s: float = 2.0, size: int = 256) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        value = compute()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class PageCache:
    """Rendered HTML of views over finished runs (bounded LRU by URL, thread-safe).

    A finished run does not change, but it can be re-scored (``run_audit.py score --run N``) or a newer run can
    appear (year selector): each entry carries the run version it was rendered from (status, stage, finish time,
    stages, counts, newest run id) and the view checks it before reusing the entry. Within ``fresh_s`` seconds of
    the last check an entry is served straight from the ASGI layer without touching the database, so a change
    shows up at most ``fresh_s`` seconds late. Admin jobs clear the cache when they finish."""

    def __init__(self, entries: int, fresh_s: float = 10.0, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.entries = entries
        self.fresh_s = fresh_s
        self.max_bytes = max_bytes  # bounded in bytes too: many distinct filtered pages cannot exhaust memory
        self.bytes = 0
        self._items: OrderedDict[tuple[str, str], list[Any]] = OrderedDict()  # url → [version, body, checked_at]
        self._lock = threading.Lock()
        self.hits = self.fresh_hits = self.misses = 0

    @staticmethod
    def run_key(s: Session, run: AuditRun, memo: TTLMemo | None = None) -> tuple[Any, ...] | None:
        if run.status not in FINISHED:
            return None

        def newest() -> int | None:
            return s.scalar(select(func.max(AuditRun.id)))

        return (run.id, *run_version(run), memo.get(("newest",), newest) if memo is not None else newest())

    def fresh(self, url: tuple[str, str]) -> bytes | None:
        """The body if it was validated less than ``fresh_s`` seconds ago (no database access)."""
        if self.entries <= 0 or self.fresh_s <= 0:
            return None
        with self._lock:
            item = self._items.get(url)
            if item is None or time.monotonic() - item[2] > self.fresh_s:
                return None
            self._items.move_to_end(url)
            self.fresh_hits += 1
            return item[1]  # type: ignore[no-any-return]

    def get(self, url: tuple[str, str], version: tuple[Any, ...] | None) -> bytes | None:
        if version is None or self.entries <= 0:
            return None
        with self._lock:
            item = self._items.get(url)
            if item is None or item[0] != version:
                self.misses += 1
                return None
            item[2] = time.monotonic()
            self._items.move_to_end(url)
            self.hits += 1
            return item[1]  # type: ignore[no-any-return]

    def put(self, url: tuple[str, str], version: tuple[Any, ...] | None, body: bytes) -> None:
        if version is None or self.entries <= 0:
            return
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(url, None)
            self.bytes -= len(old[1]) if old is not None else 0
            self._items[url] = [version, body, time.monotonic()]
            self.bytes += len(body)
            while len(self._items) > self.entries or self.bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self.bytes -= len(evicted[1])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0
