"""Machine-readable outputs of a scored run (the output contract other teams read).

OUT/Y/scores.csv, datasets.csv, organizations.csv and scores.json. Text cells are neutralised against
spreadsheet formula injection: every string from the portal is untrusted.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from audit.scoring import dataset_score, is_conforme
from audit.store import (
    AuditRun,
    CommitmentRecord,
    DatasetSnapshot,
    OrganizationResult,
    RuleResultRecord,
    Store,
)
from audit.store.db import utcnow
from rules import CHARACTERISTICS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Prefix a quote to text that a spreadsheet would execute as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{round(value, digits):g}" if digits > 1 else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([safe_cell(c) for c in row])
    tmp.replace(path)  # readers never see a half-written file


def collect(store: Store, run_id: int, weights: dict[str, float]) -> dict[str, Any]:
    """Everything the exports (and the JSON API) need, in contract field names."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        snaps = s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id)
                          .order_by(DatasetSnapshot.organization_name, DatasetSnapshot.name)).all()
        results: dict[int, list[RuleResultRecord]] = defaultdict(list)
        for r in s.scalars(select(RuleResultRecord).where(RuleResultRecord.run_id == run_id)):
            results[r.dataset_snapshot_id].append(r)
        orgs = s.scalars(select(OrganizationResult).where(OrganizationResult.run_id == run_id)
                         .order_by(OrganizationResult.organization_name)).all()
        commitments = s.scalars(select(CommitmentRecord).where(CommitmentRecord.run_id == run_id)
                                .order_by(CommitmentRecord.id)).all()
        portal = run.portal
        datasets = []
        order = {c: i for i, c in enumerate(CHARACTERISTICS)}
        for snap in snaps:
            recs = sorted(results.get(snap.id, []), key=lambda r: order.get(r.characteristic, 99))
            statuses = {r.characteristic: (r.status, r.score) for r in recs}
            datasets.append({
                "organization": snap.organization_name or "",
                "dataset": snap.name,
                "title": snap.title or "",
                "presence": snap.presence,
                "score": dataset_score(statuses, weights),
                "conforme": is_conforme(statuses),
                "results": [
                    {
                        "characteristic": r.characteristic, "status": r.status, "score": r.score,
                        "automatic_status": r.automatic_status, "manual_review": r.manual_review_id is not None,
                        "findings": r.findings or [], "error": r.error,
                    }
                    for r in recs
                ],
            })
        return {
            "portal": {"url": portal.url, "title": portal.title, "ckan_version": portal.ckan_version},
            "run": {"id": run.id, "year": run.year, "kind": run.kind, "status": run.status,
                    "started_at": run.started_at.isoformat() if run.started_at else None,
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                    "counts": run.counts or {}},
            "generated_at": utcnow().isoformat(),
            "organizations": [
                {"organization": o.organization_name, "title": o.title or "", "datasets": o.datasets,
                 "score": o.score, "conformes": o.conformes,
                 **{f"{c}_pct": (o.characteristic_pct or {}).get(c) for c in CHARACTERISTICS},
                 "committed": o.committed, "published": o.published, "progress_pct": o.progress_pct,
                 "quality_progress_pct": o.quality_progress_pct}
                for o in orgs
            ],
            "datasets": datasets,
            "commitments": [
                {"organization": c.organization_key, "dataset": c.dataset_key, "due_date": c.due_date.isoformat(),
                 "organization_name": c.organization_name, "matched_dataset": c.matched_dataset,
                 "committed": c.committed, "published": c.published, "conforme": c.conforme}
                for c in commitments
            ],
        }


def write_exports(store: Store, run_id: int, out_year_dir: Path, weights: dict[str, float]) -> dict[str, Path]:
    """Write the four contract files into ``out_year_dir`` (= OUT/Y)."""
    out_year_dir.mkdir(parents=True, exist_ok=True)
    data = collect(store, run_id, weights)
    paths = {name: out_year_dir / name for name in ("scores.csv", "datasets.csv", "organizations.csv", "scores.json")}

    _write_csv(paths["scores.csv"], ["organization", "dataset", "characteristic", "status", "score", "findings"], [
        [d["organization"], d["dataset"], r["characteristic"], r["status"], _num(r["score"]),
         ";".join(f.get("code", "") for f in r["findings"])]
        for d in data["datasets"] for r in d["results"]
    ])
    _write_csv(paths["datasets.csv"],
               ["organization", "dataset", "title", "score", "conforme", *CHARACTERISTICS], [
                   [d["organization"], d["dataset"], d["title"], _num(d["score"]), "si" if d["conforme"] else "no",
                    *[next((r["status"] for r in d["results"] if r["characteristic"] == c), "") for c in CHARACTERISTICS]]
                   for d in data["datasets"]
               ])
    _write_csv(paths["organizations.csv"],
               ["organization", "title", "datasets", "score", "conformes", *[f"{c}_pct" for c in CHARACTERISTICS],
                "committed", "published", "progress_pct", "quality_progress_pct"], [
                   [o["organization"], o["title"], o["datasets"], _num(o["score"]), o["conformes"],
                    *[_pct(o[f"{c}_pct"]) for c in CHARACTERISTICS], o["committed"], o["published"],
                    _pct(o["progress_pct"]), _pct(o["quality_progress_pct"])]
                   for o in data["organizations"]
               ])
    tmp = paths["scores.json"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(paths["scores.json"])
    return paths
