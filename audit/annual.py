"""The annual evaluation: consolidate a calendar year of audit runs into one official result.

* The **snapshot** is the last complete run of the year (:func:`annual_snapshot_run`): its datasets, scores and
  files are the year's evaluation.
* Each resource's **availability** across the year's complete runs (:func:`availability_for_year`) is added as
  evidence ("disponible en 50 de 52 revisiones"); the scoring stage passes it to the *accesibles* rule, which uses it
  once the year has at least ``rules.accesibles.availability_min_runs`` runs, so a resource down one night is not
  condemned and one that is mostly down is.

A run belongs to the year stored in ``AuditRun.year`` (set when the run is created: the local calendar year, or the
year the caller asked for).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, case, func, or_, select

from audit.evidence import REACHABLE_OUTCOMES, Availability
from audit.store.db import Store
from audit.store.models import AuditRun, Portal, Probe, ResourceSnapshot

log = logging.getLogger(__name__)


def year_runs(store: Store, portal_id: int, year: int, *, until_run_id: int | None = None) -> list[int]:
    """Ids of the runs whose probes count for ``year``: complete runs of that year, oldest first.

    With ``until_run_id`` only runs up to it count, and that run counts even while it is still running (the scoring
    stage of a run asks for the availability including its own probes).
    """
    with store.session() as s:
        cond = and_(AuditRun.portal_id == portal_id, AuditRun.year == year)
        if until_run_id is None:
            q = select(AuditRun.id).where(cond, AuditRun.status == "complete")
        else:
            q = select(AuditRun.id).where(
                cond,
                AuditRun.id <= until_run_id,
                or_(AuditRun.status == "complete", AuditRun.id == until_run_id),
            )
        return list(s.scalars(q.order_by(AuditRun.id)))


def availability_for_year(
    store: Store, portal_id: int, year: int, *, until_run_id: int | None = None
) -> dict[str, Availability]:
    """Resource key (CKAN id, else URL) → reachable runs / runs of the year that listed and probed it.

    A run in which a resource was listed but not probed (e.g. the probe stage skipped it) does not count against it.
    Computed with one grouped query, so it stays cheap for a year of weekly runs over a large portal.
    """
    run_ids = year_runs(store, portal_id, year, until_run_id=until_run_id)
    if not run_ids:
        return {}
    key = func.coalesce(func.nullif(ResourceSnapshot.ckan_id, ""), ResourceSnapshot.url)
    reachable = [str(o) for o in REACHABLE_OUTCOMES]
    with store.session() as s:
        rows = s.execute(
            select(
                key.label("key"),
                func.count(func.distinct(Probe.run_id)).label("total"),
                func.count(func.distinct(case((Probe.outcome.in_(reachable), Probe.run_id)))).label("ok"),
            )
            .join(Probe, Probe.resource_snapshot_id == ResourceSnapshot.id)
            .where(ResourceSnapshot.run_id.in_(run_ids), key.is_not(None))
            .group_by(key)
        ).all()
    return {str(k): Availability(reachable_runs=int(ok), total_runs=int(total)) for k, total, ok in rows}


def annual_snapshot_run(store: Store, portal_id: int, year: int) -> int | None:
    """The last complete run of ``year`` (the evaluation's snapshot), or None."""
    with store.session() as s:
        return s.scalar(
            select(AuditRun.id)
            .where(AuditRun.portal_id == portal_id, AuditRun.year == year, AuditRun.status == "complete")
            .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
            .limit(1)
        )


def describe_availability(av: Availability) -> str:
    """Spanish evidence text, e.g. "disponible en 50 de 52 revisiones (96 %)"."""
    noun = "revisión" if av.total_runs == 1 else "revisiones"
    return f"disponible en {av.reachable_runs} de {av.total_runs} {noun} ({av.ratio:.0%})".replace("%", " %")


def availability_applies(av: Availability | None, year_run_count: int, *, min_runs: int) -> bool:
    """Whether the annual availability (not a single probe) should decide *accesibles*."""
    return av is not None and year_run_count >= min_runs and av.total_runs > 0


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
    cfg,  # AuditConfig
    *,
    portal_url: str,
    year: int,
    out_dir: Path,
    stop: threading.Event | None = None,
) -> AnnualResult:
    """Produce the year's evaluation: pick the snapshot (auditing now if the year has no complete run), then write
    ``OUT/<year>/`` exports and ``OUT/<year>/reports/``."""
    from audit.errors import AuditError

    portal_id = _portal_id(store, portal_url)
    run_id = annual_snapshot_run(store, portal_id, year) if portal_id is not None else None
    audited_now = False
    if run_id is None:
        from audit.locking import default_holder
        from audit.pipeline import run_audit

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
        portal_id = _portal_id(store, portal_url)
    assert portal_id is not None
    runs = len(year_runs(store, portal_id, year))
    if not audited_now:
        # the snapshot is a periodic run scored on one night's probes: the evaluation judges *accesibles* by the
        # year's availability, so score it again as the annual evaluation (stored commitments and reviews kept)
        from audit.scoring import run_score_stage

        run_score_stage(store, run_id, cfg, annual=True)
    write_outputs(store, cfg, run_id, out_dir)
    _mark_evaluation(store, run_id, year=year, runs=runs, out_dir=Path(out_dir) / str(year))
    log.info("annual year=%d portal=%s snapshot_run=%d runs_in_year=%d out=%s", year, portal_url, run_id, runs, out_dir)
    return AnnualResult(year, portal_url, run_id, runs, Path(out_dir) / str(year), audited_now)


def _mark_evaluation(store: Store, run_id: int, *, year: int, runs: int, out_dir: Path) -> None:
    """Record on the snapshot run that it is the year's evaluation (``status`` shows it): when, from how many
    runs, written where."""
    from audit.store import AuditRun
    from audit.store.db import utcnow

    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is not None:
            run.counts = {**(run.counts or {}), "annual_evaluation": {
                "year": year, "at": utcnow().isoformat(), "runs_in_year": runs, "out": str(out_dir)}}


def write_outputs(store: Store, cfg, run_id: int, out_dir: Path) -> None:
    """Exports (CSV/JSON) and reports (HTML/PDF) of ``run_id`` into ``out_dir/<year>/`` (the pipeline's own stages)."""
    from audit.pipeline import write_outputs as write_run_outputs

    write_run_outputs(store, run_id, cfg, Path(out_dir))  # written aside, swapped in whole


def _portal_id(store: Store, portal_url: str) -> int | None:
    url = portal_url.rstrip("/")
    with store.session() as s:
        return s.scalar(select(Portal.id).where(or_(Portal.url == url, Portal.url == url + "/")))
