"""Machine-readable outputs of a scored run (the output contract other teams read).

OUT/Y/scores.csv, datasets.csv, organizations.csv and scores.json. Text cells are neutralised against
spreadsheet formula injection: every string from the portal is untrusted.

Columns are only ever appended (readers may index them): ``scores.csv`` gained ``evidencia`` (the facts behind the
verdict, ``key=value; …``, see :func:`evidence_text`) and ``organizations.csv`` the ``<characteristic>_pct_parcial``
columns (share of the applicable datasets that pass partially; ``<characteristic>_pct`` counts only passes). The
partial columns do not end in ``_pct`` on purpose: readers that take every ``*_pct`` column but ``progress_pct``
and ``quality_progress_pct`` as a characteristic's compliance keep working.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from audit.clock import local_day, utcnow
from audit.csvfiles import safe_cell
from audit.dqv import write_dqv
from audit.indicator import cutoff_date, evaluation_period
from audit.legal import LegalBasis
from audit.manifest import evaluation_folio, rules_version, software_version
from audit.results import characteristic_pct, dataset_score, is_conforme
from audit.results.table import organization_result_rows
from audit.store import (
    AuditRun,
    CommitmentRecord,
    DatasetSnapshot,
    RuleResultRecord,
    Store,
)
from rules import CHARACTERISTICS

#: longest ``evidencia`` cell, and longest value inside it (the full evidence is in scores.json)
EVIDENCE_MAX_CHARS = 400
EVIDENCE_VALUE_MAX_CHARS = 80


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{round(value, digits):g}" if digits > 1 else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())  # no newlines, tabs or carriage returns inside a cell
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence_value(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{round(value, 4):g}"
    if isinstance(value, str):
        return _short(value, EVIDENCE_VALUE_MAX_CHARS)
    if isinstance(value, dict):  # e.g. integrales items: k:v,k:v (scalars only)
        parts = [f"{k}:{t}" for k, v in value.items()
                 if isinstance(v, str | int | float | bool) and (t := _evidence_value(v)) is not None]
        return _short(",".join(parts), 3 * EVIDENCE_VALUE_MAX_CHARS) if parts else None
    if isinstance(value, list | tuple):  # lists of scalars; per-resource detail objects stay in scores.json
        items = [t for v in value if isinstance(v, str | int | float | bool) and (t := _evidence_value(v)) is not None]
        return _short(",".join(items), EVIDENCE_VALUE_MAX_CHARS) if items else None
    return None


def evidence_text(evidence: Any) -> str:
    """The ``evidencia`` cell of scores.csv: ``last_update=2018-02-08T10:37:01+00:00; last_update_source=…``.

    Scalar facts as ``key=value`` in the rule's order, joined with "; "; objects of scalars as ``k:v,k:v``; lists
    of objects (per-resource detail) are left out; values and the cell are shortened. The cell goes through
    :func:`safe_cell` like every other."""
    if not isinstance(evidence, dict):
        return ""
    parts = []
    for key, value in evidence.items():
        text = _evidence_value(value)
        if text is not None:
            parts.append(f"{_short(str(key), 40)}={text}")
    return _short("; ".join(parts), EVIDENCE_MAX_CHARS)


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        _csv_rows(fh, header, rows)
    tmp.replace(path)  # readers never see a half-written file


def _csv_rows(fh: Any, header: list[str], rows: Any) -> None:
    w = csv.writer(fh)
    w.writerow(header)
    for row in rows:
        w.writerow([safe_cell(c) for c in row])


SCORES_HEADER = ["organization", "dataset", "characteristic", "status", "score", "findings", "evidencia"]


def _score_row(organization: str, dataset: str, characteristic: str, status: str, score: float | None,
               findings: Any, evidence: Any) -> list[Any]:
    """One row of scores.csv (the organization PDFs attach their own rows, written by this same function)."""
    codes = ";".join(str(f.get("code", "")) for f in findings or [] if isinstance(f, dict))
    return [organization, dataset, characteristic, status, _num(score), codes, evidence_text(evidence)]


def organization_scores_csv(store: Store, run_id: int, organization: str) -> str:
    """The rows of scores.csv for one organization, as CSV text with the header (attached to its PDF)."""
    order = {c: i for i, c in enumerate(CHARACTERISTICS)}
    with store.session() as s:
        rows = s.execute(
            select(DatasetSnapshot.name, RuleResultRecord.characteristic, RuleResultRecord.status,
                   RuleResultRecord.score, RuleResultRecord.findings, RuleResultRecord.evidence)
            .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
            .where(RuleResultRecord.run_id == run_id, DatasetSnapshot.organization_name == organization)
        ).all()
    rows = sorted(rows, key=lambda r: (r[0], order.get(r[1], 99)))
    buf = io.StringIO(newline="")
    _csv_rows(buf, SCORES_HEADER, (_score_row(organization, *r) for r in rows))
    return buf.getvalue()


def _year_score_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [_score_row(d["organization"], d["dataset"], r["characteristic"], r["status"], r["score"], r["findings"],
                       r["evidence"]) for d in data["datasets"] for r in d["results"]]


def year_scores_csv(store: Store, run_id: int, weights: dict[str, float]) -> str:
    """The whole scores.csv as text (when the portal PDF is rendered without the export stage's file)."""
    buf = io.StringIO(newline="")
    _csv_rows(buf, SCORES_HEADER, _year_score_rows(collect(store, run_id, weights)))
    return buf.getvalue()


def _run_as_finished(run: AuditRun) -> tuple[str, str | None]:
    """The run's status and end as the outputs must describe them.

    The exports are written by a stage of the run itself, before the run is marked finished: a run still
    ``running`` whose scoring is done is described as it will finish (complete, ending now), not as running."""
    if run.status != "running":
        return run.status, run.finished_at.isoformat() if run.finished_at else None
    done = set(run.stages_done or [])
    status = "complete" if {"crawl", "probe", "score"} <= done else "partial"
    return status, utcnow().isoformat()


def collect(store: Store, run_id: int, weights: dict[str, float], *, timezone: str = "America/Mexico_City",
            cutoff_month_day: str = "12-31") -> dict[str, Any]:
    """Everything the exports (and the JSON API) need, in contract field names."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        snaps = s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id)
                          .order_by(DatasetSnapshot.organization_name, DatasetSnapshot.name)).all()
        results: dict[int, list[RuleResultRecord]] = defaultdict(list)
        for r in s.scalars(select(RuleResultRecord).where(RuleResultRecord.run_id == run_id)):
            results[r.dataset_snapshot_id].append(r)
        orgs = organization_result_rows(s, run_id, by_name=True)
        commitments = s.scalars(select(CommitmentRecord).where(CommitmentRecord.run_id == run_id)
                                .order_by(CommitmentRecord.id)).all()
        portal = run.portal
        datasets: list[dict[str, Any]] = []
        order = {c: i for i, c in enumerate(CHARACTERISTICS)}
        cells: dict[int, dict[str, tuple[str, float]]] = {}
        by_org: dict[str, list[int]] = defaultdict(list)
        for snap in snaps:
            recs = sorted(results.get(snap.id, []), key=lambda r: order.get(r.characteristic, 99))
            statuses = cells[snap.id] = {r.characteristic: (r.status, r.score) for r in recs}
            by_org[snap.organization_name or ""].append(snap.id)
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
                        "evidence": r.evidence if isinstance(r.evidence, dict) else {},
                    }
                    for r in recs
                ],
            })
        status, finished_at = _run_as_finished(run)
        year = int(run.year or (run.started_at.year if run.started_at else 0))
        review_day = local_day(run.started_at, timezone) if run.started_at else None
        period = evaluation_period(year, cutoff_month_day, review_day)
        return {
            "portal": {"url": portal.url, "title": portal.title, "ckan_version": portal.ckan_version},
            "run": {"id": run.id, "year": run.year, "kind": run.kind, "status": status,
                    "started_at": run.started_at.isoformat() if run.started_at else None,
                    "finished_at": finished_at,
                    "counts": run.counts or {}},
            "evaluation": {"folio": evaluation_folio(portal.url, year, run.id),
                           "software_version": software_version(), "rules_version": rules_version(),
                           "config_digest": run.config_digest, "score_scale": "0-1",
                           # the same dates as the reports' cover (days in the configured time zone)
                           "period_start": period[0].isoformat(), "period_end": period[1].isoformat(),
                           "review_date": review_day.isoformat() if review_day else None,
                           "commitments_cutoff": cutoff_date(year, cutoff_month_day).isoformat()},
            "generated_at": utcnow().isoformat(),
            "organizations": [
                {**o, "title": o["title"] or "",
                 **{f"{c}_pct_parcial": _round1(v) for c, v in
                    characteristic_pct(by_org.get(o["organization"], []), cells, "partial").items()}}  # type: ignore[arg-type]
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


def write_exports(store: Store, run_id: int, out_year_dir: Path, weights: dict[str, float],
                  legal_basis: LegalBasis | None = None, *, timezone: str = "America/Mexico_City",
                  cutoff_month_day: str = "12-31") -> dict[str, Path]:
    """Write the four contract files into ``out_year_dir`` (= OUT/Y), and the DQV graph (``audit.dqv``)."""
    out_year_dir.mkdir(parents=True, exist_ok=True)
    data = collect(store, run_id, weights, timezone=timezone, cutoff_month_day=cutoff_month_day)
    paths = {name: out_year_dir / name for name in ("scores.csv", "datasets.csv", "organizations.csv", "scores.json")}

    _write_csv(paths["scores.csv"], SCORES_HEADER, _year_score_rows(data))
    _write_csv(paths["datasets.csv"],
               ["organization", "dataset", "title", "score", "conforme", *CHARACTERISTICS], [
                   [d["organization"], d["dataset"], d["title"], _num(d["score"]), "sí" if d["conforme"] else "no",
                    *[next((r["status"] for r in d["results"] if r["characteristic"] == c), "") for c in CHARACTERISTICS]]
                   for d in data["datasets"]
               ])
    _write_csv(paths["organizations.csv"],
               ["organization", "title", "datasets", "score", "conformes", *[f"{c}_pct" for c in CHARACTERISTICS],
                "committed", "published", "progress_pct", "quality_progress_pct",
                *[f"{c}_pct_parcial" for c in CHARACTERISTICS]], [
                   [o["organization"], o["title"], o["datasets"], _num(o["score"]), o["conformes"],
                    *[_pct(o[f"{c}_pct"]) for c in CHARACTERISTICS], o["committed"], o["published"],
                    _pct(o["progress_pct"]), _pct(o["quality_progress_pct"]),
                    *[_pct(o[f"{c}_pct_parcial"]) for c in CHARACTERISTICS]]
                   for o in data["organizations"]
               ])
    tmp = paths["scores.json"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(paths["scores.json"])
    paths.update(write_dqv(store, run_id, out_year_dir, legal_basis))
    return paths
