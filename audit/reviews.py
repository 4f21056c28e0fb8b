"""Manual reviews: an evaluator overrides an automatic result with a justification (kept across runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from audit.clock import utcnow
from audit.csvfiles import parse_day, read_csv_rows
from audit.errors import InputFileError
from audit.store import ManualReview, Store
from audit.textnorm import match_key

REVIEW_STATUSES = ("pass", "partial", "fail", "not_applicable")
STATUS_ALIASES = {"cumple": "pass", "parcial": "partial", "cumple parcialmente": "partial", "no cumple": "fail",
                  "no aplica": "not_applicable"}


@dataclass(frozen=True, slots=True)
class Review:
    dataset: str
    characteristic: str
    status: str
    justification: str
    reviewer: str
    review_date: date


def _characteristic(text: str) -> str:
    """The rule id from what an evaluator writes: "libre_uso", «De libre uso», «Legibles por máquinas»."""
    from rules import CHARACTERISTICS, RULES_BY_ID

    key = match_key(text)
    for rule_id in CHARACTERISTICS:
        title = match_key(RULES_BY_ID[rule_id].title_es)
        if key in (match_key(rule_id), title) or (key and title.endswith(key) and len(key) >= 5):
            return rule_id
    return text.strip().lower()


def load_reviews(path: str | Path) -> list[Review]:
    from rules import CHARACTERISTICS

    rows = read_csv_rows(path, ("dataset", "characteristic", "status", "justification", "reviewer", "date"),
                         what="revisiones manuales")
    out: list[Review] = []
    problems: list[str] = []
    for line, row in rows:
        status = STATUS_ALIASES.get(row["status"].lower(), row["status"].lower())
        char = _characteristic(row["characteristic"])
        if char not in CHARACTERISTICS:
            problems.append(f"línea {line}: característica desconocida {row['characteristic']!r} "
                            f"(válidas: {', '.join(CHARACTERISTICS)})")
            continue
        if status not in REVIEW_STATUSES:
            problems.append(f"línea {line}: estado inválido {row['status']!r} (use pass, partial, fail o not_applicable)")
            continue
        if not row["justification"] or not row["reviewer"] or not row["dataset"]:
            problems.append(f"línea {line}: dataset, justification y reviewer son obligatorios")
            continue
        try:
            when = parse_day(row["date"])
        except (ValueError, OverflowError):
            problems.append(f"línea {line}: fecha inválida {row['date']!r} (use AAAA-MM-DD o DD/MM/AAAA)")
            continue
        out.append(Review(row["dataset"], char, status, row["justification"], row["reviewer"], when))
    if problems:
        raise InputFileError(f"El archivo de revisiones {path} tiene {len(problems)} error(es):\n  " +
                             "\n  ".join(problems[:20]), hint="Corrija las filas indicadas; no se aplicó ningún cambio.")
    return out


def store_reviews(store: Store, portal_id: int, reviews: list[Review]) -> int:
    """Upsert reviews (all or nothing). Returns how many were new."""
    new = 0
    with store.session() as s:
        for r in reviews:
            existing = s.scalar(select(ManualReview).where(
                ManualReview.portal_id == portal_id, ManualReview.dataset_name == r.dataset,
                ManualReview.characteristic == r.characteristic, ManualReview.review_date == r.review_date))
            if existing is None:
                s.add(ManualReview(portal_id=portal_id, dataset_name=r.dataset, characteristic=r.characteristic,
                                   status=r.status, justification=r.justification, reviewer=r.reviewer,
                                   review_date=r.review_date, loaded_at=utcnow()))
                new += 1
            else:
                existing.status, existing.justification, existing.reviewer = r.status, r.justification, r.reviewer
    return new


def latest_reviews(store: Store, portal_id: int) -> dict[tuple[str, str], ManualReview]:
    """(dataset key, characteristic) → the most recent review. The key is ``match_key`` of what the evaluator
    wrote (the CKAN name or the title, ignoring case, accents and spacing): look it up with the dataset's name and
    with its title."""
    with store.session() as s:
        rows = s.scalars(select(ManualReview).where(ManualReview.portal_id == portal_id)
                         .order_by(ManualReview.review_date, ManualReview.id)).all()
    return {(match_key(r.dataset_name), r.characteristic): r for r in rows}


__all__ = ["Review", "load_reviews", "store_reviews", "latest_reviews"]
