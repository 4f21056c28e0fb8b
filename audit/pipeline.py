"""The whole audit: crawl → probe → content → score → exports → reports, as one AuditRun.

Each stage reads what the previous one stored and records itself in ``AuditRun.stages_done``, so an interrupted
run resumes at the first stage not done, and any stage can be re-run alone on a stored run.
"""

from __future__ import annotations

import logging
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.config import AuditConfig
from audit.errors import AuditError, PortalError
from audit.runs import (
    StageInterrupted,
    create_run,
    mark_stage,
    resumable_run,
    set_status,
    stage_done,
)
from audit.sources.base import CatalogSource
from audit.sources.detect import open_source
from audit.store import AuditRun, Store

log = logging.getLogger(__name__)
STAGES = ("crawl", "probe", "content", "score", "export", "report")


@dataclass
class AuditOutcome:
    run_id: int
    status: str  # complete | interrupted | failed
    year: int
    counts: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None
    error: str | None = None


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
    # Input files are validated before anything is written: a bad file changes nothing.
    commitments_file = commitments or cfg.indicator.commitments_file
    commitment_rows = load_commitments(commitments_file) if commitments_file else None
    reviews_file = reviews or cfg.indicator.reviews_file
    review_rows = load_reviews(reviews_file) if reviews_file else None
    out = Path(out_dir or cfg.output_dir)

    source, info = open_source(portal_url, cfg)  # CKAN, data.json or RDF catalogue (cfg.portal_type)
    with closing(source):
        portal_id = store.get_or_create_portal(portal_url, cfg.portal_title or info.title, info.version)
        with _lock(store, portal_url, cfg, holder):
            run_id = resumable_run(store, portal_id) if resume else None
            if run_id is None:
                run_id = create_run(store, portal_id, cfg, kind=kind, year=year)
            else:
                log.info("run=%d event=resume", run_id)
                set_status(store, run_id, "running")
            if review_rows:
                store_reviews(store, portal_id, review_rows)
            with store.session() as s:
                run = s.get(AuditRun, run_id)
                assert run is not None
                run_year = run.year or year or 0
            try:
                for stage in stages:
                    if stage_done(store, run_id, stage):
                        continue
                    if stop is not None and stop.is_set():
                        raise StageInterrupted(stage)
                    counts = run_stage(stage, store, run_id, cfg, source=source, stop=stop, out_dir=out,
                                       commitments=commitment_rows)
                    mark_stage(store, run_id, stage, done=True, counts=counts)
            except StageInterrupted:
                set_status(store, run_id, "interrupted")
                return _outcome(store, run_id, "interrupted", out)
            except PortalError as exc:
                set_status(store, run_id, "interrupted", error=str(exc))  # resumable once the portal is back
                raise
            except AuditError as exc:
                set_status(store, run_id, "failed", error=str(exc))
                raise
            except BaseException as exc:
                set_status(store, run_id, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed",
                           error=f"{exc.__class__.__name__}: {exc}")
                raise
            # A run that skipped stages is "partial": the history rules only look back at complete runs.
            final = "complete" if all(stage_done(store, run_id, st) for st in STAGES) else "partial"
            set_status(store, run_id, final)
            log.info("run=%d event=%s year=%s", run_id, final, run_year)
            return _outcome(store, run_id, final, out)


def _outcome(store: Store, run_id: int, status: str, out: Path) -> AuditOutcome:
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        return AuditOutcome(run_id=run_id, status=status, year=run.year or 0, counts=dict(run.counts or {}),
                            out_dir=out / str(run.year), error=run.error)


def run_stage(stage: str, store: Store, run_id: int, cfg: AuditConfig, *, source: CatalogSource | None = None,
              stop: threading.Event | None = None, out_dir: Path | None = None,
              commitments: list[Any] | None = None) -> dict[str, Any]:
    """Run one stage on a stored run; returns counts to merge into the run's summary."""
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
    year = _run_year(store, run_id)
    out = Path(out_dir or cfg.output_dir) / str(year)
    if stage == "export":
        from audit.exports import write_exports

        paths = write_exports(store, run_id, out, cfg.scoring.weights, cfg.legal_basis)
        _record_output_dir(store, run_id, out)
        return {"exports": len(paths)}
    if stage == "report":
        from audit.manifest import write_manifest

        if not cfg.reports.enabled:
            write_manifest(out)  # the year's last output: the manifest lists every file of OUT/Y
            return {}
        from reports.render import render_reports

        result = render_reports(store, run_id, out / "reports", cfg=cfg, pdf=cfg.reports.pdf,
                                workers=cfg.reports.workers)
        _record_output_dir(store, run_id, out)
        if result.errors:  # one broken report never loses the others; the run's summary counts it
            from audit.runs import record_error

            with store.session() as s:
                for subject, message in result.errors.items():
                    record_error(s, run_id, "report", "report_failed", message, subject=subject)
        write_manifest(out)  # the year's last output: the manifest lists every file of OUT/Y
        return {"reports": len(result.files), "report_errors": len(result.errors)}
    raise ValueError(f"unknown stage {stage!r}")


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
