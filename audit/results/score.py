"""A dataset's score and *conforme* flag as every output reads them: the scoring stage's one definition
(:func:`audit.scoring.dataset_score`, :func:`audit.scoring.is_conforme`) over the stored results.

Dataset score = weighted mean of the scores of its applicable characteristics (``scoring.weights``, default 1),
rounded to 4 decimals; *conforme* = every applicable characteristic passes and at least one applies.
"""

from __future__ import annotations

from audit.scoring import dataset_score, is_conforme

__all__ = ["Cells", "dataset_score", "is_conforme", "score_cells"]

Cells = dict[str, tuple[str, float | None]]  # characteristic → (status, score) as stored


def score_cells(cells: Cells, weights: dict[str, float] | None) -> tuple[float | None, bool]:
    """Score and *conforme* of stored cells; a result stored without a score counts 1 if it passes, else 0."""
    statuses = {cid: (status, score if score is not None else (1.0 if status == "pass" else 0.0))
                for cid, (status, score) in cells.items()}
    return dataset_score(statuses, weights or {}), is_conforme(statuses)
