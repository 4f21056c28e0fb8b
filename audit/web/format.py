"""es-MX formatting for the dashboard: the reports' filters (one formatting for reports and dashboard), some of
them memoised, plus the dashboard's own."""

from __future__ import annotations

import functools
from typing import Any

from audit.outcomes import outcome_es
from reports.format import STATUS_LABEL, STATUS_SYMBOL
from reports.wording import install_filters

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
