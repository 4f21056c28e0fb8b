"""What a worker runs: the local stages' per-resource code, writing its rows to the shared PostgreSQL store.

A task never trusts that it is the only delivery of its message: it skips what the store already holds, and the
store's unique constraints (one Probe and one ContentCheck per run and resource) refuse a second row if two
deliveries ever race. Results go to the store, not to Celery: the audit process watches the store.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any

from celery import Celery, Task
from celery.exceptions import TimeLimitExceeded
from celery.signals import worker_process_init
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audit.clock import utcnow
from audit.config import AuditConfig
from audit.content.stage import _flush, _lost, _safe
from audit.distributed.app import CONTENT_TASK, PROBE_TASK
from audit.distributed.state import StageState, client
from audit.distributed.wire import job_from_json, request_from_json
from audit.errors import StoreError
from audit.probe.stage import _probe_and_store, _run_coro
from audit.store.db import Store, open_store
from audit.store.models import ContentCheck, Probe, RunError

log = logging.getLogger(__name__)

#: the worker's own configuration (its database and broker); set by ``run_audit.py worker``
_config: dict[str, AuditConfig] = {}
_stores: dict[int, Store] = {}


def configure(cfg: AuditConfig) -> None:
    _config["cfg"] = cfg


def _cfg() -> AuditConfig:
    return _config["cfg"]


def _store() -> Store:
    """One store per process: a pool process must not use connections inherited from its parent."""
    pid = os.getpid()
    if pid not in _stores:
        _stores[pid] = open_store(_cfg().database_url, migrate_schema=False)
    return _stores[pid]


@worker_process_init.connect
def _forget_parent_connections(**_: Any) -> None:
    for pid, store in list(_stores.items()):
        if pid != os.getpid():
            store.engine.dispose(close=False)  # leave the parent's sockets alone
            del _stores[pid]


def _state(run_id: int, stage: str) -> StageState:
    return StageState(client(_cfg().execution.broker_url), run_id, stage)


def _is_duplicate(exc: StoreError) -> bool:
    return isinstance(exc.__cause__, IntegrityError)


# --------------------------------------------------------------------------- content: one file per task


def content_file(run_id: int, gen: str, job_json: dict[str, Any], cfg_dump: dict[str, Any]) -> str:
    state = _state(run_id, "content")
    if state.generation() != gen:
        return "stale"  # planned by an earlier attempt at this stage; the current plan has its own message
    job = job_from_json(job_json)
    store = _store()
    if _content_stored(store, run_id, job.resource_snapshot_id):
        return "already_stored"  # a redelivery of a task that stored its row but died before the ack
    attempts = state.attempt(gen, str(job.resource_snapshot_id))
    if attempts > int(cfg_dump["execution"]["max_attempts"]):
        log.warning("content run=%d resource=%d: delivered %d times, recorded as worker_crashed", run_id,
                    job.resource_snapshot_id, attempts - 1)
        out = _lost(job, "worker_crashed")
    else:
        out = _safe(job, cfg_dump)
    _store_content(store, run_id, job_json, out)
    return "stored"


def _content_stored(store: Store, run_id: int, resource_snapshot_id: int) -> bool:
    with store.session() as s:
        return s.scalar(select(ContentCheck.id).where(ContentCheck.run_id == run_id,
                                                      ContentCheck.resource_snapshot_id == resource_snapshot_id)) is not None


def _store_content(store: Store, run_id: int, job_json: dict[str, Any], out: dict[str, Any]) -> None:
    try:
        _flush(store, run_id, [(job_from_json(job_json), out)], Counter())
    except StoreError as exc:
        if not _is_duplicate(exc):
            raise
        log.info("content run=%d resource=%s already stored by another delivery", run_id,
                 job_json.get("resource_snapshot_id"))


# --------------------------------------------------------------------------- probe: a batch of one host per task


def probe_batch(run_id: int, gen: str, batch_id: str, requests_json: list[dict[str, Any]], allow_hosts: list[str],
                cfg_dump: dict[str, Any]) -> str:
    state = _state(run_id, "probe")
    if state.generation() != gen:
        return "stale"
    store = _store()
    requests = [request_from_json(r) for r in requests_json]
    with store.session() as s:
        stored = set(s.scalars(select(Probe.resource_snapshot_id).where(
            Probe.run_id == run_id, Probe.resource_snapshot_id.in_([int(r.key) for r in requests]))))
    todo = [r for r in requests if int(r.key) not in stored]  # a redelivered batch goes on where it stopped
    if todo:
        if state.attempt(gen, batch_id) > int(cfg_dump["execution"]["max_attempts"]):
            _probe_lost(store, run_id, todo[0].url, "probe_batch_crashed",
                        f"El lote de sondeo {batch_id} tumbó a su trabajador repetidamente; {len(todo)} recursos "
                        "quedaron sin sondear (se reintentan al reanudar).")
        else:
            cfg = AuditConfig.model_validate(cfg_dump)
            _run_coro(_probe_and_store(store, run_id, cfg, todo, frozenset(allow_hosts)))
    state.mark_done(gen, batch_id)
    return "done"


def _probe_lost(store: Store, run_id: int, url: str | None, code: str, message: str) -> None:
    with store.session() as s:
        s.add(RunError(run_id=run_id, stage="probe", subject=(url or "")[:500], code=code, message=message,
                       created_at=utcnow()))


# --------------------------------------------------------------------------- registration


class _AuditTask(Task):  # type: ignore[misc]
    """Records a task that failed or overran its hard time limit, so the audit process does not wait for it.

    Runs in the worker's main process (the pool process may have been killed)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        timed_out = isinstance(exc, TimeLimitExceeded)
        log.warning("task %s %s failed: %r", self.name, task_id, exc)
        try:
            if self.name == CONTENT_TASK:
                run_id, _gen, job_json, _cfg_dump = args
                job = job_from_json(job_json)
                _store_content(_store(), run_id, job_json, _lost(job, "worker_timeout" if timed_out else "check_error"))
            elif self.name == PROBE_TASK:
                run_id, gen, batch_id, requests_json, _hosts, _cfg_dump = args
                _probe_lost(_store(), run_id, requests_json[0].get("url") if requests_json else None,
                            "probe_batch_timeout" if timed_out else "probe_batch_error",
                            f"El lote de sondeo {batch_id} no terminó ({type(exc).__name__}); sus recursos sin "
                            "sondear se reintentan al reanudar.")
                _state(run_id, "probe").mark_done(gen, batch_id)
        except Exception:  # the worker must go on; the audit process will report the missing rows
            log.exception("could not record the failure of task %s", task_id)


def register(app: Celery) -> None:
    app.task(name=CONTENT_TASK, base=_AuditTask)(content_file)
    app.task(name=PROBE_TASK, base=_AuditTask)(probe_batch)
