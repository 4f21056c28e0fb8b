"""``run_audit.py status``: what the service is doing — last runs, who holds the audit lock, next scheduled jobs.

:func:`status_data` gathers a plain dict (what ``--json`` prints); :func:`print_status` renders it as rich tables.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from audit.clock import assume_utc, utcnow
from audit.locking import current_locks
from audit.store.db import Store
from audit.store.models import AuditRun, Portal, RunError

if TYPE_CHECKING:
    from audit.config import AuditConfig

RUN_LIMIT = 10
STATUS_ES = {"running": "en curso", "interrupted": "interrumpida", "complete": "completa", "failed": "fallida",
             "partial": "parcial"}


def recent_runs(store: Store, *, limit: int = RUN_LIMIT) -> list[dict[str, Any]]:
    now = utcnow()
    with store.session() as s:
        errors = (select(RunError.run_id, func.count().label("n")).group_by(RunError.run_id)).subquery()
        rows = s.execute(
            select(AuditRun, Portal.url, errors.c.n)
            .join(Portal, Portal.id == AuditRun.portal_id)
            .outerjoin(errors, errors.c.run_id == AuditRun.id)
            .order_by(AuditRun.id.desc())
            .limit(limit)
        ).all()
        out = []
        for run, url, n_errors in rows:
            started, finished = assume_utc(run.started_at), assume_utc(run.finished_at)
            end = finished or (now if run.status == "running" else None)
            counts = dict(run.counts or {})
            out.append({
                "id": run.id,
                "portal": url,
                "kind": run.kind,
                "year": run.year,
                "status": run.status,
                "stage": run.stage,
                "stages_done": list(run.stages_done or []),
                "started_at": started.isoformat() if started else None,
                "finished_at": finished.isoformat() if finished else None,
                "duration_s": round((end - started).total_seconds(), 1) if end and started else None,
                "datasets": counts.get("datasets"),
                "resources": counts.get("resources"),
                "errors": int(n_errors or 0),
                "counts": counts,
                "error": run.error,
            })
        return out


def status_data(store: Store, cfg: AuditConfig) -> dict[str, Any]:
    """Everything ``status`` shows, JSON-serialisable."""
    from audit.fleet import portals_overview
    from audit.scheduler import _safe_url, next_jobs

    locks = current_locks(store)
    runs = recent_runs(store)
    # a run "running" while nobody holds its portal's lock was left by a process that died (kill -9, power cut):
    # it is shown as interrupted (the next audit of the portal records it so)
    held = {lk["portal_url"].rstrip("/") for lk in locks if not lk["stale"]}
    for run in runs:
        if run["status"] == "running" and (run["portal"] or "").rstrip("/") not in held:
            run["status"], run["abandoned"] = "interrupted", True
            run["error"] = run["error"] or "El proceso que la ejecutaba terminó sin cerrarla."
    return {
        "generated_at": utcnow().isoformat(),
        "database": _safe_url(cfg.database_url),
        "portal_url": cfg.portal_url,
        "timezone": cfg.timezone,
        "runs": runs,
        "portals": portals_overview(store, cfg),
        "locks": locks,
        "jobs": next_jobs(cfg),
    }


def status_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{s} s"


def _local(iso: str | None, tz: str, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if not iso:
        return "—"
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime(fmt)


def print_status(data: dict[str, Any], console: Any = None) -> None:
    """Rich tables in Spanish: runs, lock, next jobs."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    tz = data.get("timezone") or "UTC"

    from rich import box

    runs = Table(title="Últimas corridas", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                 collapse_padding=True, show_edge=False)
    for col in ("Id", "Tipo", "Año", "Estado", "Etapa", "Inicio", "Duración", "Conj.", "Rec.", "Err."):
        runs.add_column(col, justify="right" if col in ("Id", "Conj.", "Rec.", "Err.") else "left", no_wrap=True)
    for r in data["runs"]:
        style = {"failed": "red", "interrupted": "yellow", "running": "cyan"}.get(r["status"], "")
        annual = (r.get("counts") or {}).get("annual_evaluation")
        kind = f"{r['kind']} · evaluación anual {annual['year']}" if isinstance(annual, dict) else r["kind"]
        runs.add_row(str(r["id"]), kind, str(r["year"] or "—"), STATUS_ES.get(r["status"], r["status"]),
                     r["stage"] or "—", _local(r["started_at"], tz, "%d/%m %H:%M"), _duration(r["duration_s"]),
                     str(r["datasets"] if r["datasets"] is not None else "—"),
                     str(r["resources"] if r["resources"] is not None else "—"), str(r["errors"]), style=style)
    if not data["runs"]:
        runs.add_row("—", "sin corridas todavía", *[""] * 8)
    console.print(runs)

    if len(data.get("portals") or []) > 1:  # a fleet: the latest run of every portal
        fleet = Table(title="Portales", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
        for col in ("Clave", "Portal", "Última corrida", "Año", "Estado", "Inicio", "Conj."):
            fleet.add_column(col, justify="right" if col in ("Última corrida", "Conj.") else "left")
        for p in data["portals"]:
            fleet.add_row(p["name"] or "—", p["title"] or p["url"], str(p["run_id"] or "—"), str(p["year"] or "—"),
                          STATUS_ES.get(p["status"] or "", p["status"] or "sin corridas"),
                          _local(p["started_at"], tz, "%d/%m %H:%M"),
                          str(p["datasets"] if p["datasets"] is not None else "—"))
        console.print(fleet)

    if data["locks"]:
        locks = Table(title="Auditoría en curso (candado)", title_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False)
        for col in ("Portal", "Quién", "Desde", "Vigente"):
            locks.add_column(col)
        for lk in data["locks"]:
            locks.add_row(lk["portal_url"], lk["holder"], _local(lk["since"], tz),
                          "no (se recuperará)" if lk["stale"] else "sí")
        console.print(locks)
    else:
        console.print("Candado de auditoría: libre (ninguna auditoría en curso).")

    jobs = Table(title="Próximas tareas programadas", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("Tarea", "Programación", "Próxima ejecución"):
        jobs.add_column(col)
    for j in data["jobs"]:
        jobs.add_row(j["name"], j["trigger"], _local(j["next_run_time"], tz) if j["next_run_time"] else "en pausa")
    if not data["jobs"]:
        jobs.add_row("—", "el servicio programado no se ha iniciado (run_audit.py schedule)", "")
    console.print(jobs)
