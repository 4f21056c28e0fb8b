"""The indicator *Avance en la implementación de datos abiertos* and per-organization aggregates.

progress_pct = 100 × published / committed, where *committed* are inventory rows due on or before the cut-off of
the audit year and *published* are committed rows matched (ignoring case, accents and spacing, by CKAN name or
title) to a public dataset of that organization that was on the portal by the cut-off and, by default, with at
least one downloadable data resource (not only its documentation); ``indicator.published_requires`` sets that
last test (:data:`PUBLISHED_REQUIRES_ES`). Organizations are matched by their exact spelling first,
then ignoring accents; a commitment that fits two organizations, repeats an earlier row or names an organization
the portal does not have is reported (``CommitmentOutcome.issue``); the last still counts as committed and not
published in the portal-wide figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.csvfiles import parse_day, read_csv_rows
from audit.errors import InputFileError
from audit.outcomes import REACHABLE_OUTCOMES, Outcome
from audit.textnorm import match_key

#: what makes a committed dataset «publicado» (``indicator.published_requires``), and how the reports say it
PUBLISHED_REQUIRES_ES: dict[str, str] = {
    "data_file": "un conjunto público en el portal a la fecha de corte con al menos un archivo de datos descargable "
                 "(no cuentan la documentación sola ni una página web o de consulta)",
    "reachable_resource": "un conjunto público en el portal a la fecha de corte con al menos un recurso que responda "
                          "(incluidas páginas web y documentación)",
    "listed": "un conjunto público listado en el portal a la fecha de corte, sin revisar sus recursos",
}


def resource_publishes(requires: str, *, outcome: str | None, documentation: bool, probed: bool) -> bool:
    """Whether one resource makes its dataset «publicado» under ``indicator.published_requires``. Without any
    probe evidence in the run (a metadata-only audit) a listed resource is taken at its word."""
    if requires == "listed" or not probed:
        return True
    if requires == "reachable_resource":
        return outcome in REACHABLE_OUTCOMES
    return outcome == Outcome.OK and not documentation


@dataclass(frozen=True, slots=True)
class Commitment:
    organization: str
    dataset: str
    due_date: date
    line: int = 0


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
            due = parse_day(row.get("due_date", ""))
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


def evaluation_period(year: int, month_day: str, review_day: date | None) -> tuple[date, date]:
    """(first, last) day evaluated: 1 January to the cut-off, or to the day the portal was read when that came
    first (an evaluation during the year does not judge days to come)."""
    start, cutoff = date(year, 1, 1), cutoff_date(year, month_day)
    return start, (min(cutoff, review_day) if review_day and review_day >= start else cutoff)


@dataclass(frozen=True, slots=True)
class OrgRef:
    name: str
    title: str | None


@dataclass(frozen=True, slots=True)
class DatasetRef:
    organization: str
    name: str
    title: str | None
    published: bool  # public, active and at least one downloadable data resource
    conforme: bool
    created: date | None = None  # when it appeared on the portal (CKAN metadata_created)


@dataclass(frozen=True, slots=True)
class CommitmentOutcome:
    commitment: Commitment
    organization_name: str | None  # resolved CKAN name (None: no such organization on the portal)
    committed: bool
    matched_dataset: str | None
    published: bool
    conforme: bool
    issue: str | None = None  # Spanish note for the evaluators (ambiguous, duplicate, late, not on the portal)


def _exact(text: str | None) -> str:
    """Case- and spacing-insensitive but accent-sensitive: tells «PROMÉXICO» from «PROMEXICO»."""
    return " ".join(str(text or "").casefold().split())


def in_term(due: date, cutoff: date, as_of: date | None) -> bool:
    """A commitment due by the cut-off whose day had not passed when the portal was read (an evaluation made before
    the cut-off): the agency still has time, so it does not count yet — neither as published nor as missing.
    Auditor's criterion (docs/reglas.md «Comprometido»): an obligation is not due before its date."""
    return as_of is not None and due <= cutoff and due >= as_of


def evaluate_commitments(commitments: list[Commitment], orgs: list[OrgRef], datasets: list[DatasetRef], *,
                         year: int, cutoff_month_day: str = "12-31",
                         as_of: date | None = None) -> list[CommitmentOutcome]:
    """``as_of``: the day the portal was read; commitments due on or after it are :func:`in_term`."""
    cutoff = cutoff_date(year, cutoff_month_day)
    # organizations by exact spelling first, then loosely; a loose key shared by two organizations is ambiguous
    org_exact: dict[str, str] = {}
    org_loose: dict[str, set[str]] = {}
    for o in orgs:
        for text in (o.name, o.title):
            if text:
                org_exact.setdefault(_exact(text), o.name)
                org_loose.setdefault(match_key(text), set()).add(o.name)
    ds_by_org: dict[str, dict[str, DatasetRef]] = {}
    for d in datasets:
        keys = ds_by_org.setdefault(d.organization, {})
        for k in (match_key(d.name), match_key(d.title)):
            if k and (k not in keys or (d.published and not keys[k].published)):
                keys[k] = d
    out = []
    seen: dict[tuple[str, str], int] = {}
    for c in commitments:
        issue = None
        org = org_exact.get(_exact(c.organization))
        if org is None:
            candidates = sorted(org_loose.get(match_key(c.organization), set()))
            if len(candidates) == 1:
                org = candidates[0]
            elif candidates:
                issue = (f"la organización «{c.organization}» puede ser {' o '.join(candidates)}: escríbala como "
                         "aparece en el portal")
            else:
                issue = f"no hay en el portal una organización «{c.organization}» (cuenta como no publicado)"
        ds = ds_by_org.get(org or "", {}).get(match_key(c.dataset))
        this_year = c.due_date <= cutoff
        key = (org or match_key(c.organization), ds.name if ds else match_key(c.dataset))
        if key in seen:
            this_year = False  # the same commitment twice counts once
            issue = "compromiso repetido" + (f" (ya registrado en la línea {seen[key]})" if seen[key] else "")
        else:
            seen[key] = c.line
        # published is judged for every row of the year, in term or not (the alerts warn about those in term);
        # only the rows already due count in the indicator
        committed = this_year and not in_term(c.due_date, cutoff, as_of)
        published = bool(this_year and ds and ds.published)
        if published and ds is not None and ds.created is not None and ds.created > cutoff:
            published = False
            issue = f"«{ds.name}» se publicó el {ds.created.isoformat()}, después del corte ({cutoff.isoformat()})"
        out.append(CommitmentOutcome(
            commitment=c, organization_name=org, committed=committed,
            matched_dataset=ds.name if ds else None,
            published=published,
            conforme=bool(published and ds and ds.conforme),
            issue=issue,
        ))
    return out


def progress_pct(published: int, committed: int) -> float | None:
    """None means 'sin compromisos registrados' (not 0, not 100)."""
    if committed <= 0:
        return None
    return round(100.0 * published / committed, 1)


def portal_commitment_totals(session: Session, run_id: int) -> tuple[int, int, int]:
    """(committed, published, conforme) for the whole portal, from the stored commitments: unlike a sum over the
    organizations, it keeps commitments of organizations the portal does not have (committed, not published)."""
    from audit.store import CommitmentRecord

    rows = session.execute(select(CommitmentRecord.published, CommitmentRecord.conforme)
                           .where(CommitmentRecord.run_id == run_id, CommitmentRecord.committed.is_(True))).all()
    return len(rows), sum(1 for p, _ in rows if p), sum(1 for p, c in rows if p and c)
