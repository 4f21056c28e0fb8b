"""Competition ranking with ties (1, 1, 3): the one ranking of organizations in reports, dashboard and API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
#: scores closer than this share a position
TIE = 1e-9


def rank(items: Iterable[T], score: Callable[[T], float]) -> list[tuple[T, int, bool]]:
    """``(item, position, tied)`` highest score first; equal scores (within ``TIE``) share the position of the first
    of them, and ``tied`` says another item shares it. Items keep their order among equal scores (stable sort)."""
    ordered = sorted(items, key=lambda it: -score(it))
    positions: list[int] = []
    position, last = 0, None
    for i, it in enumerate(ordered, start=1):
        value = score(it)
        if last is None or abs(value - last) > TIE:
            position, last = i, value
        positions.append(position)
    shared = Counter(positions)
    return [(it, pos, shared[pos] > 1) for it, pos in zip(ordered, positions, strict=True)]
