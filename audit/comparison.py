"""Comparison of the portals in one store (``audit --all``): one row per portal for an evaluated year.

For each portal, the year's snapshot run (its last complete run of the year) gives: datasets, mean score,
*conformes* (count and share), the share of applicable datasets passing each characteristic, the commitments
progress, the rank by score (ties share a rank: 1, 1, 3) and the trend against the portal's previous evaluated
year. Written as ``OUT/comparacion/<year>/comparacion.csv``, ``.json`` and ``.html`` (Spanish, escaped).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import select

from audit.availability import annual_snapshot_run
from audit.csvfiles import safe_cell
from audit.indicator import portal_commitment_totals
from audit.scoring import dataset_score, is_conforme
from audit.store import AuditRun, DatasetSnapshot, Portal, RuleResultRecord, Store
from rules import CHARACTERISTICS, RULES_BY_ID


def portal_summary(store: Store, run_id: int, weights: dict[str, float]) -> dict[str, Any]:
    """Datasets, mean score, conformes and per-characteristic pass shares of one run (all of its datasets)."""
    with store.session() as s:
        rows = s.execute(select(RuleResultRecord.dataset_snapshot_id, RuleResultRecord.characteristic,
                                RuleResultRecord.status, RuleResultRecord.score)
                         .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
                         .where(RuleResultRecord.run_id == run_id, DatasetSnapshot.presence == "listed")).all()
        committed, published, _ = portal_commitment_totals(s, run_id)
    by_ds: dict[int, dict[str, tuple[str, float]]] = defaultdict(dict)
    for ds, char, status, score in rows:
        by_ds[ds][char] = (status, score)
    scores = [sc for r in by_ds.values() if (sc := dataset_score(r, weights)) is not None]
    conformes = sum(1 for r in by_ds.values() if is_conforme(r))
    pct: dict[str, float | None] = {}
    for c in CHARACTERISTICS:
        applicable = [r[c][0] for r in by_ds.values() if c in r and r[c][0] != "not_applicable"]
        pct[c] = round(100.0 * applicable.count("pass") / len(applicable), 1) if applicable else None
    n = len(by_ds)
    return {
        "datasets": n,
        "score": round(sum(scores) / len(scores), 4) if scores else None,
        "conformes": conformes,
        "conformes_pct": round(100.0 * conformes / n, 1) if n else None,
        "characteristic_pct": pct,
        "committed": committed,
        "published": published,
        "progress_pct": round(100.0 * published / committed, 1) if committed else None,
    }


def competition_ranks(values: list[float | None]) -> list[int | None]:
    """Rank by value, highest first; equal values share the rank and the next rank skips (1, 1, 3)."""
    ordered = sorted((v for v in values if v is not None), reverse=True)
    return [None if v is None else 1 + sum(1 for o in ordered if o > v) for v in values]


def compare(store: Store, year: int, weights: dict[str, float],
            names: dict[str, str] | None = None) -> dict[str, Any]:
    """Every portal of the store with a complete run in ``year`` (``names``: portal URL → configured key)."""
    names = names or {}
    with store.session() as s:
        portals = s.execute(select(Portal.id, Portal.url, Portal.title, Portal.ckan_version)
                            .order_by(Portal.url)).all()
        years = {pid: sorted({y for (y,) in s.execute(select(AuditRun.year).distinct().where(
            AuditRun.portal_id == pid, AuditRun.status == "complete", AuditRun.year <= year)) if y})
            for pid, *_ in portals}
    rows = []
    for pid, url, title, version in portals:
        run_id = annual_snapshot_run(store, pid, year)
        if run_id is None:
            continue
        summary = portal_summary(store, run_id, weights)
        trend = []
        for y in years[pid]:
            rid = run_id if y == year else annual_snapshot_run(store, pid, y)
            if rid is not None:
                trend.append({"year": y, "score": summary["score"] if rid == run_id else
                              portal_summary(store, rid, weights)["score"]})
        previous = next((t["score"] for t in reversed(trend) if t["year"] < year), None)
        rows.append({
            "portal": names.get(url) or url, "title": title or url, "url": url, "platform": version or "",
            "run_id": run_id, **summary,
            "score_change": (round(summary["score"] - previous, 4)
                             if summary["score"] is not None and previous is not None else None),
            "trend": trend,
        })
    for row, rank in zip(rows, competition_ranks([r["score"] for r in rows]), strict=True):
        row["rank"] = rank
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["portal"]))
    return {"year": year, "characteristics": list(CHARACTERISTICS), "portals": rows}


CSV_HEADER = ["rank", "portal", "title", "url", "platform", "datasets", "score", "conformes", "conformes_pct",
              *[f"{c}_pct" for c in CHARACTERISTICS], "committed", "published", "progress_pct", "score_change"]

_HTML = """<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>Comparación de portales {{ year }}</title>
<style>body{font-family:DejaVu Sans,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:.3em .5em;text-align:right}td.n,th.n{text-align:left}</style></head><body>
<h1>Comparación de portales: evaluación {{ year }}</h1>
<p>Un renglón por portal (la última corrida completa del año). Lugar: por calificación promedio; los empates
comparten lugar. % por característica: conjuntos que cumplen entre aquellos a los que aplica.</p>
<table><thead><tr><th>Lugar</th><th class="n">Portal</th><th>Conjuntos</th><th>Calificación</th><th>Conformes</th>
{% for c in characteristics %}<th>{{ titles[c] }} (%)</th>{% endfor %}<th>Avance (%)</th><th>Cambio</th>
<th class="n">Tendencia</th></tr></thead><tbody>
{% for p in portals %}<tr><td>{{ p.rank or "—" }}</td><td class="n"><a href="{{ p.url }}">{{ p.title }}</a>
<br><small>{{ p.portal }} · {{ p.platform }}</small></td><td>{{ p.datasets }}</td><td>{{ fmt(p.score) }}</td>
<td>{{ p.conformes }} ({{ pct(p.conformes_pct) }})</td>
{% for c in characteristics %}<td>{{ pct(p.characteristic_pct[c]) }}</td>{% endfor %}
<td>{{ pct(p.progress_pct) }}</td><td>{{ signed(p.score_change) }}</td>
<td class="n">{% for t in p.trend %}{{ t.year }}: {{ fmt(t.score) }}{% if not loop.last %} · {% endif %}{% endfor %}</td>
</tr>{% endfor %}</tbody></table></body></html>
"""


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def _signed(v: float | None) -> str:
    return "—" if v is None else f"{v:+.2f}"


def write_comparison(data: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """``comparacion.csv``, ``.json`` and ``.html`` in ``out_dir`` (= OUT/comparacion/<year>)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"comparacion.{ext}" for ext in ("csv", "json", "html")}
    with paths["csv"].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        for p in data["portals"]:
            flat = {**p, **{f"{c}_pct": p["characteristic_pct"][c] for c in CHARACTERISTICS}}
            w.writerow([safe_cell("" if flat.get(k) is None else flat[k]) for k in CSV_HEADER])
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    titles = {c: RULES_BY_ID[c].title_es for c in CHARACTERISTICS}
    html = env.from_string(_HTML).render(**data, titles=titles, fmt=_fmt, pct=_pct, signed=_signed)
    paths["html"].write_text(html, encoding="utf-8")
    return paths
