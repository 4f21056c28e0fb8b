"""Stage 4–5: evaluate every dataset of a run against the ten characteristics and aggregate per organization.

Builds a :class:`audit.evidence.DatasetContext` per dataset from the store (probe and content evidence, history
of earlier runs in the look-back window, annual availability), runs the rules (a crashing rule is recorded, never
fatal), applies manual reviews, adds datasets retired since earlier runs, and writes per-organization aggregates
and the commitments indicator. Re-running it on a stored run replaces that run's results (idempotent).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

import rules as rules_pkg
from audit.availability import availability_for_year
from audit.clock import assume_utc, local_day
from audit.config import AuditConfig
from audit.duplicates import find_duplicates, flag_shared_files
from audit.evidence import (
    Availability,
    ContentEvidence,
    DatasetContext,
    HistoricResource,
    HistoryEntry,
    ProbeEvidence,
    ResourceEvidence,
)
from audit.indicator import (
    Commitment,
    DatasetRef,
    OrgRef,
    evaluate_commitments,
    progress_pct,
    resource_publishes,
)
from audit.progress import stage_progress
from audit.runs import record_error
from audit.store import (
    AuditRun,
    CommitmentRecord,
    DatasetSnapshot,
    LicenseSnapshot,
    OrganizationResult,
    OrganizationSnapshot,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
    RunError,
    Store,
)
from audit.textnorm import match_key
from rules import CHARACTERISTICS
from rules._common import is_documentation, parse_datetime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
BATCH = 300
REVIEW_SCORES = {"pass": 1.0, "partial": 0.5, "fail": 0.0, "not_applicable": 0.0}


@dataclass
class ScoreSummary:
    datasets: int = 0
    retired: int = 0
    rule_errors: int = 0
    conformes: int = 0
    manual_overrides: int = 0


def _probe_evidence(store: Store, run_id: int) -> dict[int, ProbeEvidence]:
    from audit.probe import probe_evidence_for_run

    return probe_evidence_for_run(store, run_id)


def _content_evidence(store: Store, run_id: int) -> dict[int, ContentEvidence]:
    from audit.content.stage import content_evidence_for_run

    return content_evidence_for_run(store, run_id)


def _availability(store: Store, run: AuditRun, cfg: AuditConfig, *, annual: bool = False) -> dict[str, Availability]:
    """The year's availability of each resource, for the annual evaluation only (a periodic audit judges what it
    saw that night)."""
    if not (annual or run.kind == "annual"):
        return {}
    year = run.year or audit_year(run, cfg)
    return availability_for_year(store, run.portal_id, year, until_run_id=run.id)


def _history(store: Store, run: AuditRun, lookback_days: int) -> tuple[dict[str, list[HistoryEntry]], dict[str, DatasetSnapshot], bool]:
    """Earlier complete runs of the portal inside the look-back window.

    Returns (history by dataset CKAN id, last 'listed' snapshot by CKAN id, whether any earlier run exists).
    """
    since = assume_utc(run.started_at) - timedelta(days=lookback_days)
    with store.session() as s:
        earlier = s.execute(
            select(AuditRun.id, AuditRun.started_at).where(
                AuditRun.portal_id == run.portal_id, AuditRun.id < run.id, AuditRun.status == "complete")
            .order_by(AuditRun.id)
        ).all()
        runs = [(rid, assume_utc(started)) for rid, started in earlier if assume_utc(started) >= since]
        history: dict[str, list[HistoryEntry]] = defaultdict(list)
        last_seen: dict[str, DatasetSnapshot] = {}
        for rid, started in runs:
            resources: dict[int, list[HistoricResource]] = defaultdict(list)
            rows = s.execute(
                select(ResourceSnapshot.dataset_snapshot_id, ResourceSnapshot.ckan_id, ResourceSnapshot.name,
                       ResourceSnapshot.url, Probe.sha256, Probe.outcome, Probe.final_url)
                .outerjoin(Probe, (Probe.resource_snapshot_id == ResourceSnapshot.id) & (Probe.run_id == rid))
                .where(ResourceSnapshot.run_id == rid)
            )
            for ds_id, ckan_id, name, url, sha, outcome, final_url in rows:
                resources[ds_id].append(HistoricResource(ckan_id, name, url, sha, outcome, final_url=final_url))
            for snap in s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.run_id == rid,
                                                                DatasetSnapshot.presence == "listed")):
                history[snap.ckan_id].append(HistoryEntry(rid, started, assume_utc(snap.metadata_modified),
                                                          tuple(resources.get(snap.id, ()))))
                last_seen[snap.ckan_id] = snap
            s.expunge_all()
    return history, last_seen, bool(runs)


def _add_retired(store: Store, run_id: int, last_seen: dict[str, DatasetSnapshot]) -> int:
    """Datasets listed in an earlier run of the window and absent now stay in the evaluation as 'retirado'."""
    with store.session() as s:
        s.execute(delete(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id,
                                                DatasetSnapshot.presence == "retired"))
        current = set(s.scalars(select(DatasetSnapshot.ckan_id).where(DatasetSnapshot.run_id == run_id)))
        current_names = set(s.scalars(select(DatasetSnapshot.name).where(DatasetSnapshot.run_id == run_id)))
        added = 0
        for ckan_id, old in last_seen.items():
            if ckan_id in current or old.name in current_names:
                continue
            s.add(DatasetSnapshot(
                run_id=run_id, ckan_id=ckan_id, name=old.name, title=old.title,
                organization_name=old.organization_name, private=old.private, state=old.state,
                presence="retired", license_id=old.license_id, metadata_created=old.metadata_created,
                metadata_modified=old.metadata_modified, num_resources=0, raw=old.raw,
            ))
            added += 1
        return added


def dataset_score(results: dict[str, tuple[str, float]], weights: dict[str, float]) -> float | None:
    """Weighted mean over applicable characteristics; None when nothing is applicable."""
    num = den = 0.0
    for char, (status, score) in results.items():
        if status == "not_applicable":
            continue
        w = weights.get(char, 1.0)
        num += w * score
        den += w
    return round(num / den, 4) if den else None


def is_conforme(results: dict[str, tuple[str, float]]) -> bool:
    applicable = [st for st, _ in results.values() if st != "not_applicable"]
    return bool(applicable) and all(st == "pass" for st in applicable)


def run_score_stage(store: Store, run_id: int, cfg: AuditConfig, *, commitments: list[Commitment] | None = None,
                    annual: bool = False) -> ScoreSummary:
    """Score every dataset of ``run_id``. ``annual=True`` (the annual evaluation re-scoring its snapshot run) judges
    *accesibles* by each resource's availability over the year's runs, as an ``annual`` run does."""
    from audit.reviews import latest_reviews

    params = rules_pkg.params_for(cfg.rules.model_dump())
    lookback = int(getattr(params.get("permanentes"), "lookback_days", 365))
    summary = ScoreSummary()
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        s.expunge(run)
        licenses = {lic.license_id: dict(lic.raw or {}) for lic in s.scalars(
            select(LicenseSnapshot).where(LicenseSnapshot.run_id == run_id))}
    audit_date = assume_utc(run.started_at)
    probes = _probe_evidence(store, run_id)
    contents = _content_evidence(store, run_id)
    availability = _availability(store, run, cfg, annual=annual)
    history, last_seen, has_previous = _history(store, run, lookback)
    summary.retired = _add_retired(store, run_id, last_seen)
    reviews = latest_reviews(store, run.portal_id)

    with store.session() as s:
        s.execute(delete(RuleResultRecord).where(RuleResultRecord.run_id == run_id))
        ids = list(s.scalars(select(DatasetSnapshot.id).where(DatasetSnapshot.run_id == run_id)
                             .order_by(DatasetSnapshot.id)))
    per_dataset: dict[int, dict[str, tuple[str, float]]] = {}
    with stage_progress(f"Evaluando las {rules_pkg.count_es()} características", total=len(ids)) as advance:
        for i in range(0, len(ids), BATCH):
            chunk = ids[i:i + BATCH]
            with store.session() as s:
                snaps = s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.id.in_(chunk))).all()
                res_by_ds: dict[int, list[ResourceSnapshot]] = defaultdict(list)
                for r in s.scalars(select(ResourceSnapshot).where(ResourceSnapshot.dataset_snapshot_id.in_(chunk))
                                   .order_by(ResourceSnapshot.position)):
                    res_by_ds[r.dataset_snapshot_id].append(r)
                for snap in snaps:
                    evidences = tuple(
                        ResourceEvidence(
                            resource=dict(r.raw or {}),
                            probe=probes.get(r.id),
                            content=contents.get(r.id),
                            availability=availability.get(r.ckan_id or "") or availability.get(r.url or ""),
                        )
                        for r in res_by_ds.get(snap.id, [])
                    )
                    ctx = DatasetContext(
                        dataset=dict(snap.raw or {}),
                        organization=snap.organization_name or "",
                        resources=evidences,
                        audit_date=audit_date,
                        history=tuple(history.get(snap.ckan_id, ())),
                        has_previous_runs=has_previous,
                        retired=snap.presence == "retired",
                        licenses=licenses,
                    )
                    results = rules_pkg.evaluate_all(ctx, params)
                    statuses: dict[str, tuple[str, float]] = {}
                    for res in results:
                        error = (res.evidence or {}).get("error")
                        if error:
                            summary.rule_errors += 1
                            record_error(s, run_id, "score", "rule_error", str(error),
                                         subject=f"{snap.name}:{res.characteristic}")
                        status, score = str(res.status), float(res.score)
                        findings = [f.as_dict() for f in res.findings]
                        record = RuleResultRecord(
                            run_id=run_id, dataset_snapshot_id=snap.id, characteristic=res.characteristic,
                            status=status, score=score, findings=findings, evidence=dict(res.evidence or {}),
                            error=str(error) if error else None,
                        )
                        review = (reviews.get((match_key(snap.name), res.characteristic))
                                  or reviews.get((match_key(snap.title), res.characteristic)))
                        if review is not None:
                            summary.manual_overrides += 1
                            record.automatic_status = status
                            record.manual_review_id = review.id
                            record.status = status = review.status
                            record.score = score = REVIEW_SCORES[review.status]
                            record.findings = [*findings, {
                                "code": "manual_review",
                                "message_es": f"Revisión manual ({review.reviewer}, {review.review_date.isoformat()}): "
                                              f"{review.justification}",
                                "remediation_es": "", "resource": None, "observed": review.status,
                                "manual_review": True,
                            }]
                        s.add(record)
                        statuses[res.characteristic] = (status, score)
                    per_dataset[snap.id] = statuses
                    summary.datasets += 1
                    advance(1)
    summary.conformes = sum(1 for r in per_dataset.values() if is_conforme(r))
    aggregate_organizations(store, run_id, cfg, per_dataset, probes, commitments)
    return summary


def _stored_inventory(s: Session, run: AuditRun) -> list[Commitment] | None:
    """The commitments inventory kept in the database: this run's (re-scoring) or else the latest earlier run's of
    the same portal, so an audit started without ``--commitments`` (a scheduled one, the annual evaluation) still
    measures progress against the last inventory loaded. None when no inventory was ever loaded."""
    for cond in (CommitmentRecord.run_id == run.id,
                 CommitmentRecord.run_id == select(func.max(CommitmentRecord.run_id)).join(
                     AuditRun, AuditRun.id == CommitmentRecord.run_id).where(
                     AuditRun.portal_id == run.portal_id, AuditRun.id < run.id).scalar_subquery()):
        rows = s.execute(select(CommitmentRecord.organization_key, CommitmentRecord.dataset_key,
                                CommitmentRecord.due_date).where(cond).order_by(CommitmentRecord.id)).all()
        if rows:
            return [Commitment(org, ds, due) for org, ds, due in rows]
    return None


def _created(snap: DatasetSnapshot) -> date | None:
    raw = snap.raw if isinstance(snap.raw, dict) else {}
    when = parse_datetime(raw.get("metadata_created"))
    return when.date() if when else None


def aggregate_organizations(store: Store, run_id: int, cfg: AuditConfig,
                            per_dataset: dict[int, dict[str, tuple[str, float]]],
                            probes: dict[int, ProbeEvidence], commitments: list[Commitment] | None) -> None:
    weights = cfg.scoring.weights
    # what is documentation and not data, outside the rules: the shared rules.common words
    doc_params = rules_pkg.common_params(cfg.rules.model_dump())
    shared = find_duplicates(store, run_id, doc_params) if commitments is not None else []
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        year = run.year or audit_year(run, cfg)
        s.execute(delete(OrganizationResult).where(OrganizationResult.run_id == run_id))
        orgs = s.scalars(select(OrganizationSnapshot).where(OrganizationSnapshot.run_id == run_id)
                         .order_by(OrganizationSnapshot.name)).all()
        snaps = s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id)).all()
        # published (indicator.published_requires, by default data_file): its *data* can be downloaded — a reachable
        # data dictionary or methodology note next to a broken data file does not publish the data (the rules' own
        # documentation test, with the rules.common words, decides which is which)
        requires = cfg.indicator.published_requires
        reachable_ds: set[int] = set()
        any_probe = bool(probes)
        for ds_id, r_id, r_name, r_raw in s.execute(
                select(ResourceSnapshot.dataset_snapshot_id, ResourceSnapshot.id, ResourceSnapshot.name,
                       ResourceSnapshot.raw).where(ResourceSnapshot.run_id == run_id)):
            resource = {**(r_raw if isinstance(r_raw, dict) else {}), "name": r_name or (r_raw or {}).get("name")}
            p = probes.get(r_id)
            if resource_publishes(requires, outcome=p.outcome if p is not None else None,
                                  documentation=is_documentation(resource, doc_params), probed=any_probe):
                reachable_ds.add(ds_id)

        by_org: dict[str, list[DatasetSnapshot]] = defaultdict(list)
        for snap in snaps:
            by_org[snap.organization_name or ""].append(snap)
        org_titles = {o.name: o.title for o in orgs}
        for extra in by_org:  # datasets whose organization is not in organization_list (or none at all)
            org_titles.setdefault(extra, extra or "(sin organización)")

        dataset_refs = [
            DatasetRef(organization=snap.organization_name or "", name=snap.name, title=snap.title,
                       published=(snap.presence == "listed" and not snap.private and snap.state in (None, "active")
                                  and (snap.id in reachable_ds or requires == "listed")),
                       conforme=is_conforme(per_dataset.get(snap.id, {})),
                       created=_created(snap))
            for snap in snaps
        ]
        if commitments is None:
            commitments = _stored_inventory(s, run)
        outcomes = evaluate_commitments(
            commitments or [], [OrgRef(n, t) for n, t in org_titles.items()], dataset_refs,
            year=year, cutoff_month_day=cfg.indicator.cutoff_month_day, as_of=audit_day(run, cfg),
        ) if commitments is not None else None
        if outcomes is not None:
            outcomes = flag_shared_files(outcomes, shared)
            s.execute(delete(CommitmentRecord).where(CommitmentRecord.run_id == run_id))
            s.execute(delete(RunError).where(RunError.run_id == run_id, RunError.stage == "indicator"))
            for o in outcomes:
                if o.issue:
                    where = f"en la línea {o.commitment.line}" if o.commitment.line else "del inventario guardado"
                    record_error(s, run_id, "indicator", "commitment", f"Compromiso {where}: {o.issue}.",
                                 subject=f"{o.commitment.organization} / {o.commitment.dataset}")
                s.add(CommitmentRecord(
                    run_id=run_id, organization_key=o.commitment.organization, dataset_key=o.commitment.dataset,
                    due_date=o.commitment.due_date, organization_name=o.organization_name,
                    matched_dataset=o.matched_dataset, committed=o.committed, published=o.published,
                    conforme=o.conforme,
                ))
        else:  # keep commitments stored by an earlier scoring of this run
            outcomes_rows = s.scalars(select(CommitmentRecord).where(CommitmentRecord.run_id == run_id)).all()
        for name, title in sorted(org_titles.items()):
            ds = by_org.get(name, [])
            scores = [dataset_score(per_dataset.get(d.id, {}), weights) for d in ds]
            scored = [x for x in scores if x is not None]
            char_pct: dict[str, float | None] = {}
            for char in CHARACTERISTICS:
                statuses = [per_dataset.get(d.id, {}).get(char, ("not_applicable", 0.0))[0] for d in ds]
                applicable = [st for st in statuses if st != "not_applicable"]
                char_pct[char] = round(100.0 * applicable.count("pass") / len(applicable), 1) if applicable else None
            if outcomes is not None:
                mine = [o for o in outcomes if o.organization_name == name and o.committed]
                committed = len(mine)
                published = sum(o.published for o in mine)
                quality = sum(o.conforme for o in mine)
            else:
                mine_rows = [c for c in outcomes_rows if c.organization_name == name and c.committed]
                committed = len(mine_rows)
                published = sum(c.published for c in mine_rows)
                quality = sum(c.conforme for c in mine_rows)
            s.add(OrganizationResult(
                run_id=run_id, organization_name=name, title=title, datasets=len(ds),
                score=round(sum(scored) / len(scored), 4) if scored else None,
                conformes=sum(1 for d in ds if is_conforme(per_dataset.get(d.id, {}))),
                characteristic_pct=char_pct, committed=committed, published=published,
                progress_pct=progress_pct(published, committed),
                quality_progress_pct=progress_pct(quality, committed),
            ))


def audit_day(run: AuditRun, cfg: AuditConfig) -> date:
    """The day the run read the portal, in the configured time zone."""
    return local_day(run.started_at, cfg.timezone)


def audit_year(run: AuditRun, cfg: AuditConfig) -> int:
    return audit_day(run, cfg).year


__all__ = ["run_score_stage", "dataset_score", "is_conforme", "ScoreSummary"]
