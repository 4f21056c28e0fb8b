"""Many portals in one store: ``audit --all`` audits every portal of ``portals:`` in turn, then compares them.

Each portal runs as a normal audit (its own lock, run and resume) with the configuration
``cfg.for_portal(entry)`` — its URL, title, catalogue type, commitments/reviews files and report settings — and
its outputs in ``OUT/<name>/<year>/``. A portal that fails (unreachable, not a catalogue, lock held …) is reported
and the next one is audited. Afterwards the comparison of every audited year is written to
``OUT/comparacion/<year>/`` (``audit.comparison``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from audit.config import AuditConfig
from audit.errors import AuditError, ConfigError
from audit.store import AuditRun, Portal, Store

log = logging.getLogger(__name__)


@dataclass
class PortalOutcome:
    name: str
    url: str
    status: str  # complete | partial | interrupted | failed
    run_id: int | None = None
    year: int | None = None
    error: str | None = None
    out_dir: Path | None = None


def audit_all(cfg: AuditConfig, store: Store, *, year: int | None = None, resume: bool = False,
              stop: threading.Event | None = None, holder: str | None = None) -> tuple[list[PortalOutcome], list[Path]]:
    """Audit every configured portal; returns each outcome and the comparison files written."""
    from audit.comparison import compare, write_comparison
    from audit.pipeline import run_audit

    if not cfg.portals:
        raise ConfigError("No hay portales configurados para --all.",
                          hint="Agregue la lista portals: (name, url, …) a config.yaml; ver docs/configuration.md.")
    outcomes: list[PortalOutcome] = []
    for entry in cfg.portals:
        if stop is not None and stop.is_set():
            outcomes.append(PortalOutcome(entry.name, entry.url, "interrupted", error="no iniciado"))
            continue
        pcfg = cfg.for_portal(entry)
        try:
            o = run_audit(pcfg, store, portal_url=entry.url, year=year, resume=resume, stop=stop,
                          out_dir=Path(pcfg.output_dir), holder=holder)
            outcomes.append(PortalOutcome(entry.name, entry.url, o.status, o.run_id, o.year, o.error, o.out_dir))
        except AuditError as exc:  # one portal failing never stops the others
            log.warning("portal=%s event=failed error=%s", entry.name, exc.message)
            outcomes.append(PortalOutcome(entry.name, entry.url, "failed", error=str(exc)))
    names = {e.url: e.name for e in cfg.portals}
    written: list[Path] = []
    for y in sorted({o.year for o in outcomes if o.status == "complete" and o.year}):
        data = compare(store, y, cfg.scoring.weights, names)
        written.extend(write_comparison(data, Path(cfg.output_dir) / "comparacion" / str(y)).values())
    return outcomes, written


def portals_overview(store: Store, cfg: AuditConfig) -> list[dict[str, Any]]:
    """Every portal (configured or in the store) with its latest run: what ``status`` shows for a fleet."""
    configured = {e.url: e for e in getattr(cfg, "portals", []) or []}
    with store.session() as s:
        latest = (select(AuditRun.portal_id, func.max(AuditRun.id).label("run_id"))
                  .group_by(AuditRun.portal_id)).subquery()
        rows = s.execute(select(Portal.url, Portal.title, Portal.ckan_version, AuditRun)
                         .outerjoin(latest, latest.c.portal_id == Portal.id)
                         .outerjoin(AuditRun, AuditRun.id == latest.c.run_id)
                         .order_by(Portal.url)).all()
        out = []
        seen = set()
        for url, title, version, run in rows:
            seen.add(url)
            entry = configured.get(url)
            out.append({
                "name": entry.name if entry else None, "url": url, "title": (entry.title if entry else None) or title,
                "platform": version, "run_id": run.id if run else None, "status": run.status if run else None,
                "year": run.year if run else None,
                "started_at": run.started_at.isoformat() if run and run.started_at else None,
                "datasets": (run.counts or {}).get("datasets") if run else None,
            })
    for url, entry in configured.items():
        if url not in seen:
            out.append({"name": entry.name, "url": url, "title": entry.title, "platform": None, "run_id": None,
                        "status": None, "year": None, "started_at": None, "datasets": None})
    return out


STATUS_ES = {"complete": "completa", "partial": "parcial", "interrupted": "interrumpida", "failed": "fallida"}


def print_fleet(outcomes: list[PortalOutcome], written: list[Path], console: Any) -> int:
    """One line per portal and where the comparison went; returns the exit code (3 if a portal failed, 130 if
    interrupted, else 0)."""
    from rich.table import Table

    table = Table(title="Auditoría de todos los portales", title_justify="left")
    for col in ("Portal", "Estado", "Corrida", "Resultados / error"):
        table.add_column(col)
    for o in outcomes:
        detail = str(o.out_dir) if o.status != "failed" else (o.error or "").splitlines()[0]
        table.add_row(o.name, STATUS_ES.get(o.status, o.status), str(o.run_id or "—"), detail,
                      style="red" if o.status == "failed" else "")
    console.print(table)
    for path in written:
        if path.suffix == ".html":
            console.print(f"Comparación de portales: {path}")
    if any(o.status == "interrupted" for o in outcomes):
        return 130
    return 3 if any(o.status == "failed" for o in outcomes) else 0
