"""The per-dataset and per-organization tables of a run in the contract's field names (what datasets.csv and
organizations.csv hold), the shape the dashboard, the JSON API and the CSV downloads share."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.results.run import load_run_data, mean
from audit.store.models import OrganizationResult, OrganizationSnapshot
from rules import CHARACTERISTICS


@dataclass
class RunTable:
    """Per-dataset table of one run plus portal-wide aggregates, with the definitions of ``RunSummary``:
    evaluated datasets = listed + retired (a retired dataset is scored: *permanentes* fails); ``score`` is the
    unrounded mean of the dataset scores (0–1), rounded once for display."""

    run_id: int
    datasets: list[dict[str, Any]]
    by_name: dict[str, dict[str, Any]]
    characteristic_pct: dict[str, float | None]
    characteristic_counts: dict[str, dict[str, int]]
    score: float | None
    conformes: int
    organizations: list[dict[str, Any]] = field(default_factory=list)  # organizations.csv rows
    built_at: float = field(default_factory=time.monotonic)

    @property
    def org_titles(self) -> dict[str, str]:
        """organization name → its title (names are slugs; people read titles)."""
        return {o["organization"]: o["title"] or o["organization"] for o in self.organizations}

    @property
    def retired(self) -> int:
        return sum(1 for d in self.datasets if d["presence"] != "listed")

    @property
    def listed(self) -> int:
        """Datasets published (listed) on the portal in this run."""
        return len(self.datasets) - self.retired

    @property
    def evaluated(self) -> int:
        """Every dataset the evaluation covers: listed + retired (``RunSummary.evaluated``)."""
        return len(self.datasets)


def characteristic_counts(datasets: Sequence[dict[str, Any]], characteristic: str) -> tuple[dict[str, int], float | None]:
    """Datasets per status of one characteristic, and the share that passes among those where it applies
    (percentage rounded once, to one decimal, as the reports show it)."""
    counts = {"pass": 0, "partial": 0, "fail": 0, "not_applicable": 0}
    for d in datasets:
        if d.get(characteristic) in counts:
            counts[d[characteristic]] += 1
    applicable = counts["pass"] + counts["partial"] + counts["fail"]
    return counts, (round(100.0 * counts["pass"] / applicable, 1) if applicable else None)


def build_table(s: Session, run_id: int, weights: dict[str, float]) -> RunTable:
    data = load_run_data(s, run_id, weights)
    datasets: list[dict[str, Any]] = []
    for ds_id, name, title, org, presence in data.datasets:
        cells = data.cells.get(ds_id, {})
        score, conforme = data.scores[ds_id]
        item: dict[str, Any] = {
            "organization": org,
            "dataset": name,
            "title": title,
            "score": score,  # as audit.scoring stores it and datasets.csv writes it
            "conforme": conforme,
            "presence": presence,
            "snapshot_id": ds_id,
        }
        for c in CHARACTERISTICS:
            item[c] = cells[c][0] if c in cells else None
        datasets.append(item)
    # the portal score exactly as RunSummary computes it (same values, same order), before the display sort
    score = mean([data.scores[d[0]][0] for d in data.datasets])
    datasets.sort(key=lambda d: ((d["organization"] or ""), d["dataset"]))
    counts: dict[str, dict[str, int]] = {}
    pct: dict[str, float | None] = {}
    for c in CHARACTERISTICS:
        counts[c], pct[c] = characteristic_counts(datasets, c)
    return RunTable(
        run_id=run_id,
        datasets=datasets,
        by_name={d["dataset"]: d for d in datasets},
        characteristic_pct=pct,
        characteristic_counts=counts,
        score=score,
        conformes=sum(1 for d in datasets if d["conforme"]),
        organizations=organization_rows(s, run_id),
    )


def public_dataset(d: dict[str, Any]) -> dict[str, Any]:
    """The datasets.csv row (drops internal keys)."""
    return {k: v for k, v in d.items() if k != "snapshot_id"}


def organization_result_rows(s: Session, run_id: int, *, by_name: bool = False) -> list[dict[str, Any]]:
    """organizations.csv rows of the organizations the scoring stage aggregated (stored order, or by name)."""
    q = select(OrganizationResult).where(OrganizationResult.run_id == run_id)
    if by_name:
        q = q.order_by(OrganizationResult.organization_name)
    out: list[dict[str, Any]] = []
    for r in s.scalars(q):
        pct = r.characteristic_pct or {}
        out.append({
            "organization": r.organization_name, "title": r.title, "datasets": r.datasets, "score": r.score,
            "conformes": r.conformes, **{f"{c}_pct": pct.get(c) for c in CHARACTERISTICS},
            "committed": r.committed, "published": r.published, "progress_pct": r.progress_pct,
            "quality_progress_pct": r.quality_progress_pct,
        })
    return out


def organization_rows(s: Session, run_id: int) -> list[dict[str, Any]]:
    """organizations.csv rows of a run; organizations without a result row (no scoring yet) come from the
    snapshot so every organization of the portal is listed."""
    out = organization_result_rows(s, run_id)
    seen = {r["organization"] for r in out}
    for name, title in s.execute(
        select(OrganizationSnapshot.name, OrganizationSnapshot.title).where(OrganizationSnapshot.run_id == run_id)
    ):
        if name in seen:
            continue
        row: dict[str, Any] = {"organization": name, "title": title, "datasets": 0, "score": None, "conformes": 0}
        row.update({f"{c}_pct": None for c in CHARACTERISTICS})
        row.update(committed=0, published=0, progress_pct=None, quality_progress_pct=None)
        out.append(row)
    return out
