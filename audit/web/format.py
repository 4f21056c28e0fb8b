"""es-MX formatting for the dashboard: reuse ``reports.format`` (the reports' filters) when it is installed,
else a minimal equivalent with the same filter names so the templates work either way."""

from __future__ import annotations

import functools
from typing import Any

from audit.outcomes import outcome_es

try:  # the reports helper's module: one formatting for reports and dashboard
    from reports.format import STATUS_LABEL, STATUS_SYMBOL, install_filters
except ImportError:  # pragma: no cover - only before reports/format.py exists
    from babel.dates import format_date
    from babel.numbers import format_decimal

    STATUS_LABEL = {"pass": "Cumple", "partial": "Cumple parcialmente", "fail": "No cumple", "not_applicable": "No aplica"}
    STATUS_SYMBOL = {"pass": "✔", "partial": "◐", "fail": "✘", "not_applicable": "–"}

    def _num(v: Any, digits: int = 1) -> str:
        if v is None:
            return "—"
        return format_decimal(v, format="#,##0" + ("." + "0" * digits if digits else ""), locale="es_MX")

    def install_filters(env: Any) -> Any:  # type: ignore[misc]
        env.filters.update(
            {
                "num": lambda v: _num(v, 0),
                "dec": _num,
                "pct": lambda v, d=1: "—" if v is None else f"{_num(v, d)} %",  # type: ignore[misc]
                "score": lambda v: "—" if v is None else _num(v * 100.0, 1),
                "date_es": lambda v, *a: "—" if v is None else format_date(v, format="long", locale="es_MX"),
                "datetime_es": lambda v, *a: "—" if v is None else f"{format_date(v, format='long', locale='es_MX')}, {v:%H:%M} h",
                "status_label": lambda s: STATUS_LABEL.get(s or "", s or "—"),
                "status_symbol": lambda s: STATUS_SYMBOL.get(s or "", "?"),
                "truncate_text": lambda t, n=120: (str(t or "")[: n - 1] + "…") if len(str(t or "")) > n else str(t or ""),  # type: ignore[misc]
            }
        )
        env.globals["plural"] = lambda n, s, p=None: f"{_num(n or 0, 0)} {s if n == 1 else (p or s + 's')}"
        env.globals["plural_word"] = lambda n, s, p=None: s if n == 1 else (p or s + "s")
        return env

#: probe outcomes (audit.outcomes.Outcome) in plain Spanish
OUTCOME_ES = outcome_es("dashboard")


#: pure formatting filters whose results are memoised (Babel formatting costs ~50 µs a call; a page makes hundreds)
MEMO_FILTERS = ("num", "dec", "pct", "ratio_pct", "score", "date_es", "datetime_es", "status_label", "status_symbol")


def _memoised(fn: Any) -> Any:
    cached = functools.lru_cache(maxsize=4096)(fn)

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return cached(*args, **kwargs)
        except TypeError:  # unhashable argument
            return fn(*args, **kwargs)

    return call


def install_web_filters(env: Any) -> Any:
    install_filters(env)
    for name in MEMO_FILTERS:
        if name in env.filters:
            env.filters[name] = _memoised(env.filters[name])
    env.filters["outcome_es"] = lambda o: OUTCOME_ES.get(o or "", o or "—")
    return env


__all__ = ["OUTCOME_ES", "STATUS_LABEL", "STATUS_SYMBOL", "install_filters", "install_web_filters"]
