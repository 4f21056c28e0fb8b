"""The one definition of a dataset's score and *conforme* flag (the scoring stage stores it, every output reads it).

Dataset score = weighted mean of the scores of its applicable characteristics (``scoring.weights``, default 1),
rounded to 4 decimals; *conforme* = every applicable characteristic passes and at least one applies.
"""

from __future__ import annotations

Cells = dict[str, tuple[str, float | None]]  # characteristic → (status, score) as stored


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


def score_cells(cells: Cells, weights: dict[str, float] | None) -> tuple[float | None, bool]:
    """Score and *conforme* of stored cells; a result stored without a score counts 1 if it passes, else 0."""
    statuses = {cid: (status, score if score is not None else (1.0 if status == "pass" else 0.0))
                for cid, (status, score) in cells.items()}
    return dataset_score(statuses, weights or {}), is_conforme(statuses)
