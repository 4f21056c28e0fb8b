"""Audit runs: create, find one to resume, record stage progress and per-item errors."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.clock import utcnow
from audit.config import AuditConfig
from audit.store import AuditRun, RunError, Store

log = logging.getLogger(__name__)


class StageInterrupted(Exception):
    """Raised inside a stage when a stop was requested; the run is marked ``interrupted`` and can resume."""


def create_run(store: Store, portal_id: int, cfg: AuditConfig, *, kind: str = "manual", year: int | None = None) -> int:
    now = utcnow()
    with store.session() as s:
        run = AuditRun(
            portal_id=portal_id, started_at=now, status="running", stage="crawl", stages_done=[],
            year=year or _local_year(now, cfg), kind=kind, config_digest=cfg.digest(), counts={}, crawl_state={},
        )
        s.add(run)
        s.flush()
        log.info("run=%d event=created portal_id=%d kind=%s year=%s", run.id, portal_id, kind, run.year)
        return run.id


def _local_year(now: datetime, cfg: AuditConfig) -> int:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(cfg.timezone)).year


def resumable_run(store: Store, portal_id: int) -> int | None:
    """The latest run of the portal that did not finish (interrupted, or 'running' left by a killed process)."""
    with store.session() as s:
        run = s.scalar(
            select(AuditRun).where(AuditRun.portal_id == portal_id).order_by(AuditRun.id.desc()).limit(1)
        )
        if run is not None and run.status in ("running", "interrupted"):
            return run.id
    return None


def recover_abandoned_runs(store: Store, portal_id: int) -> list[int]:
    """Runs of the portal still marked ``running`` become ``interrupted`` (resumable). Call only while holding
    the portal's audit lock: then no live process can be running them — they were left by a killed one."""
    with store.session() as s:
        runs = list(s.scalars(select(AuditRun).where(AuditRun.portal_id == portal_id, AuditRun.status == "running")))
        for run in runs:
            run.status = "interrupted"
            run.error = run.error or "El proceso que la ejecutaba terminó sin cerrarla (p. ej. kill -9 o un corte)."
            log.warning("run=%d event=recovered_as_interrupted (its process is gone)", run.id)
        return [run.id for run in runs]


def latest_run(store: Store, *, portal_id: int | None = None, complete_only: bool = False) -> int | None:
    with store.session() as s:
        q = select(AuditRun.id).order_by(AuditRun.id.desc()).limit(1)
        if portal_id is not None:
            q = q.where(AuditRun.portal_id == portal_id)
        if complete_only:
            q = q.where(AuditRun.status == "complete")
        return s.scalar(q)


def set_status(store: Store, run_id: int, status: str, *, error: str | None = None) -> None:
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        run.status = status
        if error is not None:
            run.error = error[:4000]
        if status in ("complete", "failed", "partial"):
            run.finished_at = utcnow()


def mark_stage(store: Store, run_id: int, stage: str, *, done: bool = False, counts: dict[str, Any] | None = None) -> None:
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        run.stage = stage
        if done and stage not in (run.stages_done or []):
            run.stages_done = [*(run.stages_done or []), stage]
        if counts:
            run.counts = {**(run.counts or {}), **counts}


def unmark_stage(store: Store, run_id: int, stage: str) -> None:
    """Forget that ``stage`` was done (its outputs were lost): the next resume runs it again."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is not None and stage in (run.stages_done or []):
            run.stages_done = [st for st in run.stages_done if st != stage]


def stage_done(store: Store, run_id: int, stage: str) -> bool:
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        return bool(run and stage in (run.stages_done or []))


def record_error(session: Session, run_id: int, stage: str, code: str, message: str, subject: str | None = None) -> None:
    session.add(RunError(run_id=run_id, stage=stage, subject=(subject or "")[:500], code=code, message=message,
                         created_at=utcnow()))
    log.warning("run=%d stage=%s error=%s subject=%s %s", run_id, stage, code, subject, message)
