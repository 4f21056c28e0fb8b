"""The indicator *Avance en la implementación de datos abiertos* and per-organization aggregates.

progress_pct = 100 × published / committed, where *committed* are inventory rows due on or before the cut-off of
the audit year and *published* are committed rows matched (ignoring case, accents and spacing, by CKAN name or
title) to a public dataset of that organization with at least one reachable resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from audit.csvfiles import parse_day, read_csv_rows
from audit.errors import InputFileError
from audit.textnorm import match_key


@dataclass(frozen=True, slots=True)
class Commitment:
    organization: str
    dataset: str
    due_date: date
    line: int = 0


def _parse_date(value: str) -> date:
    return parse_day(value)


def load_commitments(path: str | Path) -> list[Commitment]:
    """Read the commitments inventory CSV (organization,dataset,due_date). All errors are reported at once."""
    rows = read_csv_rows(path, ("organization", "dataset", "due_date"), what="compromisos")
    out: list[Commitment] = []
    problems: list[str] = []
    for line, row in rows:
        if not row.get("organization") or not row.get("dataset"):
            problems.append(f"línea {line}: faltan 'organization' o 'dataset'")
            continue
        try:
            due = _parse_date(row.get("due_date", ""))
        except (ValueError, OverflowError):
            problems.append(f"línea {line}: fecha inválida en due_date: {row.get('due_date')!r} "
                            "(use una fecha completa: AAAA-MM-DD o DD/MM/AAAA)")
            continue
        out.append(Commitment(row["organization"], row["dataset"], due, line))
    if problems:
        shown = "\n  ".join(problems[:20]) + ("\n  …" if len(problems) > 20 else "")
        raise InputFileError(f"El inventario de compromisos {path} tiene {len(problems)} error(es):\n  {shown}",
                             hint="Corrija las filas indicadas; no se aplicó ningún cambio.")
    return out


def cutoff_date(year: int, month_day: str = "12-31") -> date:
    month, day = (int(x) for x in month_day.split("-"))
    return date(year, month, day)


@dataclass(frozen=True, slots=True)
class OrgRef:
    name: str
    title: str | None


@dataclass(frozen=True, slots=True)
class DatasetRef:
    organization: str
    name: str
    title: str | None
    published: bool  # public, active and at least one reachable resource
    conforme: bool


@dataclass(frozen=True, slots=True)
class CommitmentOutcome:
    commitment: Commitment
    organization_name: str | None  # resolved CKAN name (None: no such organization on the portal)
    committed: bool
    matched_dataset: str | None
    published: bool
    conforme: bool


def evaluate_commitments(commitments: list[Commitment], orgs: list[OrgRef], datasets: list[DatasetRef], *,
                         year: int, cutoff_month_day: str = "12-31") -> list[CommitmentOutcome]:
    cutoff = cutoff_date(year, cutoff_month_day)
    org_by_key: dict[str, str] = {}
    for o in orgs:
        org_by_key.setdefault(match_key(o.name), o.name)
        if o.title:
            org_by_key.setdefault(match_key(o.title), o.name)
    ds_by_org: dict[str, dict[str, DatasetRef]] = {}
    for d in datasets:
        keys = ds_by_org.setdefault(d.organization, {})
        for k in (match_key(d.name), match_key(d.title)):
            if k and (k not in keys or (d.published and not keys[k].published)):
                keys[k] = d
    out = []
    for c in commitments:
        org = org_by_key.get(match_key(c.organization))
        ds = ds_by_org.get(org or "", {}).get(match_key(c.dataset))
        committed = c.due_date <= cutoff
        out.append(CommitmentOutcome(
            commitment=c, organization_name=org, committed=committed,
            matched_dataset=ds.name if ds else None,
            published=bool(committed and ds and ds.published),
            conforme=bool(committed and ds and ds.published and ds.conforme),
        ))
    return out


def progress_pct(published: int, committed: int) -> float | None:
    """None means 'sin compromisos registrados' (not 0, not 100)."""
    if committed <= 0:
        return None
    return round(100.0 * published / committed, 1)
