"""The whole audit: crawl → probe → content → score → exports → reports, as one AuditRun.

Each stage reads what the previous one stored and records itself in ``AuditRun.stages_done``, so an interrupted
run resumes at the first stage not done, and any stage can be re-run alone on a stored run.
"""

from __future__ import annotations

import errno
import logging
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.config import AuditConfig
from audit.csvfiles import configure_input_limits
from audit.errors import AuditError
from audit.outdir import (
    FULL_ERRNOS,
    check_out_dir,
    discard_staging,
    full_disk_message,
    output_error,
    prepare_staging,
    staging_dir,
    swap_in,
)
from audit.runs import (
    StageInterrupted,
    create_run,
    mark_stage,
    record_error,
    recover_abandoned_runs,
    resumable_run,
    set_status,
    stage_done,
    unmark_stage,
)
from audit.sources.base import CatalogSource
from audit.sources.detect import open_source
from audit.stopping import check_stop, shielded, stop_scope
from audit.store import AuditRun, Store

log = logging.getLogger(__name__)
STAGES = ("crawl", "probe", "content", "score", "export", "report")
#: stages that write OUT/<year>/ (through the run's staging folder, swapped in whole)
OUTPUT_STAGES = ("export", "report")


@dataclass
class AuditOutcome:
    run_id: int
    status: str  # complete | partial | interrupted | failed
    year: int
    counts: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None  # OUT/<year> when this run's outputs are there, else None
    error: str | None = None
    nothing_to_resume: bool = False  # --resume found no unfinished run: a new one was started
    recovered: list[int] = field(default_factory=list)  # runs left "running" by a killed process, now interrupted


def normalize_portal_url(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    return url.rstrip("/")


def _lock(store: Store, portal_url: str, cfg: AuditConfig, holder: str | None):  # type: ignore[no-untyped-def]
    from audit.locking import audit_lock

    return audit_lock(store, portal_url, holder=holder, ttl_s=cfg.schedule.lock_ttl_s)


def run_audit(cfg: AuditConfig, store: Store, *, portal_url: str, year: int | None = None, kind: str = "manual",
              resume: bool = False, stop: threading.Event | None = None, out_dir: Path | None = None,
              commitments: str | None = None, reviews: str | None = None, holder: str | None = None,
              stages: tuple[str, ...] = STAGES) -> AuditOutcome:
    """Run a complete audit of ``portal_url`` (or resume the latest unfinished one with ``resume=True``)."""
    from audit.indicator import load_commitments
    from audit.reviews import load_reviews, store_reviews

    portal_url = normalize_portal_url(portal_url)
    configure_input_limits(cfg.limits.input_max_mb, cfg.limits.input_max_rows, cfg.limits.suite_max_mb)
    # Input files and the results folder are checked before anything is written: a bad file changes nothing.
    commitments_file = commitments or cfg.indicator.commitments_file
    commitment_rows = load_commitments(commitments_file) if commitments_file else None
    reviews_file = reviews or cfg.indicator.reviews_file
    review_rows = load_reviews(reviews_file) if reviews_file else None
    out = Path(out_dir or cfg.output_dir)
    if any(st in OUTPUT_STAGES for st in stages):
        check_out_dir(out, cfg.limits.out_min_free_mb)

    source, info = open_source(portal_url, cfg)  # CKAN, data.json or RDF catalogue (cfg.portal_type)
    with closing(source):
        portal_id = store.get_or_create_portal(portal_url, cfg.portal_title or info.title, info.version)
        with _lock(store, portal_url, cfg, holder):
            # we hold the portal's lock: a run still marked "running" was left by a process that died
            recovered = recover_abandoned_runs(store, portal_id)
            run_id = resumable_run(store, portal_id) if resume else None
            nothing_to_resume = resume and run_id is None
            if run_id is None:
                if resume:
                    log.info("event=nothing_to_resume portal=%s", portal_url)
                run_id = create_run(store, portal_id, cfg, kind=kind, year=year)
            else:
                log.info("run=%d event=resume", run_id)
                set_status(store, run_id, "running", error="")  # the stop or crash that interrupted it is over
            if review_rows:
                store_reviews(store, portal_id, review_rows)
            with store.session() as s:
                run = s.get(AuditRun, run_id)
                assert run is not None
                run_year = run.year or year or 0
            outcome_kw = {"nothing_to_resume": nothing_to_resume, "recovered": [r for r in recovered if r != run_id]}
            # how the run ended is written under shielded(): an operator's second signal waits for that write
            try:
                with stop_scope(stop):
                    _run_stages(store, run_id, cfg, stages, source=source, stop=stop, out=out,
                                commitments=commitment_rows)
            except StageInterrupted:
                with shielded():
                    set_status(store, run_id, "interrupted")
                return _outcome(store, run_id, "interrupted", out, **outcome_kw)
            except AuditError as exc:
                # resumable (portal back, room on disk, workers started) → interrupted; anything else → failed
                with shielded():
                    set_status(store, run_id, "interrupted" if exc.resumable else "failed", error=str(exc))
                raise
            except BaseException as exc:
                with shielded():
                    set_status(store, run_id, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed",
                               error=f"{exc.__class__.__name__}: {exc}")
                raise
            # A run that skipped stages is "partial": the history rules only look back at complete runs.
            final = "complete" if all(stage_done(store, run_id, st) for st in STAGES) else "partial"
            with shielded():
                set_status(store, run_id, final)
            log.info("run=%d event=%s year=%s", run_id, final, run_year)
            return _outcome(store, run_id, final, out, **outcome_kw)


def _run_stages(store: Store, run_id: int, cfg: AuditConfig, stages: tuple[str, ...], *, source: CatalogSource,
                stop: threading.Event | None, out: Path, commitments: list[Any] | None) -> None:
    year = _run_year(store, run_id)
    if (stage_done(store, run_id, "export") and not stage_done(store, run_id, "report")
            and not staging_dir(out, year, run_id).is_dir()):
        unmark_stage(store, run_id, "export")  # the staged exports are gone (a full disk): write them again
    writes_outputs = False
    for stage in stages:
        if stage_done(store, run_id, stage):
            continue
        check_stop(stage)
        if stop is not None and stop.is_set():
            raise StageInterrupted(stage)
        counts = run_stage(stage, store, run_id, cfg, source=source, stop=stop, out_dir=out,
                           commitments=commitments, publish=False)
        mark_stage(store, run_id, stage, done=True, counts=counts)
        writes_outputs = writes_outputs or stage in OUTPUT_STAGES
    if writes_outputs or staging_dir(out, year, run_id).is_dir():
        publish_outputs(store, run_id, out)


def publish_outputs(store: Store, run_id: int, out: Path) -> Path:
    """Swap the run's staged outputs in as ``OUT/<year>`` (see audit.outdir)."""
    return swap_in(out, _run_year(store, run_id), run_id)


def write_outputs(store: Store, run_id: int, cfg: AuditConfig, out_dir: Path) -> Path:
    """Exports and reports of a stored run, written together and swapped in as ``OUT/<year>``."""
    for stage in OUTPUT_STAGES:
        run_stage(stage, store, run_id, cfg, out_dir=out_dir, publish=False)
    return publish_outputs(store, run_id, Path(out_dir))


def _outcome(store: Store, run_id: int, status: str, out: Path, **kw: Any) -> AuditOutcome:
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        year_dir = out / str(run.year)
        # name the folder only when it holds this run's outputs (an interrupted run has not written it)
        wrote = "export" in (run.stages_done or []) and status in ("complete", "partial")
        shown = year_dir if wrote and year_dir.is_dir() else None
        return AuditOutcome(run_id=run_id, status=status, year=run.year or 0, counts=dict(run.counts or {}),
                            out_dir=shown, error=run.error, **kw)


def run_stage(stage: str, store: Store, run_id: int, cfg: AuditConfig, *, source: CatalogSource | None = None,
              stop: threading.Event | None = None, out_dir: Path | None = None,
              commitments: list[Any] | None = None, publish: bool = True) -> dict[str, Any]:
    """Run one stage on a stored run; returns counts to merge into the run's summary.

    The output stages (export, report) write into the run's staging folder; with ``publish`` it is then swapped
    in as ``OUT/<year>`` (the pipeline swaps once, after both)."""
    mark_stage(store, run_id, stage)
    if stage == "crawl":
        from audit.crawl import crawl_portal

        assert source is not None
        return crawl_portal(store, run_id, cfg, source=source, stop=stop).as_counts()
    if stage == "probe":
        from audit.probe import run_probe_stage

        return {"probe_" + k: v for k, v in run_probe_stage(store, run_id, cfg, resume=True).items()}
    if stage == "content":
        if not cfg.content.enabled:
            return {}
        from audit.content.stage import run_content_stage

        return {"content_" + k: v for k, v in run_content_stage(store, run_id, cfg, resume=True).items()}
    if stage == "score":
        from audit.scoring import run_score_stage

        summary = run_score_stage(store, run_id, cfg, commitments=commitments)
        _refresh_statistics(store)
        return {"scored_datasets": summary.datasets, "retired_datasets": summary.retired,
                "rule_errors": summary.rule_errors, "conformes": summary.conformes,
                "manual_overrides": summary.manual_overrides}
    if stage not in OUTPUT_STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    base = Path(out_dir or cfg.output_dir)
    year = _run_year(store, run_id)
    out = prepare_staging(base, year, run_id)
    try:
        counts = _export(store, run_id, cfg, out) if stage == "export" else _report(store, run_id, cfg, out)
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            discard_staging(base, year, run_id)  # frees the room it took; exports and reports are written again
            unmark_stage(store, run_id, "export")
        raise output_error(exc, base) from exc
    _record_output_dir(store, run_id, base / str(year))  # where they are once swapped in
    if publish:
        swap_in(base, year, run_id)
    return counts


def _export(store: Store, run_id: int, cfg: AuditConfig, out: Path) -> dict[str, Any]:
    from audit.exports import write_exports

    paths = write_exports(store, run_id, out, cfg.scoring.weights, cfg.legal_basis, timezone=cfg.timezone,
                          cutoff_month_day=cfg.indicator.cutoff_month_day)
    return {"exports": len(paths)}


def _report(store: Store, run_id: int, cfg: AuditConfig, out: Path) -> dict[str, Any]:
    if not cfg.reports.enabled:
        return {}
    from reports.render import render_reports

    result = render_reports(store, run_id, out / "reports", cfg=cfg, pdf=cfg.reports.pdf,
                            workers=cfg.reports.workers)
    full = next((m for m in result.errors.values() if full_disk_message(m)), None)
    if full is not None:  # a worker ran out of room: the same as this process running out of it
        raise OSError(errno.ENOSPC, full)
    if result.errors:  # one broken report never loses the others; the run's summary counts it
        with store.session() as s:
            for subject, message in result.errors.items():
                record_error(s, run_id, "report", "report_failed", message, subject=subject)
    return {"reports": len(result.files), "report_errors": len(result.errors)}


def _refresh_statistics(store: Store) -> None:
    """PostgreSQL plans the dashboard's queries badly until it has statistics for the rows just written."""
    if store.dialect != "postgresql":
        return
    from sqlalchemy import text

    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def _record_output_dir(store: Store, run_id: int, out: Path) -> None:
    """Where this run's files are (the dashboard links them from there, whatever folder ``serve`` runs in)."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is not None:
            run.output_dir = str(Path(out).resolve())


def _run_year(store: Store, run_id: int) -> int:
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        return int(run.year or 0)
