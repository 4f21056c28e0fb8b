"""One run's rule results as read from the store: the rows every summary, ranking and table is computed from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.clock import utcnow
from audit.errors import ConfigError
from audit.results.score import Cells, score_cells
from audit.store.models import AuditRun, DatasetSnapshot, RuleResultRecord
from rules import CHARACTERISTICS


@dataclass(slots=True)
class RunData:
    """Rule results of a run, keyed by dataset snapshot id, plus the dataset rows (listed and retired)."""

    datasets: list[tuple[int, str, str | None, str | None, str]]  # id, name, title, organization, presence
    cells: dict[int, Cells]
    scores: dict[int, tuple[float | None, bool]]  # id → (score, conforme)


def load_run_data(s: Session, run_id: int, weights: dict[str, float] | None, org: str | None = None) -> RunData:
    """Two column queries (datasets, then rule results), ordered by organization and name; ``org`` narrows both."""
    q = select(
        DatasetSnapshot.id, DatasetSnapshot.name, DatasetSnapshot.title, DatasetSnapshot.organization_name,
        DatasetSnapshot.presence,
    ).where(DatasetSnapshot.run_id == run_id)
    rq = select(RuleResultRecord.dataset_snapshot_id, RuleResultRecord.characteristic, RuleResultRecord.status,
                RuleResultRecord.score).where(RuleResultRecord.run_id == run_id)
    if org is not None:
        q = q.where(DatasetSnapshot.organization_name == org)
        rq = rq.join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id).where(
            DatasetSnapshot.organization_name == org
        )
    datasets: list[Any] = [tuple(r) for r in s.execute(q.order_by(DatasetSnapshot.organization_name, DatasetSnapshot.name))]
    cells: dict[int, Cells] = defaultdict(dict)
    for ds_id, cid, status, score in s.execute(rq):
        cells[ds_id][cid] = (status, score)
    scores = {d[0]: score_cells(cells.get(d[0], {}), weights) for d in datasets}
    return RunData(datasets=datasets, cells=cells, scores=scores)


def characteristic_pct(ds_ids: list[int], cells: dict[int, Cells], status: str = "pass") -> dict[str, float | None]:
    """Per characteristic: datasets with ``status`` ÷ datasets where it applies × 100 (None: applies to none)."""
    out: dict[str, float | None] = {}
    for cid in CHARACTERISTICS:
        applicable = matched = 0
        for ds in ds_ids:
            st = cells.get(ds, {}).get(cid)
            if st is None or st[0] == "not_applicable":
                continue
            applicable += 1
            matched += st[0] == status
        out[cid] = 100.0 * matched / applicable if applicable else None
    return out


def mean(values: list[float] | list[float | None]) -> float | None:
    """Mean of the known values (None = no applicable characteristic)."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def get_run(s: Session, run_id: int) -> AuditRun:
    run = s.get(AuditRun, run_id)
    if run is None:
        raise ConfigError(
            f"No existe la corrida {run_id} en la base de datos.",
            hint="Consulte las corridas con 'run_audit.py status' o indique --year.",
        )
    return run


def run_year(run: AuditRun) -> int:
    if run.year:
        return run.year
    return (run.started_at or utcnow()).year


def previous_run_id(s: Session, run: AuditRun, year: int) -> int | None:
    """The last complete run of the same portal for ``year`` (None when there is none)."""
    return s.scalar(
        select(AuditRun.id)
        .where(AuditRun.portal_id == run.portal_id, AuditRun.year == year, AuditRun.status == "complete")
        .order_by(AuditRun.finished_at.desc().nulls_last(), AuditRun.id.desc())
        .limit(1)
    )
