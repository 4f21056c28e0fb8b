"""The annual evaluation: consolidate a calendar year of audit runs into one official result.

* The **snapshot** is the last complete run of the year (:func:`audit.availability.annual_snapshot_run`): its
  datasets, scores and files are the year's evaluation.
* Each resource's **availability** across the year's complete runs (:func:`audit.availability.availability_for_year`)
  is added as evidence ("disponible en 50 de 52 revisiones"); the scoring stage passes it to the *accesibles* rule,
  which uses it once the year has at least ``rules.accesibles.availability_min_runs`` runs, so a resource down one
  night is not condemned and one that is mostly down is.

A run belongs to the year stored in ``AuditRun.year`` (set when the run is created: the local calendar year, or the
year the caller asked for). This module runs the pipeline; the year's queries live below the stages, in
:mod:`audit.availability`, so the scoring stage reads them without reaching up to here.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from audit.availability import annual_snapshot_run, find_portal_id, year_runs
from audit.clock import utcnow
from audit.config import AuditConfig
from audit.errors import AuditError
from audit.locking import default_holder
from audit.pipeline import run_audit
from audit.pipeline import write_outputs as write_run_outputs
from audit.scoring import run_score_stage
from audit.store import AuditRun
from audit.store.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnualResult:
    year: int
    portal_url: str
    run_id: int  # the snapshot run
    runs_in_year: int
    out_dir: Path  # OUT/<year>
    audited_now: bool  # no complete run existed: an audit was run for the year


def annual_evaluation(
    store: Store,
    cfg: AuditConfig,
    *,
    portal_url: str,
    year: int,
    out_dir: Path,
    stop: threading.Event | None = None,
) -> AnnualResult:
    """Produce the year's evaluation: pick the snapshot (auditing now if the year has no complete run), then write
    ``OUT/<year>/`` exports and ``OUT/<year>/reports/``."""
    portal_id = find_portal_id(store, portal_url)
    run_id = annual_snapshot_run(store, portal_id, year) if portal_id is not None else None
    audited_now = False
    if run_id is None:
        log.warning("annual year=%d portal=%s event=no_complete_run action=audit_now", year, portal_url)
        outcome = run_audit(cfg, store, portal_url=portal_url, year=year, kind="annual", stop=stop, out_dir=out_dir,
                            holder=f"evaluación anual {year} — {default_holder()}")
        if outcome.status != "complete":
            raise AuditError(
                f"La evaluación anual {year} de {portal_url} no se completó (corrida {outcome.run_id}: {outcome.status}).",
                hint="Revise `run_audit.py status`; la corrida se reanuda en el siguiente arranque.",
            )
        run_id = outcome.run_id
        audited_now = True
        portal_id = find_portal_id(store, portal_url)
    assert portal_id is not None
    runs = len(year_runs(store, portal_id, year))
    if not audited_now:
        # the snapshot is a periodic run scored on one night's probes: the evaluation judges *accesibles* by the
        # year's availability, so score it again as the annual evaluation (stored commitments and reviews kept)
        run_score_stage(store, run_id, cfg, annual=True)
    write_outputs(store, cfg, run_id, out_dir)
    _mark_evaluation(store, run_id, year=year, runs=runs, out_dir=Path(out_dir) / str(year))
    log.info("annual year=%d portal=%s snapshot_run=%d runs_in_year=%d out=%s", year, portal_url, run_id, runs, out_dir)
    return AnnualResult(year, portal_url, run_id, runs, Path(out_dir) / str(year), audited_now)


def _mark_evaluation(store: Store, run_id: int, *, year: int, runs: int, out_dir: Path) -> None:
    """Record on the snapshot run that it is the year's evaluation (``status`` shows it): when, from how many
    runs, written where."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is not None:
            run.counts = {**(run.counts or {}), "annual_evaluation": {
                "year": year, "at": utcnow().isoformat(), "runs_in_year": runs, "out": str(out_dir)}}


def write_outputs(store: Store, cfg: AuditConfig, run_id: int, out_dir: Path) -> None:
    """Exports (CSV/JSON) and reports (HTML/PDF) of ``run_id`` into ``out_dir/<year>/`` (the pipeline's own stages)."""
    write_run_outputs(store, run_id, cfg, Path(out_dir))  # written aside, swapped in whole
