"""Bookkeeping of one stage of one run in Redis, beside the broker's queues.

- A **generation** per (run, stage): the audit process draws a new one each time it (re)plans the stage, and a
  worker drops a message of an older generation. So a resumed run, or one re-planned after Redis lost its
  queues, never has two copies of a host's batch probing at once.
- **Attempts** per item: a file that kills its worker every time is delivered ``max_attempts`` times, then
  recorded as ``worker_crashed`` instead of being retried forever.
- **Done** probe batches: the audit process sends a host's next batch only when the previous one is done.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis

_TTL_S = 7 * 24 * 3600


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)


class StageState:
    def __init__(self, r: redis.Redis, run_id: int, stage: str) -> None:
        self.r = r
        self.base = f"auditor:run:{run_id}:{stage}"

    def new_generation(self) -> str:
        gen = uuid.uuid4().hex[:12]
        self.r.set(f"{self.base}:gen", gen, ex=_TTL_S)
        return gen

    def generation(self) -> str | None:
        value: Any = self.r.get(f"{self.base}:gen")
        return value.decode() if isinstance(value, bytes) else value

    def attempt(self, gen: str, item: str) -> int:
        key = f"{self.base}:{gen}:attempts:{item}"
        n = int(self.r.incr(key))  # type: ignore[arg-type]
        self.r.expire(key, _TTL_S)
        return n

    def mark_done(self, gen: str, item: str) -> None:
        key = f"{self.base}:{gen}:done"
        self.r.sadd(key, item)
        self.r.expire(key, _TTL_S)

    def done(self, gen: str) -> set[str]:
        return {m.decode() if isinstance(m, bytes) else str(m) for m in self.r.smembers(f"{self.base}:{gen}:done")}  # type: ignore[union-attr]
