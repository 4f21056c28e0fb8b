"""The audit process's side of ``execution.backend: distributed``: enqueue, watch the store, go on when done.

Probe: the run's resources are grouped by host and cut into batches; each host has **at most one batch in
flight** (the next one is sent when the previous one is done), and inside a batch the prober applies the host's
limits (``http.per_host_concurrency``, ``per_host_delay_s``, ``Retry-After``) as it does locally. So a host sees
what one local prober would send it, however many workers and machines there are. Content: one file per task.

Progress is read from the store (the rows the workers write). When no worker answers a ping for
``execution.worker_wait_s`` the stage stops with a Spanish error; when Redis goes away the stage pauses and,
if Redis came back empty (it keeps nothing on disk here), sends again what is not done.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
from celery import Celery
from sqlalchemy import func, select

from audit.config import AuditConfig
from audit.content.jobs import Job, worker_time_limit
from audit.distributed.app import CONTENT_TASK, PROBE_TASK, close_app, make_app
from audit.distributed.state import StageState, client
from audit.distributed.wire import job_to_json, request_to_json
from audit.errors import AuditError, ConfigError
from audit.netguard import normalize_host
from audit.probe.client import ProbeRequest
from audit.progress import stage_progress
from audit.store.db import Store
from audit.store.models import ContentCheck, Probe

log = logging.getLogger(__name__)

POLL_S = 0.2
#: how long without progress before the workers are pinged
_QUIET_S = 5.0


class WorkersUnavailable(AuditError):
    exit_code = 6
    resumable = True  # start a worker and resume


def require_distributed_store(store: Store) -> None:
    if store.dialect != "postgresql":
        raise ConfigError(
            "execution.backend: distributed requiere PostgreSQL: los trabajadores de otras máquinas escriben sus "
            "resultados en la misma base de datos, y SQLite es un archivo local.",
            hint="Use database_url: postgresql+psycopg://… (o --db), o execution.backend: local.",
        )


class _Coordinator:
    def __init__(self, store: Store, run_id: int, cfg: AuditConfig, stage: str) -> None:
        require_distributed_store(store)
        self.store, self.run_id, self.cfg = store, run_id, cfg
        self.settings = cfg.execution
        self.app: Celery = make_app(self.settings)
        self.redis = client(self.settings.broker_url)
        self.state = StageState(self.redis, run_id, stage)
        self._call(self.redis.ping, first=True)
        self.cfg_dump = cfg.model_dump(mode="json")
        self._quiet_since = time.monotonic()
        self._no_worker_since: float | None = None

    # ------------------------------------------------------------------ broker access that survives a restart

    def _call(self, fn: Callable[..., Any], *args: Any, first: bool = False, **kw: Any) -> Any:
        """Call Redis/Celery; while the broker is away, pause (bounded by ``worker_wait_s`` when first)."""
        started = time.monotonic()
        warned = False
        while True:
            try:
                return fn(*args, **kw)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if first and time.monotonic() - started > self.settings.worker_wait_s:
                    raise WorkersUnavailable(
                        f"No se puede conectar con el broker de tareas {self.settings.broker_url}: {exc}",
                        hint="Verifique que Redis esté en marcha (execution.broker_url).",
                    ) from exc
                if not warned:
                    log.warning("broker %s unreachable (%s): paused until it is back", self.settings.broker_url, exc)
                    warned = True
                time.sleep(1.0)
            except Exception as exc:  # kombu wraps connection errors in its own types
                if "Connection" not in type(exc).__name__ and "Operational" not in type(exc).__name__:
                    raise
                if not warned:
                    log.warning("broker unreachable (%s): paused until it is back", exc)
                    warned = True
                time.sleep(1.0)

    def send(self, name: str, args: list[Any], queue: str, time_limit: float) -> None:
        self._call(self.app.send_task, name, args=args, queue=queue, time_limit=time_limit,
                   retry=True, retry_policy={"max_retries": 3})

    def generation_lost(self, gen: str) -> bool:
        return self._call(self.state.generation) != gen

    # ------------------------------------------------------------------ liveness

    def workers_alive(self) -> bool:
        replies = self._call(self.app.control.ping, timeout=1.0)
        return bool(replies)

    def wait_for_workers(self) -> None:
        deadline = time.monotonic() + self.settings.worker_wait_s
        while not self.workers_alive():
            if time.monotonic() > deadline:
                raise self._no_workers()
            time.sleep(1.0)

    def _no_workers(self) -> WorkersUnavailable:
        return WorkersUnavailable(
            f"Ningún trabajador respondió en {self.settings.worker_wait_s:.0f} s "
            f"(execution.backend: distributed, broker {self.settings.broker_url}).",
            hint="Inicie al menos uno con 'run_audit.py worker' (ver docs/deployment.md) y reanude con "
                 "'run_audit.py audit --resume'.",
        )

    def progressed(self, moved: bool) -> None:
        """Called every poll: after a quiet spell, make sure someone is still working."""
        now = time.monotonic()
        if moved:
            self._quiet_since, self._no_worker_since = now, None
            return
        if now - self._quiet_since < _QUIET_S:
            return
        self._quiet_since = now
        if self.workers_alive():
            self._no_worker_since = None
        elif self._no_worker_since is None:
            self._no_worker_since = now
        elif now - self._no_worker_since > self.settings.worker_wait_s:
            raise self._no_workers()

    def close(self) -> None:
        """Release the broker connections (a process forked later must not inherit them)."""
        close_app(self.app)
        self.redis.close()

    def __enter__(self) -> _Coordinator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count(self, model: Any) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(model.run_id == self.run_id)) or 0)


# --------------------------------------------------------------------------- probe


def probe_time_limit(cfg: AuditConfig, n: int) -> float:
    """Worst case of a batch of ``n`` resources of one host: every request retried to the end."""
    http = cfg.http
    per_request = (http.total_timeout_s + http.backoff_base_s * 2 ** http.retries) * (http.retries + 1) \
        + http.retry_after_cap_s * http.retries + http.per_host_delay_s
    return math.ceil(n / http.per_host_concurrency) * per_request + 30.0


def probe_batch_size(cfg: AuditConfig) -> int:
    """``execution.probe_batch_size``, made smaller if a batch could outlast the visibility timeout (then a live
    worker's batch would be handed to a second worker and the host probed twice as hard)."""
    size = cfg.execution.probe_batch_size
    while size > 1 and probe_time_limit(cfg, size) > 0.9 * cfg.execution.visibility_timeout_s:
        size = max(1, size // 2)
    return size


def host_batches(requests: Sequence[ProbeRequest], size: int) -> dict[str, list[list[ProbeRequest]]]:
    by_host: dict[str, list[ProbeRequest]] = {}
    for req in requests:
        host = normalize_host(urlsplit(req.url or "").hostname or "") if req.url else ""
        by_host.setdefault(host, []).append(req)
    return {h: [reqs[i : i + size] for i in range(0, len(reqs), size)] for h, reqs in by_host.items()}


def run_probe_distributed(store: Store, run_id: int, cfg: AuditConfig, requests: Sequence[ProbeRequest],
                          allow_hosts: Collection[str]) -> None:
    with _Coordinator(store, run_id, cfg, "probe") as coord:
        _probe(coord, store, run_id, cfg, requests, allow_hosts)


def _probe(coord: _Coordinator, store: Store, run_id: int, cfg: AuditConfig, requests: Sequence[ProbeRequest],
           allow_hosts: Collection[str]) -> None:
    coord.wait_for_workers()
    size = probe_batch_size(cfg)
    plan = host_batches(requests, size)
    time_limit = probe_time_limit(cfg, size)
    hosts = sorted(allow_hosts)
    log.info("probe run=%d distributed: %d resources, %d hosts, batches of %d", run_id, len(requests), len(plan), size)

    pending: dict[str, deque[tuple[str, list[ProbeRequest]]]] = {
        host: deque((f"{i}.{k}", batch) for k, batch in enumerate(batches))
        for i, (host, batches) in enumerate(sorted(plan.items()))
    }
    inflight: dict[str, tuple[str, list[ProbeRequest]]] = {}
    gen = coord.state.new_generation()

    def send(host: str, item: tuple[str, list[ProbeRequest]]) -> None:
        batch_id, batch = item
        inflight[host] = item
        coord.send(PROBE_TASK, [run_id, gen, batch_id, [request_to_json(r) for r in batch], hosts, coord.cfg_dump],
                   "probe", time_limit)

    for host in list(pending):
        send(host, pending[host].popleft())
    baseline = coord.count(Probe)
    seen = baseline
    with stage_progress("Sondeando recursos (trabajadores)", total=len(requests)) as advance:
        while inflight:
            time.sleep(POLL_S)
            if coord.generation_lost(gen):  # Redis came back empty: send the unfinished batches again
                log.warning("probe run=%d: the broker lost its queues; sending the unfinished batches again", run_id)
                gen = coord.state.new_generation()
                for host, item in list(inflight.items()):
                    send(host, item)
                continue
            done = coord._call(coord.state.done, gen)
            for host, (batch_id, _batch) in list(inflight.items()):
                if batch_id in done:
                    del inflight[host]
                    if pending[host]:
                        send(host, pending[host].popleft())
            now = coord.count(Probe)
            advance(now - seen)
            coord.progressed(now != seen)
            seen = now


# --------------------------------------------------------------------------- content


def run_content_distributed(store: Store, run_id: int, cfg: AuditConfig, jobs: Sequence[Job],
                            counts: dict[str, int], *, description: str = "Validando contenido (trabajadores)") -> None:
    """Validate ``jobs`` on the workers (one file per task); add what they stored to ``counts``."""
    if not jobs:
        return
    with _Coordinator(store, run_id, cfg, "content") as coord:
        _content(coord, store, run_id, cfg, jobs, counts, description)


def _content(coord: _Coordinator, store: Store, run_id: int, cfg: AuditConfig, jobs: Sequence[Job],
             counts: dict[str, int], description: str) -> None:
    coord.wait_for_workers()
    time_limit = worker_time_limit(cfg)
    if cfg.execution.visibility_timeout_s < time_limit:
        log.warning("execution.visibility_timeout_s (%d s) is shorter than one file's time limit (%.0f s): a slow file "
                    "may be validated twice (never stored twice)", cfg.execution.visibility_timeout_s, time_limit)
    ids = [j.resource_snapshot_id for j in jobs]
    gen = coord.state.new_generation()

    def send_all(todo: Sequence[Job]) -> None:
        for job in todo:
            coord.send(CONTENT_TASK, [run_id, gen, job_to_json(job), coord.cfg_dump], "content", time_limit)

    baseline = coord.count(ContentCheck)
    send_all(jobs)
    seen = baseline
    with stage_progress(description, total=len(jobs)) as advance:
        while seen < baseline + len(jobs):
            time.sleep(POLL_S)
            if coord.generation_lost(gen):
                log.warning("content run=%d: the broker lost its queues; sending the unfinished files again", run_id)
                gen = coord.state.new_generation()
                stored = _stored_ids(store, run_id, ids)
                send_all([j for j in jobs if j.resource_snapshot_id not in stored])
                continue
            now = coord.count(ContentCheck)
            advance(now - seen)
            coord.progressed(now != seen)
            seen = now
    _add_counts(store, run_id, ids, counts)


def _stored_ids(store: Store, run_id: int, ids: Sequence[int]) -> set[int]:
    out: set[int] = set()
    with store.session() as s:
        for i in range(0, len(ids), 1000):
            out.update(s.scalars(select(ContentCheck.resource_snapshot_id).where(
                ContentCheck.run_id == run_id, ContentCheck.resource_snapshot_id.in_(ids[i : i + 1000]))))
    return out


def _add_counts(store: Store, run_id: int, ids: Sequence[int], counts: dict[str, int]) -> None:
    """The counts the local stage keeps while flushing, read back from the rows the workers stored."""
    tally: Counter[str] = Counter()
    with store.session() as s:
        for i in range(0, len(ids), 1000):
            for reused, parsed_ok, details in s.execute(
                select(ContentCheck.reused, ContentCheck.parsed_ok, ContentCheck.details).where(
                    ContentCheck.run_id == run_id, ContentCheck.resource_snapshot_id.in_(ids[i : i + 1000]))
            ):
                tally["reused" if reused else "checked"] += 1
                tally["parsed_ok" if parsed_ok else "failed"] += 1
                if not reused and "download_failed" in ((details or {}).get("problems") or []):
                    tally["download_failed"] += 1
    for key, n in tally.items():
        counts[key] = counts.get(key, 0) + n
