"""Per-organization and per-portal summaries of a run, the ranking, and the same for earlier years (trends).

Definitions (docs/reports.md): evaluated datasets = listed + retired; portal score = mean of the dataset scores;
characteristic compliance = datasets that pass ÷ datasets where it applies × 100 (and the share passing partially);
portal progress = 100 × Σ published ÷ Σ committed over the stored commitments.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.duplicates import DuplicateGroup, find_duplicates
from audit.indicator import portal_commitment_totals
from audit.results.ranking import rank
from audit.results.run import (
    RunData,
    characteristic_pct,
    get_run,
    load_run_data,
    mean,
    previous_run_id,
    run_year,
)
from audit.store.db import Store
from audit.store.models import AuditRun, GroupSnapshot, OrganizationResult, OrganizationSnapshot
from rules import CHARACTERISTICS


@dataclass(slots=True)
class RunSummary:
    """The portal-wide figures of one run."""

    run_id: int
    year: int | None
    date: datetime | None
    datasets: int  # listed (public) datasets
    retired: int
    organizations: int
    groups: int
    conformes: int
    score: float | None  # 0–1
    committed: int
    published: int
    progress_pct: float | None
    quality_progress_pct: float | None
    characteristic_pct: dict[str, float | None]
    characteristic_partial_pct: dict[str, float | None] = field(default_factory=dict)

    @property
    def evaluated(self) -> int:
        """Every dataset the evaluation covers: listed + retired (the denominator of ``conformes_pct``)."""
        return self.datasets + self.retired

    @property
    def conformes_pct(self) -> float | None:
        total = self.evaluated
        return 100.0 * self.conformes / total if total else None


@dataclass(slots=True)
class OrgRow:
    """One organization's figures in a run."""

    name: str
    title: str
    datasets: int  # evaluated: listed + retired
    score: float | None
    conformes: int
    characteristic_pct: dict[str, float | None]
    committed: int
    published: int
    progress_pct: float | None
    quality_progress_pct: float | None
    position: int | None = None  # ranking among organizations with datasets (ties share the position)
    tied: bool = False  # another organization shares the position
    retired: int = 0  # of ``datasets``, those retired from the portal
    characteristic_partial_pct: dict[str, float | None] = field(default_factory=dict)

    @property
    def listed(self) -> int:
        return self.datasets - self.retired


def org_rows(s: Session, run_id: int, data: RunData) -> list[OrgRow]:
    """Every organization of the run (incl. those without datasets), ranked by score, then the unranked by title."""
    snaps = {o.name: o for o in s.scalars(select(OrganizationSnapshot).where(OrganizationSnapshot.run_id == run_id))}
    results = {r.organization_name: r for r in s.scalars(
        select(OrganizationResult).where(OrganizationResult.run_id == run_id))}
    by_org: dict[str, list[int]] = defaultdict(list)
    retired: dict[str, int] = defaultdict(int)
    for ds_id, _name, _title, org, presence in data.datasets:
        if org:
            by_org[org].append(ds_id)
            retired[org] += presence != "listed"
    rows: list[OrgRow] = []
    for name in sorted(set(snaps) | set(results) | set(by_org)):
        snap, res = snaps.get(name), results.get(name)
        title = (res.title if res and res.title else None) or (snap.title if snap and snap.title else None) or name
        ds_ids = by_org.get(name, [])
        # evaluated datasets counted from the snapshots, the same way everywhere (listed + retired)
        evaluated = len(ds_ids) if ds_ids or res is None else res.datasets
        if res is not None:
            row = OrgRow(
                name=name, title=title, datasets=evaluated, score=res.score, conformes=res.conformes,
                characteristic_pct={c: res.characteristic_pct.get(c) for c in CHARACTERISTICS},
                committed=res.committed, published=res.published, progress_pct=res.progress_pct,
                quality_progress_pct=res.quality_progress_pct,
            )
        else:  # scoring did not write aggregates: compute them from the rule results
            scores = [data.scores[d][0] for d in ds_ids if data.scores[d][0] is not None]
            row = OrgRow(
                name=name, title=title,
                datasets=evaluated,
                score=mean(scores),
                conformes=sum(1 for d in ds_ids if data.scores[d][1]),
                characteristic_pct=characteristic_pct(ds_ids, data.cells),
                committed=0, published=0, progress_pct=None, quality_progress_pct=None,
            )
        row.retired = retired.get(name, 0)
        row.characteristic_partial_pct = characteristic_pct(ds_ids, data.cells, "partial")
        rows.append(row)
    ranked = []
    for r, position, tied in rank((r for r in rows if r.datasets > 0 and r.score is not None),
                                  lambda r: r.score):  # type: ignore[arg-type,return-value]
        r.position, r.tied = position, tied
        ranked.append(r)
    unranked = sorted((r for r in rows if r.position is None), key=lambda r: r.title.casefold())
    return ranked + unranked


def run_summary(s: Session, run: AuditRun, data: RunData, orgs: list[OrgRow]) -> RunSummary:
    ds_ids = [d[0] for d in data.datasets]
    scores = [data.scores[d][0] for d in ds_ids if data.scores[d][0] is not None]
    # from the stored commitments, not a sum over organizations: commitments of organizations the portal does
    # not have still count (committed, not published)
    committed, published, conforme_committed = portal_commitment_totals(s, run.id)
    quality = round(100.0 * conforme_committed / committed, 1) if committed else None
    groups = s.scalar(select(func.count()).select_from(GroupSnapshot).where(GroupSnapshot.run_id == run.id)) or 0
    return RunSummary(
        run_id=run.id,
        year=run_year(run),
        date=run.started_at,
        datasets=sum(1 for d in data.datasets if d[4] == "listed"),
        retired=sum(1 for d in data.datasets if d[4] != "listed"),
        organizations=len(orgs),
        groups=groups,
        conformes=sum(1 for d in ds_ids if data.scores[d][1]),
        score=mean(scores),
        committed=committed,
        published=published,
        progress_pct=round(100.0 * published / committed, 1) if committed else None,
        quality_progress_pct=quality,
        characteristic_pct=characteristic_pct(ds_ids, data.cells),
        characteristic_partial_pct=characteristic_pct(ds_ids, data.cells, "partial"),
    )


@dataclass(slots=True)
class YearResults:
    """An earlier year's evaluation (its last complete run): the trend and the previous-year comparisons."""

    year: int
    run_id: int
    orgs: list[OrgRow]
    summary: RunSummary

    @property
    def ranked(self) -> int:
        return sum(1 for o in self.orgs if o.position is not None)

    @property
    def by_name(self) -> dict[str, OrgRow]:
        return {o.name: o for o in self.orgs}


def earlier_years(s: Session, run: AuditRun, year: int, weights: dict[str, float] | None,
                  years: int = 5) -> list[YearResults]:
    """The ``years`` years before ``year`` that have a complete run of the same portal, oldest first."""
    out = []
    for y in range(year - years, year):
        rid = previous_run_id(s, run, y)
        if rid is None:
            continue
        prun = s.get(AuditRun, rid)
        assert prun is not None
        pdata = load_run_data(s, rid, weights)
        prows = org_rows(s, rid, pdata)
        out.append(YearResults(y, rid, prows, run_summary(s, prun, pdata, prows)))
    return out


@dataclass(slots=True)
class PortalContext:
    """Portal-wide numbers every organization report needs (ranking, averages, previous year), computed once per
    run; whole-run scans (duplicates) are kept here the first time they are asked for."""

    orgs: list[OrgRow]
    portal_pct: dict[str, float | None]
    portal_score: float | None
    previous_orgs: dict[str, OrgRow]
    previous_year: int | None
    portal_partial_pct: dict[str, float | None] = field(default_factory=dict)
    #: earlier years' evaluations, oldest first: (year, run id, organizations ranked that year, rows by name)
    history: list[tuple[int, int, int, dict[str, OrgRow]]] = field(default_factory=list)
    _duplicates: dict[str, list[DuplicateGroup]] = field(default_factory=dict)

    def duplicates(self, store: Store, run_id: int, doc_params: Any) -> list[DuplicateGroup]:
        """:func:`audit.duplicates.find_duplicates` of the run, scanned once per documentation parameters."""
        key = json.dumps(doc_params.model_dump(mode="json") if hasattr(doc_params, "model_dump") else doc_params,
                         sort_keys=True, default=str)
        if key not in self._duplicates:
            self._duplicates[key] = find_duplicates(store, run_id, doc_params)
        return self._duplicates[key]


def portal_context(store: Store, run_id: int, *, weights: dict[str, float] | None = None) -> PortalContext:
    with store.session() as s:
        run = get_run(s, run_id)
        year = run_year(run)
        data = load_run_data(s, run_id, weights)
        orgs = org_rows(s, run_id, data)
        ids = [d[0] for d in data.datasets]
        history = earlier_years(s, run, year, weights)
        last = history[-1] if history and history[-1].year == year - 1 else None
        return PortalContext(
            orgs=orgs,
            portal_pct=characteristic_pct(ids, data.cells),
            portal_score=mean([data.scores[d][0] for d in ids]),
            previous_orgs=last.by_name if last else {},
            previous_year=year - 1 if last is not None else None,
            portal_partial_pct=characteristic_pct(ids, data.cells, "partial"),
            history=[(y.year, y.run_id, y.ranked, y.by_name) for y in history],
        )
