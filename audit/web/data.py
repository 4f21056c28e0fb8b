"""Read-only queries behind the dashboard and the JSON API.

Everything here returns plain dicts whose keys follow the CSV contract (``organization``, ``dataset``, ``score``,
``conforme``, ``<characteristic>_pct`` …), so the HTML views, the JSON API and the CSV downloads share one shape.
Queries are built with SQLAlchemy expressions only (never SQL text from user input).

A run's figures (per-dataset table, organization rows, scores) come from the read model (:mod:`audit.results`),
which also caches them (``ResultsCache``); the dashboard's page caches are :mod:`audit.web.cache`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from audit.clock import assume_utc
from audit.indicator import portal_commitment_totals
from audit.results import score_cells
from audit.results.cache import FINISHED as FINISHED
from audit.results.cache import ResultsCache as ResultsCache
from audit.results.cache import run_version as run_version
from audit.results.table import RunTable as RunTable
from audit.results.table import build_table, organization_rows
from audit.results.table import characteristic_counts as characteristic_counts
from audit.results.table import public_dataset as public_dataset
from audit.store.models import (
    AdminLogEntry,
    AdminSession,
    AuditRun,
    CommitmentRecord,
    ContentCheck,
    DatasetSnapshot,
    ManualReview,
    OrganizationResult,
    Portal,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
    RunError,
)
from audit.web.cache import cache_control as cache_control
from rules import CHARACTERISTICS, RULES

MAX_INT = 2**31 - 1
build_summary = build_table  # the run's table under the dashboard's older name


def characteristic_titles() -> dict[str, str]:
    """Spanish titles, from the rules registry (the one source of truth)."""
    return {rule.id: rule.title_es for rule in RULES}


def clean(text: str | None) -> str | None:
    """Strip NUL bytes (PostgreSQL rejects them in text parameters) and outer spaces."""
    if text is None:
        return None
    return text.replace("\x00", "").strip()


def dataset_score(statuses: dict[str, tuple[str, float]], weights: dict[str, float]) -> tuple[float | None, bool]:
    """The dataset score and conforme flag of the read model (``audit.results.score_cells``: one definition)."""
    return score_cells(dict(statuses), weights)


# --------------------------------------------------------------------------------------------------- runs


def run_dict(run: AuditRun, portal: Portal | None, errors: int = 0) -> dict[str, Any]:
    duration = None
    if run.started_at and run.finished_at:
        duration = round((assume_utc(run.finished_at) - assume_utc(run.started_at)).total_seconds(), 1)  # type: ignore[operator]
    return {
        "id": run.id,
        "portal": portal.url if portal else None,
        "portal_title": portal.title if portal else None,
        "year": run.year,
        "kind": run.kind,
        "status": run.status,
        "stage": run.stage,
        "started_at": assume_utc(run.started_at),
        "finished_at": assume_utc(run.finished_at),
        "duration_s": duration,
        "counts": run.counts or {},
        "errors": errors,
        "error": run.error,
        "output_dir": run.output_dir,  # for the dashboard's file links; the API's RunOut leaves it out
    }


def list_runs(
    s: Session, *, year: int | None = None, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    cond = []
    if year is not None:
        cond.append(AuditRun.year == year)
    if status:
        cond.append(AuditRun.status == status)
    total = s.scalar(select(func.count()).select_from(AuditRun).where(*cond)) or 0
    rows = s.execute(
        select(AuditRun, Portal)
        .join(Portal, Portal.id == AuditRun.portal_id)
        .where(*cond)
        .order_by(AuditRun.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [r.id for r, _ in rows]
    errors = dict(
        s.execute(select(RunError.run_id, func.count()).where(RunError.run_id.in_(ids)).group_by(RunError.run_id)).all()
    ) if ids else {}
    return [run_dict(r, p, errors.get(r.id, 0)) for r, p in rows], total


def get_run(s: Session, run_id: int) -> dict[str, Any] | None:
    if not 1 <= run_id <= MAX_INT:
        return None
    row = s.execute(select(AuditRun, Portal).join(Portal, Portal.id == AuditRun.portal_id).where(AuditRun.id == run_id)).first()
    if row is None:
        return None
    errors = s.scalar(select(func.count()).select_from(RunError).where(RunError.run_id == run_id)) or 0
    return run_dict(row[0], row[1], errors)


def run_errors(s: Session, run_id: int, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    total = s.scalar(select(func.count()).select_from(RunError).where(RunError.run_id == run_id)) or 0
    rows = s.scalars(
        select(RunError).where(RunError.run_id == run_id).order_by(RunError.id).limit(limit).offset(offset)
    ).all()
    return [
        {"stage": e.stage, "subject": e.subject, "code": e.code, "message": e.message, "created_at": assume_utc(e.created_at)}
        for e in rows
    ], total


def years(s: Session) -> list[int]:
    found = s.scalars(select(AuditRun.year).where(AuditRun.year.is_not(None)).distinct())
    return sorted({y for y in found if y is not None}, reverse=True)


def resolve_run(s: Session, *, run_id: int | None = None, year: int | None = None) -> AuditRun | None:
    """The run a view shows: the one asked for, else the newest run of the year (or overall) that has results,
    preferring complete runs."""
    if run_id is not None:
        if not 1 <= run_id <= MAX_INT:
            return None
        return s.get(AuditRun, run_id)
    has_results = select(OrganizationResult.run_id).distinct()
    has_rules = select(RuleResultRecord.run_id).distinct()
    base = select(AuditRun).order_by(AuditRun.id.desc()).limit(1)
    if year is not None:
        base = base.where(AuditRun.year == year)
    for cond in (
        (AuditRun.status == "complete", AuditRun.id.in_(has_results)),
        (AuditRun.id.in_(has_results),),
        (AuditRun.id.in_(has_rules),),
        (),
    ):
        run = s.scalar(base.where(*cond))
        if run is not None:
            return run
    return None


# ------------------------------------------------------------------------------------------ run summary


#: why a characteristic may not be judgeable at all in a run, beyond "it applies to no dataset"
_NOT_JUDGED_HINT = {
    "permanentes": "se juzga comparando con corridas anteriores del portal",
    "oportunos": "se juzga con la fecha de actualización declarada o la periodicidad",
}


def not_judged_note(counts: dict[str, int], characteristic: str = "") -> str | None:
    """A Spanish explanation for a characteristic shown as «—» (none of the datasets could be judged)."""
    applicable = counts.get("pass", 0) + counts.get("partial", 0) + counts.get("fail", 0)
    if applicable:
        return None
    total = applicable + counts.get("not_applicable", 0)
    if total == 0:
        return "sin conjuntos evaluados"
    hint = _NOT_JUDGED_HINT.get(characteristic)
    return ("no se pudo juzgar: no aplica a ninguno de los conjuntos evaluados" + (f" ({hint})" if hint else ""))


# ------------------------------------------------------------------------------------------ organizations


ORG_SORT_KEYS = ("organization", "title", "datasets", "score", "conformes", "progress_pct")


def sort_rows(rows: list[dict[str, Any]], key: str, desc: bool) -> list[dict[str, Any]]:
    """Sort with None always last, text case-insensitively."""

    def k(r: dict[str, Any]) -> Any:
        v = r.get(key)
        if isinstance(v, str):
            v = v.casefold()
        return v

    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=k, reverse=desc)
    return present + missing


def text_filter(rows: Sequence[dict[str, Any]], q: str | None, keys: Sequence[str]) -> list[dict[str, Any]]:
    q = (clean(q) or "").casefold()
    if not q:
        return list(rows)
    return [r for r in rows if any(q in str(r.get(k) or "").casefold() for k in keys)]


def organization_trend(s: Session, portal_id: int, name: str) -> list[dict[str, Any]]:
    rows = s.execute(
        select(AuditRun.id, AuditRun.year, AuditRun.started_at, OrganizationResult)
        .join(OrganizationResult, OrganizationResult.run_id == AuditRun.id)
        .where(AuditRun.portal_id == portal_id, OrganizationResult.organization_name == name)
        .order_by(AuditRun.id)
    ).all()
    return [
        {
            "run": rid,
            "year": year,
            "started_at": assume_utc(started),
            "score": r.score,
            "datasets": r.datasets,
            "conformes": r.conformes,
            "progress_pct": r.progress_pct,
        }
        for rid, year, started, r in rows
    ]


def commitments(s: Session, run_id: int, organization: str | None = None) -> list[dict[str, Any]]:
    cond = [CommitmentRecord.run_id == run_id]
    if organization is not None:
        cond.append(CommitmentRecord.organization_name == organization)
    return [
        {
            "organization": c.organization_name or c.organization_key,
            "organization_key": c.organization_key,
            "dataset": c.matched_dataset,
            "dataset_key": c.dataset_key,
            "due_date": c.due_date,
            "committed": c.committed,
            "published": c.published,
            "conforme": c.conforme,
            "matched": c.matched_dataset is not None,
        }
        for c in s.scalars(select(CommitmentRecord).where(*cond).order_by(CommitmentRecord.id))
    ]


def indicator(s: Session, run_id: int) -> dict[str, Any]:
    orgs = organization_rows(s, run_id)
    # all stored commitments, as the reports count them (organizations not on the portal included)
    committed, published, conformes = portal_commitment_totals(s, run_id)
    comm = commitments(s, run_id)
    return {
        "run": run_id,
        "committed": committed,
        "published": published,
        "progress_pct": round(100.0 * published / committed, 1) if committed else None,
        "quality_progress_pct": round(100.0 * conformes / committed, 1) if committed and comm else None,
        "organizations": [
            {
                "organization": o["organization"],
                "title": o["title"],
                "committed": o["committed"],
                "published": o["published"],
                "progress_pct": o["progress_pct"],
                "quality_progress_pct": o["quality_progress_pct"],
            }
            for o in orgs
        ],
        "unmatched": [
            {"organization": c["organization"], "dataset": c["dataset_key"], "due_date": c["due_date"]}
            for c in comm
            if c["committed"] and not c["matched"]
        ],
    }


# ------------------------------------------------------------------------------------------ datasets


def results_rows(
    s: Session,
    run_id: int,
    *,
    organization: str | None = None,
    dataset: str | None = None,
    characteristic: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """scores.csv rows (findings in full) with filters and pagination, ordered like the file."""
    cond = [RuleResultRecord.run_id == run_id]
    if organization:
        cond.append(DatasetSnapshot.organization_name == organization)
    if dataset:
        cond.append(DatasetSnapshot.name == dataset)
    if characteristic:
        cond.append(RuleResultRecord.characteristic == characteristic)
    if status:
        cond.append(RuleResultRecord.status == status)
    base = select(RuleResultRecord, DatasetSnapshot.name, DatasetSnapshot.organization_name).join(
        DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id
    )
    total = s.scalar(
        select(func.count())
        .select_from(RuleResultRecord)
        .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
        .where(*cond)
    ) or 0
    rows = s.execute(
        base.where(*cond)
        .order_by(DatasetSnapshot.organization_name, DatasetSnapshot.name, RuleResultRecord.characteristic)
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        {
            "organization": org,
            "dataset": name,
            "characteristic": r.characteristic,
            "status": r.status,
            "score": r.score,
            "findings": list(r.findings or []),
            "automatic_status": r.automatic_status,
            "manual_review": r.manual_review_id is not None,
        }
        for r, name, org in rows
    ], total


def findings_for(s: Session, snapshot_ids: Sequence[int], characteristic: str) -> dict[int, list[dict[str, Any]]]:
    if not snapshot_ids:
        return {}
    out: dict[int, list[dict[str, Any]]] = {}
    for ds_id, findings in s.execute(
        select(RuleResultRecord.dataset_snapshot_id, RuleResultRecord.findings).where(
            RuleResultRecord.dataset_snapshot_id.in_(list(snapshot_ids)),
            RuleResultRecord.characteristic == characteristic,
        )
    ):
        out[ds_id] = [f for f in (findings or []) if isinstance(f, dict)]
    return out


def dataset_detail(s: Session, run: AuditRun, name: str, weights: dict[str, float]) -> dict[str, Any] | None:
    """Everything the dataset page shows: snapshot, ten results with findings and manual reviews, resources
    with their probe outcome in every run of the portal, content checks, and the history timeline.

    Three queries with column selects (no ORM instances): every round trip counts on PostgreSQL."""
    # 1. The dataset in every run of the portal. The only filter on dataset_snapshot is the name (its own index);
    # the run is picked in Python: with "run_id = ? AND name = ?" SQLite without ANALYZE statistics scans the
    # whole run through ix_dataset_snapshot_run_id (30 ms on 10,000 datasets).
    rows = s.execute(
        select(DatasetSnapshot.id, DatasetSnapshot.run_id, DatasetSnapshot.presence,
               DatasetSnapshot.metadata_modified, DatasetSnapshot.title, DatasetSnapshot.organization_name,
               DatasetSnapshot.license_id, DatasetSnapshot.raw, AuditRun.started_at, AuditRun.year, AuditRun.status,
               AuditRun.portal_id)
        .join(AuditRun, AuditRun.id == DatasetSnapshot.run_id)
        .where(DatasetSnapshot.name == name)
    ).all()
    snaps = {r.id: r for r in rows if r.portal_id == run.portal_id and r.run_id <= run.id}
    snap_id = next((i for i, r in snaps.items() if r.run_id == run.id), None)
    if snap_id is None:
        return None
    snap_ids = list(snaps)
    snap = snaps[snap_id]
    raw = snap.raw if isinstance(snap.raw, dict) else {}

    # 2. Rule results of every snapshot (history) with the manual review that overrode one, if any.
    per_snap: dict[int, dict[str, tuple[str, float]]] = {i: {} for i in snap_ids}
    results = []
    for r in s.execute(
        select(RuleResultRecord.dataset_snapshot_id, RuleResultRecord.characteristic, RuleResultRecord.status,
               RuleResultRecord.score, RuleResultRecord.findings, RuleResultRecord.automatic_status,
               RuleResultRecord.error, RuleResultRecord.manual_review_id, ManualReview.status.label("review_status"),
               ManualReview.justification, ManualReview.reviewer, ManualReview.review_date)
        .outerjoin(ManualReview, ManualReview.id == RuleResultRecord.manual_review_id)
        .where(RuleResultRecord.dataset_snapshot_id.in_(snap_ids))
    ):
        per_snap[r.dataset_snapshot_id][r.characteristic] = (r.status, r.score)
        if r.dataset_snapshot_id != snap_id:
            continue
        results.append(
            {
                "characteristic": r.characteristic,
                "status": r.status,
                "score": r.score,
                "findings": [f for f in (r.findings or []) if isinstance(f, dict)],
                "automatic_status": r.automatic_status,
                "error": r.error,
                "manual_review": None
                if r.manual_review_id is None
                else {"status": r.review_status, "justification": r.justification, "reviewer": r.reviewer,
                      "review_date": r.review_date},
            }
        )
    order = {c: i for i, c in enumerate(CHARACTERISTICS)}
    results.sort(key=lambda x: order.get(x["characteristic"], 99))

    history = []
    for sid in sorted(snap_ids, key=lambda i: snaps[i].run_id):
        h = snaps[sid]
        st = per_snap.get(sid, {})
        score, conforme = dataset_score(st, weights) if st else (None, False)
        history.append(
            {
                "run": h.run_id,
                "year": h.year,
                "started_at": assume_utc(h.started_at),
                "run_status": h.status,
                "presence": h.presence,
                "metadata_modified": assume_utc(h.metadata_modified),
                "score": score,
                "conforme": conforme,
                "statuses": {c: v[0] for c, v in st.items()},
            }
        )

    # 3. Resources of every snapshot with their probe and content check of the same run.
    resources = s.execute(
        select(ResourceSnapshot.id, ResourceSnapshot.run_id, ResourceSnapshot.dataset_snapshot_id,
               ResourceSnapshot.ckan_id, ResourceSnapshot.name, ResourceSnapshot.description, ResourceSnapshot.url,
               ResourceSnapshot.format, ResourceSnapshot.last_modified,
               Probe.id.label("probe_id"), Probe.outcome, Probe.reason, Probe.status_code, Probe.final_url,
               Probe.content_type, Probe.sniffed_type, Probe.bytes_read, Probe.elapsed_ms,
               Probe.last_modified.label("probe_last_modified"), Probe.error, Probe.checked_at,
               ContentCheck.id.label("check_id"), ContentCheck.parsed_ok, ContentCheck.rows, ContentCheck.columns,
               ContentCheck.encoding, ContentCheck.delimiter, ContentCheck.details, ContentCheck.expectations)
        .outerjoin(Probe, and_(Probe.run_id == ResourceSnapshot.run_id,
                               Probe.resource_snapshot_id == ResourceSnapshot.id))
        .outerjoin(ContentCheck, and_(ContentCheck.run_id == ResourceSnapshot.run_id,
                                      ContentCheck.resource_snapshot_id == ResourceSnapshot.id))
        .where(ResourceSnapshot.dataset_snapshot_id.in_(snap_ids))
        .order_by(ResourceSnapshot.run_id, ResourceSnapshot.position)
    ).all()
    resource_rows = []
    for r in resources:
        if r.dataset_snapshot_id != snap_id:
            continue
        key = r.ckan_id or r.url
        per_run = [
            {
                "run": o.run_id,
                "outcome": o.outcome,
                "reason": o.reason,
                "status_code": o.status_code,
                "sniffed_type": o.sniffed_type,
                "checked_at": assume_utc(o.checked_at),
            }
            for o in resources
            if (o.ckan_id or o.url) == key
        ]
        resource_rows.append(
            {
                "name": r.name,
                "url": r.url,
                "format": r.format,
                "description": r.description,
                "last_modified": assume_utc(r.last_modified),
                "probe": None
                if r.probe_id is None
                else {
                    "outcome": r.outcome,
                    "reason": r.reason,
                    "status_code": r.status_code,
                    "final_url": r.final_url,
                    "content_type": r.content_type,
                    "sniffed_type": r.sniffed_type,
                    "bytes_read": r.bytes_read,
                    "elapsed_ms": r.elapsed_ms,
                    "last_modified": assume_utc(r.probe_last_modified),
                    "error": r.error,
                },
                "content": None
                if r.check_id is None
                else {
                    "parsed_ok": r.parsed_ok,
                    "rows": r.rows,
                    "columns": r.columns,
                    "encoding": r.encoding,
                    "delimiter": r.delimiter,
                    "problems": list((r.details or {}).get("problems", []) or []),
                    "expectations_success": (r.expectations or {}).get("success"),
                },
                "runs": per_run,
            }
        )
    return {
        "organization": snap.organization_name,
        "dataset": name,
        "title": snap.title,
        "presence": snap.presence,
        "license_id": snap.license_id,
        "metadata_modified": assume_utc(snap.metadata_modified),
        "notes": raw.get("notes") if isinstance(raw.get("notes"), str) else None,
        "results": results,
        "resources": resource_rows,
        "history": history,
    }


# ------------------------------------------------------------------------------------------ admin log


def admin_log(s: Session, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {"at": assume_utc(e.at), "user": e.user, "action": e.action, "outcome": e.outcome, "detail": e.detail, "client": e.client}
        for e in s.scalars(select(AdminLogEntry).order_by(AdminLogEntry.id.desc()).limit(limit))
    ]


def record_admin_action(
    s: Session, *, user: str, action: str, outcome: str, detail: dict[str, Any], client: str | None, at: datetime
) -> None:
    s.add(AdminLogEntry(at=at, user=user, action=action, outcome=outcome, detail=detail, client=client))


def start_session(s: Session, *, sid_hash: str, user: str, now: datetime, expires: datetime) -> None:
    s.add(AdminSession(id=sid_hash, user=user, created_at=now, expires_at=expires))


def session_active(s: Session, sid_hash: str, now: datetime) -> bool:
    row = s.get(AdminSession, sid_hash)
    return row is not None and row.ended_at is None and (assume_utc(row.expires_at) or now) > now


def end_session(s: Session, sid_hash: str, now: datetime) -> None:
    row = s.get(AdminSession, sid_hash)
    if row is not None and row.ended_at is None:
        row.ended_at = now


def portals(s: Session) -> list[dict[str, Any]]:
    return [{"id": p.id, "url": p.url, "title": p.title} for p in s.scalars(select(Portal).order_by(Portal.id))]
