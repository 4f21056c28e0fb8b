"""Declared update frequency → a period in days (or irregular / continuous).

Understands Spanish and English words ("Mensual", "cada tres meses", "quarterly"), ISO 8601 durations with or
without the repeating prefix (``R/P1M``, ``R/P0.5M``, ``P1Y``, ``R/PT1H``), EU Publications Office frequency URIs
(``…/authority/frequency/MONTHLY``, ``ANNUAL_2``, ``IRREG``) and Dublin Core ``purl.org/cld/freq/…`` URIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rules._common import fold, frequency_duration

#: days per ISO 8601 designator (average calendar lengths)
_UNIT_DAYS = {"Y": 365.25, "M": 30.4375, "W": 7.0, "D": 1.0}
_TIME_UNIT_DAYS = {"H": 1 / 24, "M": 1 / 1440, "S": 1 / 86400}

_ISO = re.compile(
    r"^P(?:(?P<Y>\d+(?:[.,]\d+)?)Y)?(?:(?P<M>\d+(?:[.,]\d+)?)M)?(?:(?P<W>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<D>\d+(?:[.,]\d+)?)D)?(?:T(?:(?P<TH>\d+(?:[.,]\d+)?)H)?(?:(?P<TM>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<TS>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)

IRREGULAR = "irregular"
CONTINUOUS = "continuous"

#: default vocabulary: folded word/phrase → ISO 8601 duration, "irregular" or "continuous"
DEFAULT_FREQUENCY_WORDS: dict[str, str] = {
    # Spanish
    "tiempo real": CONTINUOUS, "en tiempo real": CONTINUOUS, "continua": CONTINUOUS, "continuo": CONTINUOUS,
    "constante": CONTINUOUS, "cada hora": "PT1H", "por hora": "PT1H", "horaria": "PT1H", "horario": "PT1H",
    "diaria": "P1D", "diario": "P1D", "diariamente": "P1D", "cada dia": "P1D", "dos veces por semana": "P3.5D",
    "semanal": "P1W", "semanalmente": "P1W", "cada semana": "P1W", "catorcenal": "P2W",
    "quincenal": "P15D", "quincenalmente": "P15D", "cada quince dias": "P15D", "cada 15 dias": "P15D",
    "bisemanal": "P2W",
    "mensual": "P1M", "mensualmente": "P1M", "cada mes": "P1M",
    "bimestral": "P2M", "bimestralmente": "P2M", "cada dos meses": "P2M", "cada 2 meses": "P2M",
    "trimestral": "P3M", "trimestralmente": "P3M", "cada tres meses": "P3M", "cada 3 meses": "P3M",
    "cuatrimestral": "P4M", "cada cuatro meses": "P4M", "cada 4 meses": "P4M",
    "semestral": "P6M", "semestralmente": "P6M", "cada seis meses": "P6M", "cada 6 meses": "P6M",
    "bianual": "P6M", "dos veces al ano": "P6M", "semianual": "P6M",
    "anual": "P1Y", "anualmente": "P1Y", "cada ano": "P1Y", "una vez al ano": "P1Y",
    "bienal": "P2Y", "cada dos anos": "P2Y", "cada 2 anos": "P2Y",
    "trienal": "P3Y", "cada tres anos": "P3Y", "cada 3 anos": "P3Y",
    "quinquenal": "P5Y", "cada cinco anos": "P5Y", "cada 5 anos": "P5Y",
    "decenal": "P10Y", "cada diez anos": "P10Y",
    "irregular": IRREGULAR, "irregularmente": IRREGULAR, "eventual": IRREGULAR, "eventualmente": IRREGULAR,
    "no planeada": IRREGULAR, "no planificada": IRREGULAR, "no programada": IRREGULAR, "sin periodicidad": IRREGULAR,
    "a demanda": IRREGULAR, "por demanda": IRREGULAR, "cuando se requiera": IRREGULAR, "variable": IRREGULAR,
    "unica vez": IRREGULAR, "una sola vez": IRREGULAR, "no se actualiza": IRREGULAR, "sin actualizacion": IRREGULAR,
    "historico": IRREGULAR, "esporadica": IRREGULAR, "ocasional": IRREGULAR,
    # English
    "real time": CONTINUOUS, "realtime": CONTINUOUS, "continuous": CONTINUOUS, "continual": CONTINUOUS,
    "hourly": "PT1H", "daily": "P1D", "twice a week": "P3.5D", "weekly": "P1W", "fortnightly": "P2W",
    "biweekly": "P2W", "semimonthly": "P15D", "twice a month": "P15D", "monthly": "P1M", "bimonthly": "P2M",
    "quarterly": "P3M", "three times a year": "P4M", "semiannual": "P6M", "semi annual": "P6M",
    "biannual": "P6M", "twice a year": "P6M", "half yearly": "P6M", "annual": "P1Y", "annually": "P1Y",
    "yearly": "P1Y", "biennial": "P2Y", "triennial": "P3Y", "quadrennial": "P4Y", "quinquennial": "P5Y",
    "decennial": "P10Y", "as needed": IRREGULAR, "as required": IRREGULAR, "on demand": IRREGULAR,
    "not planned": IRREGULAR, "unplanned": IRREGULAR, "never": IRREGULAR, "one off": IRREGULAR, "once": IRREGULAR,
    "ad hoc": IRREGULAR, "irregularly": IRREGULAR, "every day": "P1D", "every week": "P1W", "every two weeks": "P2W",
    "every month": "P1M", "every two months": "P2M", "every quarter": "P3M", "every three months": "P3M",
    "every six months": "P6M", "every year": "P1Y", "every two years": "P2Y",
}

#: EU Publications Office authority table (http://publications.europa.eu/resource/authority/frequency/<CODE>)
EU_FREQUENCY_CODES: dict[str, str] = {
    "CONT": CONTINUOUS, "UPDATE_CONT": CONTINUOUS, "1MIN": "PT1M", "5MIN": "PT5M", "10MIN": "PT10M",
    "15MIN": "PT15M", "30MIN": "PT30M", "HOURLY": "PT1H", "BIHOURLY": "PT2H", "TRIHOURLY": "PT3H",
    "12HRS": "PT12H", "DAILY": "P1D", "DAILY_2": "PT12H", "WEEKLY": "P1W", "WEEKLY_2": "P3.5D",
    "WEEKLY_3": "P2.33D", "BIWEEKLY": "P2W", "MONTHLY": "P1M", "MONTHLY_2": "P15D", "MONTHLY_3": "P10D",
    "BIMONTHLY": "P2M", "QUARTERLY": "P3M", "ANNUAL_3": "P4M", "ANNUAL_2": "P6M", "ANNUAL": "P1Y",
    "BIENNIAL": "P2Y", "TRIENNIAL": "P3Y", "QUADRENNIAL": "P4Y", "QUINQUENNIAL": "P5Y", "DECENNIAL": "P10Y",
    "BIDECENNIAL": "P20Y", "TRIDECENNIAL": "P30Y", "IRREG": IRREGULAR, "NEVER": IRREGULAR,
    "AS_NEEDED": IRREGULAR, "NOT_PLANNED": IRREGULAR, "OTHER": "", "UNKNOWN": "", "OP_DATPRO": "",
}


@dataclass(frozen=True, slots=True)
class Frequency:
    """A parsed frequency: ``kind`` is "periodic" (with ``days``), "irregular", "continuous" or "unknown"."""

    kind: str
    days: float | None = None
    raw: str = ""

    @property
    def periodic(self) -> bool:
        return self.kind in ("periodic", "continuous")


def iso_duration_days(text: str) -> float | None:
    """``R/P1M`` → 30.44, ``P0.5M`` → 15.2, ``R/PT1H`` → 0.0417; None if not an ISO 8601 duration."""
    raw = text.strip().upper()
    raw = re.sub(r"^R\d*/", "", raw)  # repeating prefix (R/, R12/)
    m = _ISO.match(raw)
    if not m or not any(m.groupdict().values()):
        return None
    days = 0.0
    for unit in ("Y", "M", "W", "D"):
        if m.group(unit):
            days += float(m.group(unit).replace(",", ".")) * _UNIT_DAYS[unit]
    for group, unit in (("TH", "H"), ("TM", "M"), ("TS", "S")):
        if m.group(group):
            days += float(m.group(group).replace(",", ".")) * _TIME_UNIT_DAYS[unit]
    return days if days > 0 else None


def _from_code(code: str, raw: str) -> Frequency:
    if code == IRREGULAR:
        return Frequency(IRREGULAR, None, raw)
    if code == CONTINUOUS:
        return Frequency(CONTINUOUS, 1.0, raw)  # "tiempo real": judged against one day
    if not code:
        return Frequency("unknown", None, raw)
    days = iso_duration_days(code)
    return Frequency("periodic", days, raw) if days else Frequency("unknown", None, raw)


def parse_frequency(value: Any, words: dict[str, str] | None = None) -> Frequency:
    """Parse a declared frequency. ``words`` maps folded words/phrases to ISO durations or irregular/continuous.

    Returns ``Frequency("unknown")`` when nothing is recognised (the caller reports it).
    """
    raw = str(value).strip() if value is not None else ""
    if not raw:
        return Frequency("unknown", None, raw)
    vocabulary = {fold(k): v for k, v in (words if words is not None else DEFAULT_FREQUENCY_WORDS).items()}
    # ISO 8601 (R/P1M, P1Y, R/P0.5M)
    days = iso_duration_days(raw)
    if days:
        return Frequency("periodic", days, raw)
    # URIs: EU authority table and Dublin Core collection frequencies
    lowered = raw.lower()
    if "/" in raw and ("://" in raw or lowered.startswith(("purl.org", "publications.europa.eu"))):
        tail = raw.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        if "authority/frequency" in lowered:
            return _from_code(EU_FREQUENCY_CODES.get(tail.upper(), ""), raw)
        text = fold(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", tail))  # purl.org/cld/freq/biweekly, semiannual
        if text in vocabulary:
            return _from_code(vocabulary[text], raw)
        return Frequency("unknown", None, raw)
    if raw.upper() in EU_FREQUENCY_CODES and raw.isupper():
        return _from_code(EU_FREQUENCY_CODES[raw.upper()], raw)
    text = re.sub(r"[-_/.,;:()]+", " ", fold(raw))
    text = " ".join(text.split())
    if text in vocabulary:
        return _from_code(vocabulary[text], raw)
    # a count and a unit («cada 2 semanas», «1 mes», "once a year", «cada once días»), before loose phrases
    counted = frequency_duration(raw)
    counted_days = iso_duration_days(counted) if counted else None
    if counted_days:
        return Frequency("periodic", counted_days, raw)
    # the longest vocabulary phrase found as whole words ("Actualización mensual", "Se publica cada tres meses")
    best: tuple[int, str] | None = None
    for phrase, code in vocabulary.items():
        phrase_norm = " ".join(re.sub(r"[-_/.,;:()]+", " ", phrase).split())
        if phrase_norm and re.search(r"(?<![a-z0-9])" + re.escape(phrase_norm) + r"(?![a-z0-9])", text):
            if best is None or len(phrase_norm) > best[0]:
                best = (len(phrase_norm), code)
    if best is not None:
        return _from_code(best[1], raw)
    return Frequency("unknown", None, raw)


def describe_days(days: float) -> str:
    """A Spanish label for a period, for findings: 30.4 → "1 mes", 365.25 → "1 año"."""
    if days >= 360:
        years = days / 365.25
        return f"{years:g} año" + ("s" if round(years, 1) != 1 else "") if years == int(years) else f"{years:.1f} años"
    if days >= 28:
        months = round(days / 30.4375, 1)
        return f"{months:g} mes" + ("es" if months != 1 else "")
    if days >= 1:
        d = round(days, 1)
        return f"{d:g} día" + ("s" if d != 1 else "")
    hours = round(days * 24, 1)
    return f"{hours:g} hora" + ("s" if hours != 1 else "")
