"""es-MX formatting for reports and the dashboard (Babel): "1,234", "75.0 %", "26 de noviembre de 2026".

Every function accepts ``None`` and returns a dash (or the given placeholder) so templates never print "None".
``FILTERS`` maps them to Jinja2 filter names; ``reports.wording.install_filters(env)`` registers them (with the wording
filters) on any environment that reuses the partials.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "es_MX"
DASH = "—"
DEFAULT_TZ = "America/Mexico_City"

STATUSES: tuple[str, ...] = ("pass", "partial", "fail", "not_applicable")
#: the same, in the order a reader fixes them (what fails first)
STATUS_ORDER: tuple[str, ...] = ("fail", "partial", "pass", "not_applicable")
#: word shown with every status (colour is never the only signal)
STATUS_LABEL = {
    "pass": "Cumple",
    "partial": "Cumple parcialmente",
    "fail": "No cumple",
    "not_applicable": "No aplica",
}
STATUS_SHORT = {"pass": "Cumple", "partial": "Parcial", "fail": "No cumple", "not_applicable": "No aplica"}
#: distinct shapes, present in DejaVu Sans
STATUS_SYMBOL = {"pass": "✔", "partial": "◐", "fail": "✘", "not_applicable": "–"}


def fmt_int(value: int | float | None, placeholder: str = DASH) -> str:
    """1234 → "1,234"."""
    if value is None:
        return placeholder
    return format_decimal(int(round(value)), format="#,##0", locale=LOCALE)


def fmt_num(value: float | None, digits: int = 1, placeholder: str = DASH) -> str:
    """1234.56 → "1,234.6" (fixed decimals)."""
    if value is None:
        return placeholder
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def fmt_pct(value: float | None, digits: int = 1, placeholder: str = DASH) -> str:
    """A percentage already on the 0–100 scale: 75 → "75.0 %"."""
    if value is None:
        return placeholder
    return f"{fmt_num(value, digits)}\u00a0%"  # non-breaking: «46.7 %» never splits across lines


def fmt_ratio_pct(value: float | None, digits: int = 1, placeholder: str = DASH) -> str:
    """A ratio on the 0–1 scale: 0.75 → "75.0 %"."""
    if value is None:
        return placeholder
    return fmt_pct(value * 100.0, digits)


def fmt_score(value: float | None, placeholder: str = DASH) -> str:
    """A score in [0, 1] shown on a 0–100 scale with one decimal: 0.825 → "82.5"."""
    if value is None:
        return placeholder
    return fmt_num(value * 100.0, 1)


def _as_date(value: date | datetime, tz: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(tz))
        return value.date()
    return value


def fmt_date(value: date | datetime | None, tz: str = DEFAULT_TZ, placeholder: str = DASH) -> str:
    """→ "26 de noviembre de 2026" (aware datetimes are converted to the report's time zone first)."""
    if value is None:
        return placeholder
    return format_date(_as_date(value, tz), format="long", locale=LOCALE)


def fmt_period(start: date | None, end: date | None) -> str:
    """→ "1 de enero al 31 de diciembre de 2026" (the year once when both dates share it)."""
    if start is None or end is None:
        return DASH
    if start.year == end.year:
        first = format_date(start, format="d 'de' MMMM", locale=LOCALE)
        return f"{first} al {fmt_date(end)}"
    return f"{fmt_date(start)} al {fmt_date(end)}"


def fmt_datetime(value: datetime | None, tz: str = DEFAULT_TZ, placeholder: str = DASH) -> str:
    """→ "26 de noviembre de 2026, 14:05 h"."""
    if value is None:
        return placeholder
    local = value.astimezone(ZoneInfo(tz)) if value.tzinfo is not None else value
    return f"{fmt_date(local.date())}, {local:%H:%M} h"


def plural_word(count: int | float | None, singular: str, plural_form: str | None = None) -> str:
    """Only the word: plural_word(1, "organización", "organizaciones") → "organización" (0 and 2+ → plural)."""
    return singular if (count or 0) == 1 else (plural_form or singular + "s")


def plural(count: int | float | None, singular: str, plural_form: str | None = None) -> str:
    """plural(69, "conjunto") → "69 conjuntos"; plural(1, "organización", "organizaciones") → "1 organización".

    Also a filter: ``{{ n | plural("conjunto retirado", "conjuntos retirados") }}``."""
    return f"{fmt_int(count or 0)} {plural_word(count, singular, plural_form)}"


def fmt_delta(value: float | None, digits: int = 1, suffix: str = "") -> str:
    """Signed change: +3.5, −2.0 (true minus sign), "sin cambio" for zero."""
    if value is None:
        return DASH
    if abs(value) < 0.5 * 10**-digits:
        return "sin cambio"
    sign = "+" if value > 0 else "−"
    return f"{sign}{fmt_num(abs(value), digits)}{suffix}"


def status_label(status: str | None) -> str:
    return STATUS_LABEL.get(status or "", status or DASH)


def status_symbol(status: str | None) -> str:
    return STATUS_SYMBOL.get(status or "", "?")


def truncate(text: Any, length: int = 120) -> str:
    """Shorten untrusted text for tables and headers (the full text stays in the dataset section)."""
    s = "" if text is None else str(text)
    s = " ".join(s.split())
    return s if len(s) <= length else s[: length - 1].rstrip() + "…"


FILTERS = {
    "num": fmt_int,
    "dec": fmt_num,
    "pct": fmt_pct,
    "ratio_pct": fmt_ratio_pct,
    "score": fmt_score,
    "date_es": fmt_date,
    "datetime_es": fmt_datetime,
    "period_es": fmt_period,
    "delta": fmt_delta,
    "status_label": status_label,
    "status_symbol": status_symbol,
    "truncate_text": truncate,
    "plural": plural,
    "plural_word": plural_word,
}
