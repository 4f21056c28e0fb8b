"""The organization ranking as the reports rank it (``audit.results.rank``, through ``org_rows``): organizations with datasets and a
score, highest score first; equal scores (within 1e-9) share the position of the first of them («2.º (empate)»);
the rest are unranked. A test checks the positions against the portal report of the same run.

Each organization also gets a state at a glance — colour, symbol and word — from its score, with the thresholds
of the report charts' colours: «cumple» ≥ 80, «parcial» ≥ 50, «no cumple» below."""

from __future__ import annotations

from typing import Any

from audit.results import rank

STATES = {  # key: (symbol, word)
    "pass": ("✔", "cumple"),
    "partial": ("◐", "parcial"),
    "fail": ("✘", "no cumple"),
    "none": ("–", "sin conjuntos"),
}


def org_state(row: dict[str, Any]) -> str:
    score = row.get("score")
    if not row.get("datasets") or score is None:
        return "none"
    pct = score * 100.0
    return "pass" if pct >= 80 else "partial" if pct >= 50 else "fail"


def assign_positions(rows: list[dict[str, Any]]) -> dict[str, tuple[int, bool]]:
    """organization name → (position, tied) for every ranked organization."""
    ranked = rank((r for r in rows if r.get("datasets") and r.get("score") is not None), lambda r: r["score"])
    return {r["organization"]: (pos, tied) for r, pos, tied in ranked}


def position_label(position: int | None, tied: bool = False) -> str:
    if position is None:
        return "—"
    return f"{position}.º (empate)" if tied else f"{position}.º"


def with_ranking(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with ``position``, ``tied``, ``position_label`` and ``state`` added (copies; the cached rows stay)."""
    positions = assign_positions(rows)
    out = []
    for r in rows:
        pos, tied = positions.get(r["organization"], (None, False))
        out.append({**r, "position": pos, "tied": tied, "position_label": position_label(pos, tied),
                    "state": org_state(r)})
    return out
