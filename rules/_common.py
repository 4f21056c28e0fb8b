"""Helpers shared by the ten rules: text folding, metadata look-up, data-resource detection, formats, results.

Everything here is pure (no I/O); the rules call these with the dataset dict and the evidence records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, cast

from dateutil import parser as dateparser
from pydantic import BaseModel, ConfigDict, Field

from audit.clock import to_utc
from audit.evidence import DatasetContext, ResourceEvidence
from audit.outcomes import Outcome
from audit.textnorm import strip_accents
from rules.base import Finding, RuleResult, Status

# ---------------------------------------------------------------------------------------------------------------
# Parameters shared by every rule


class SharedCode(StrEnum):
    """Reason codes common to several rules (a retired dataset, a crashed rule, no evidence or no data to judge) —
    docs/reglas.md «Conceptos comunes» lists them; a rule's own codes are its module's ``Code`` enum."""

    RETIRADO = "retirado"
    ERROR_REGLA = "error_regla"
    SIN_EVIDENCIA = "sin_evidencia"
    SIN_RECURSOS = "sin_recursos"
    SIN_RECURSOS_DE_DATOS = "sin_recursos_de_datos"
    SIN_DATOS_OBTENIBLES = "sin_datos_obtenibles"


class RuleParams(BaseModel):
    """Base of every rule's parameter model: unknown keys are errors; vocabularies are plain lists."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)

    documentation_words: list[str] = Field(
        default_factory=lambda: list(DOCUMENTATION_WORDS),
        description="Palabras en el nombre de un recurso que lo identifican como documentación (no datos).",
    )
    documentation_description_words: list[str] = Field(
        default_factory=lambda: list(DOCUMENTATION_DESCRIPTION_WORDS),
        description="Palabras con las que empieza la descripción de un recurso de documentación.",
    )


#: a resource *named* with one of these is documentation (data dictionary, methodology, manual …)
DOCUMENTATION_WORDS: tuple[str, ...] = (
    "diccionario",
    "metodologia",
    "nota tecnica",
    "nota metodologica",
    "manual",
    "documentacion",
    "glosario",
    "data dictionary",
    "methodology",
    "documentation",
    "codebook",
)
#: a *description* that STARTS with one of these describes documentation ("Diccionario de datos: …"); further
#: in the text they are only references ("… consulte el diccionario de datos"), so they do not count there
DOCUMENTATION_DESCRIPTION_WORDS: tuple[str, ...] = (
    "diccionario",
    "glosario",
    "metodologia",
    "nota tecnica",
    "nota metodologica",
    "documento metodologico",
    "manual",
    "documentacion",
    "descripcion de los campos",
    "descripcion de las variables",
    "data dictionary",
    "methodology",
    "documentation",
    "codebook",
)

#: metadata values that mean "nothing was filled in"
PLACEHOLDER_VALUES: frozenset[str] = frozenset(
    {
        "", "-", "--", ".", "n/a", "na", "n.a.", "null", "none", "nan", "ninguno", "ninguna", "sin dato", "sin datos",
        "sin informacion", "no disponible", "no aplica", "pendiente", "por definir", "tbd", "xxx", "0000-00-00",
    }
)

# ---------------------------------------------------------------------------------------------------------------
# Text


@lru_cache(maxsize=8192)
def _fold_str(s: str) -> str:
    if not s.isascii():
        s = strip_accents(s)
    return " ".join(s.lower().split())


def fold(text: Any) -> str:
    """Lower-case, accent-free, single-spaced text for matching ("Metodología " → "metodologia")."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if len(s) > 4000:  # long descriptions: not worth caching
        return _fold_str.__wrapped__(s)
    return _fold_str(s)


_NON_ALNUM = re.compile(r"[^a-z0-9]")


@lru_cache(maxsize=4096)
def _fold_key_str(key: str) -> str:
    return _NON_ALNUM.sub("", fold(key))


def fold_key(key: Any) -> str:
    """Metadata key normal form: ``accrualPeriodicity`` = ``accrual_periodicity`` = ``Accrual Periodicity``."""
    return _fold_key_str(key if isinstance(key, str) else str(key))


_SEPARATORS = re.compile(r"[-_/.]+")


def _spaced(text: Any) -> str:
    return _SEPARATORS.sub(" ", fold(text))


@lru_cache(maxsize=2048)
def _alternation(needles: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({_spaced(n).strip() for n in needles} - {""}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(w) for w in words) + r")(?![a-z0-9])")


def contains_any(haystack: Any, needles: Iterable[str]) -> bool:
    """Whole-word (or whole-phrase) match of any needle on folded text; hyphens, underscores, slashes and dots
    count as spaces. Compiled patterns are cached per vocabulary."""
    pattern = _alternation(tuple(needles))
    return pattern is not None and pattern.search(_spaced(haystack)) is not None


@lru_cache(maxsize=256)
def _prefix_alternation(needles: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({_spaced(n).strip() for n in needles} - {""}, key=len, reverse=True)
    if not words:
        return None
    article = r"(?:(?:el|la|los|las|este|esta|un|una|the|this)\s+)?"
    return re.compile(r"^\W*" + article + "(?:" + "|".join(re.escape(w) for w in words) + r")(?![a-z0-9])")


def starts_with_any(text: Any, needles: Iterable[str]) -> bool:
    """The folded text begins (after an optional article) with one of the words or phrases."""
    pattern = _prefix_alternation(tuple(needles))
    return pattern is not None and pattern.search(_spaced(text)) is not None


def contains_word(haystack: Any, needle: str) -> bool:
    """Whole-word (or whole-phrase) match on folded text; hyphens and underscores count as spaces."""
    return contains_any(haystack, (needle,))


def is_blank(value: Any) -> bool:
    """True for None, empty containers and placeholders such as "N/A", "-", "sin información"."""
    if value is None:
        return True
    if isinstance(value, Mapping):
        return all(is_blank(v) for v in value.values())
    if isinstance(value, (list, tuple, set)):
        return all(is_blank(v) for v in value)
    return fold(value) in PLACEHOLDER_VALUES


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return " ".join(as_text(v) for v in value.values() if not is_blank(v))
    if isinstance(value, (list, tuple, set)):
        return ", ".join(as_text(v) for v in value if not is_blank(v))
    return str(value).strip()


def short(value: Any, limit: int = 120) -> str:
    text = as_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------------
# Metadata look-up: CKAN core fields, scheming-style top-level fields and ``extras``


def iter_metadata(dataset: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of the dataset: top-level fields first, then ``extras`` (list of {key, value} or dict)."""
    for key, value in dataset.items():
        if key in ("extras", "resources"):
            continue
        yield str(key), value
    extras = dataset.get("extras")
    if isinstance(extras, Mapping):
        for key, value in extras.items():
            yield str(key), value
    elif isinstance(extras, list):
        for item in extras:
            if isinstance(item, Mapping) and "key" in item:
                yield str(item.get("key")), item.get("value")


def find_metadata(dataset: Mapping[str, Any], keys: Iterable[str]) -> tuple[str, Any] | None:
    """First non-blank value under any of ``keys`` (compared in :func:`fold_key` form), in the order of ``keys``.

    One pass over the dataset's metadata and no cache: the rules stay pure functions of their arguments (a dataset
    changed between two calls is read again), at about 7 µs per look-up on a CKAN record with 30 keys."""
    rank: dict[str, int] = {}
    for i, key in enumerate(keys):
        rank.setdefault(fold_key(key), i)
    best: tuple[str, Any] | None = None
    best_rank = len(rank)
    for key, value in iter_metadata(dataset):
        r = rank.get(fold_key(key))
        if r is not None and r < best_rank and not is_blank(value):
            best, best_rank = (key, value), r
            if r == 0:
                break
    return best


def find_all_metadata(dataset: Mapping[str, Any], keys: Iterable[str]) -> list[tuple[str, Any]]:
    wanted = {fold_key(k) for k in keys}
    return [(k, v) for k, v in iter_metadata(dataset) if fold_key(k) in wanted and not is_blank(v)]


# ---------------------------------------------------------------------------------------------------------------
# Resources


def is_documentation(resource: Mapping[str, Any], params: RuleParams) -> bool:
    """A data dictionary, methodology note, manual … recognised by its name (or unambiguous description words)."""
    if fold(resource.get("resource_type")) in {"documentation", "documentacion"}:
        return True
    if contains_any(as_text(resource.get("name")), params.documentation_words):
        return True
    return starts_with_any(as_text(resource.get("description")), params.documentation_description_words)


def data_resources(ctx: DatasetContext, params: RuleParams) -> list[ResourceEvidence]:
    return [r for r in ctx.resources if not is_documentation(r.resource, params)]


def doc_resources(ctx: DatasetContext, params: RuleParams) -> list[ResourceEvidence]:
    return [r for r in ctx.resources if is_documentation(r.resource, params)]


def any_probe(resources: Iterable[ResourceEvidence]) -> bool:
    return any(r.probe is not None for r in resources)


# What data could be obtained: the characteristics about the data themselves (their timeliness, content,
# structure, format as served, terms of use) never pass on metadata alone: a record that promises data is not data.
NO_RESOURCES = "no_resources"  # the dataset lists no resource at all
NO_DATA_RESOURCES = "no_data_resources"  # only documentation (dictionary, methodology)
NOT_PROBED = "not_probed"  # the probe stage did not run: nothing is known about the files (metadata-only audit)
NONE_OBTAINED = "none_obtained"  # every data resource was requested and none gave a data file
OBTAINED = "obtained"  # at least one data file was downloaded


def obtained(ev: ResourceEvidence) -> bool:
    """A data file came back for an anonymous request (a web page where the file should be does not count), or
    the resource was reachable in some run of the year (annual evaluation)."""
    if ev.probe is not None and ev.probe.outcome == Outcome.OK:
        return True
    return ev.availability is not None and ev.availability.reachable_runs > 0


def data_availability(ctx: DatasetContext, params: RuleParams) -> str:
    """One of NO_RESOURCES, NO_DATA_RESOURCES, NOT_PROBED, NONE_OBTAINED, OBTAINED."""
    if not ctx.resources:
        return NO_RESOURCES
    data = data_resources(ctx, params)
    if not data:
        return NO_DATA_RESOURCES
    if any(obtained(ev) for ev in data):
        return OBTAINED
    if not any(ev.probe is not None or ev.availability is not None for ev in data):
        return NOT_PROBED
    return NONE_OBTAINED


_NO_DATA: dict[str, tuple[SharedCode, str, str]] = {
    NO_RESOURCES: (SharedCode.SIN_RECURSOS, "El conjunto no tiene recursos: no publica datos.",
                   "Publique los archivos de datos del conjunto."),
    NO_DATA_RESOURCES: (SharedCode.SIN_RECURSOS_DE_DATOS,
                        "El conjunto solo publica documentación (diccionario, metodología), no archivos de datos.",
                        "Publique los archivos de datos del conjunto junto a su documentación."),
    NONE_OBTAINED: (SharedCode.SIN_DATOS_OBTENIBLES,
                    "No se pudo obtener ningún archivo de datos del conjunto (ver «Accesibles»).",
                    "Corrija el acceso a los archivos de datos para que cualquier persona pueda descargarlos."),
}


def no_data_finding(state: str, consequence_es: str, ctx: DatasetContext | None = None) -> Finding:
    """The finding that explains why a characteristic about the data does not pass: reason code by ``state``,
    the rule's own consequence appended. Manual review when a web page answered where a data file was declared
    (the page may lead to the data)."""
    code, message, remediation = _NO_DATA[state]
    pages = [ev for ev in (ctx.resources if ctx else ()) if ev.probe is not None and ev.probe.outcome == Outcome.LANDING_PAGE]
    outcomes = sorted({str(ev.probe.outcome) for ev in (ctx.resources if ctx else ()) if ev.probe is not None})
    observed = {NO_RESOURCES: "0 recursos", NO_DATA_RESOURCES: "solo documentación"}.get(state) or ", ".join(outcomes)
    return Finding(code, f"{message} {consequence_es}".strip(), remediation, observed=observed or None,
                   manual_review=bool(pages))


# ---------------------------------------------------------------------------------------------------------------
# Formats

_FORMAT_ALIASES: dict[str, str] = {
    "csv": "csv", "text/csv": "csv", "application/csv": "csv", "csv utf 8": "csv", "comma separated values": "csv",
    "tsv": "tsv", "text/tab-separated-values": "tsv", "tab": "tsv",
    "json": "json", "application/json": "json", "json api": "json", "api json": "json",
    "geojson": "geojson", "application/geo+json": "geojson", "geo json": "geojson",
    "xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "rdf": "rdf", "rdf/xml": "rdf", "application/rdf+xml": "rdf", "ttl": "rdf", "turtle": "rdf", "n3": "rdf",
    "jsonld": "rdf", "json ld": "rdf",
    "kml": "kml", "application/vnd.google-earth.kml+xml": "kml", "kmz": "kmz",
    "xlsx": "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "xls": "xls", "application/vnd.ms-excel": "xls", "excel": "xls", "ms excel": "xls", "microsoft excel": "xls",
    "ods": "ods", "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "docx": "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "doc": "doc", "application/msword": "doc", "word": "doc", "ms word": "doc",
    "odt": "odt", "rtf": "rtf", "ppt": "ppt", "pptx": "pptx",
    "pdf": "pdf", "application/pdf": "pdf",
    "html": "html", "htm": "html", "text/html": "html", "web": "html", "pagina web": "html", "url": "html",
    "sitio web": "html", "website": "html", "web page": "html",
    "zip": "zip", "application/zip": "zip", "application/x-zip-compressed": "zip",
    "shp": "shapefile-zip", "shapefile": "shapefile-zip", "esri shapefile": "shapefile-zip", "shape": "shapefile-zip",
    "shapefile-zip": "shapefile-zip", "zip shp": "shapefile-zip", "shp zip": "shapefile-zip",
    "png": "png", "image/png": "png", "jpg": "jpeg", "jpeg": "jpeg", "image/jpeg": "jpeg", "gif": "gif",
    "image/gif": "gif", "tif": "tiff", "tiff": "tiff", "svg": "svg",
    "rar": "rar", "application/x-rar-compressed": "rar", "7z": "7z",
    "parquet": "parquet", "gpkg": "gpkg", "geopackage": "gpkg",
    "txt": "text", "text": "text", "text/plain": "text",
    "mdb": "mdb", "accdb": "mdb", "dbf": "dbf", "sav": "sav", "spss": "sav", "dta": "dta", "stata": "dta",
    "sas7bdat": "sas", "dwg": "dwg", "dxf": "dxf",
}


def normalize_format(declared: Any) -> str:
    """Messy declared formats to one vocabulary: " csv", ".XLS", "Csv", "text/csv" → csv, xls, csv, csv.

    Unknown values come back folded (``"api"``), blanks as ``""``.
    """
    text = fold(declared).strip().lstrip(".").strip()
    if not text:
        return ""
    if text in _FORMAT_ALIASES:
        return _FORMAT_ALIASES[text]
    text = text.split(";")[0].strip()  # "text/csv; charset=utf-8"
    if text in _FORMAT_ALIASES:
        return _FORMAT_ALIASES[text]
    spaced = re.sub(r"[\s_\-()]+", " ", text).strip()
    if spaced in _FORMAT_ALIASES:
        return _FORMAT_ALIASES[spaced]
    first = spaced.split(" ")[0].lstrip(".")
    if first in _FORMAT_ALIASES and first not in {"web", "url", "text"}:
        return _FORMAT_ALIASES[first]  # "CSV (UTF-8)", "XLSX 2007"
    return spaced


def url_extension(url: Any) -> str:
    path = str(url or "").split("?")[0].split("#")[0].rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if "." not in last:
        return ""
    return normalize_format(last.rsplit(".", 1)[-1])


_MEMBER_EXT = re.compile(r"\.([A-Za-z0-9]{2,8})\b")


_ZIP_KINDS = re.compile(r"contiene:\s*([a-z0-9,\- ]+);")
#: members that document a zip's data rather than being data (README, PDF notes)
ZIP_COMPANION_TYPES = frozenset({"text", "pdf", "doc", "docx", "odt", "rtf", "html", "md", "png", "jpeg", "gif"})


def zip_member_types(detail: str | None) -> list[str]:
    """Types of a zip's members from its ``sniffed_detail``: the sniffed kinds ("contiene: csv,pdf; …") plus
    the extensions of the listed members ("miembros: a.csv, b.shp")."""
    text = detail or ""
    kinds = []
    m = _ZIP_KINDS.search(text)
    if m:
        kinds = [k.strip() for k in m.group(1).split(",") if k.strip() and k.strip() not in ("vacío", "unknown")]
    return kinds + [normalize_format(ext) for ext in _MEMBER_EXT.findall(text)]


def effective_type(ev: ResourceEvidence) -> tuple[str, str]:
    """The resource's real type and where it came from: (type, "sniffed" | "declared" | "url" | "none").

    The sniffed type of a reachable resource always wins over what the publisher declared.
    """
    probe = ev.probe
    if probe is not None and probe.reachable and probe.sniffed_type and probe.sniffed_type != "unknown":
        return probe.sniffed_type, "sniffed"
    declared = normalize_format(ev.resource.get("format"))
    if declared:
        return declared, "declared"
    from_url = url_extension(ev.resource.get("url"))
    if from_url:
        return from_url, "url"
    if probe is not None and probe.sniffed_type:
        return probe.sniffed_type, "sniffed"
    return "", "none"


# ---------------------------------------------------------------------------------------------------------------
# Dates


class _SpanishEnglishDates(dateparser.parserinfo):
    """dateutil's English names plus Spanish months, weekdays and the connector «de» («22 de junio de 2017»)."""

    # dateutil accepts any number of names per month/day; its type stubs only allow two or three, hence the casts
    MONTHS = cast(Any, [
        ("Jan", "January", "ene", "enero"), ("Feb", "February", "febrero"), ("Mar", "March", "marzo"),
        ("Apr", "April", "abr", "abril"), ("May", "mayo"), ("Jun", "June", "junio"), ("Jul", "July", "julio"),
        ("Aug", "August", "ago", "agosto"), ("Sep", "Sept", "September", "set", "septiembre", "setiembre"),
        ("Oct", "October", "octubre"), ("Nov", "November", "noviembre"), ("Dec", "December", "dic", "diciembre"),
    ])
    WEEKDAYS = cast(Any, [
        ("Mon", "Monday", "lunes"), ("Tue", "Tuesday", "martes"), ("Wed", "Wednesday", "miercoles", "miércoles"),
        ("Thu", "Thursday", "jueves"), ("Fri", "Friday", "viernes"), ("Sat", "Saturday", "sabado", "sábado"),
        ("Sun", "Sunday", "domingo"),
    ])
    JUMP = [*dateparser.parserinfo.JUMP, "de", "del"]  # noqa: RUF012


_DATE_INFO = _SpanishEnglishDates(dayfirst=True)
#: two defaults that differ in every field: what the text does not say is taken from them, so comparing the two
#: parses tells whether the year was written; the first one fills a missing month/day with January/the 1st
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def parse_datetime(value: Any) -> datetime | None:
    """ISO-ish timestamps from CKAN (naive = UTC) → aware UTC; anything unparsable → None.

    Free-text dates in English or Spanish are accepted with day-first numbers (24/05/2021). A date written with
    month precision counts from the first day of that month («May 2021», «mayo de 2021» → 2021-05-01; «2021» →
    2021-01-01): nothing is ever filled in from today's date, and text without a year is not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = dateparser.isoparse(text)
        except (ValueError, OverflowError):
            try:
                dt = dateparser.parse(text, parserinfo=_DATE_INFO, default=_DEFAULT_A)
                other = dateparser.parse(text, parserinfo=_DATE_INFO, default=_DEFAULT_B)
            except (ValueError, OverflowError, TypeError):
                return None
            if dt.year != other.year:  # no year in the text («12:30», «24 de mayo»)
                return None
    return to_utc(dt)


# ---------------------------------------------------------------------------------------------------------------
# Frequencies written as a count and a unit («cada 2 semanas», «30 días», "every 2 weeks", «dos veces al año»)

_NUMBER_WORDS: dict[str, float] = {
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "once": 11, "doce": 12, "quince": 15, "veinte": 20, "treinta": 30,
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
}
#: folded unit word → (ISO 8601 designator, how many of it); plural forms are matched by the pattern
_UNITS: dict[str, tuple[str, float]] = {
    "hora": ("TH", 1), "hour": ("TH", 1), "dia": ("D", 1), "day": ("D", 1), "semana": ("W", 1), "week": ("W", 1),
    "catorcena": ("W", 2), "quincena": ("D", 15), "fortnight": ("W", 2), "mes": ("M", 1), "month": ("M", 1),
    "bimestre": ("M", 2), "trimestre": ("M", 3), "quarter": ("M", 3), "cuatrimestre": ("M", 4),
    "semestre": ("M", 6), "ano": ("Y", 1), "anio": ("Y", 1), "year": ("Y", 1),
}
_DESIGNATOR_DAYS = {"TH": 1 / 24, "D": 1.0, "W": 7.0, "M": 30.4375, "Y": 365.25}
_NUM = r"(?P<n>\d+(?:[.,]\d+)?|" + "|".join(sorted((w for w in _NUMBER_WORDS if len(w) > 1), key=len,
                                                      reverse=True)) + r")"
_UNIT = r"(?P<unit>" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")(?:e?s)?"
_QUALIFIER = r"(?:\s+(?:habiles|naturales|calendario|working|business|calendar))?"
#: «cada 2 semanas», "every 2 weeks", «cada trimestre» (anywhere in the text)
_EVERY = re.compile(r"(?<![a-z0-9])(?:cada|every|each)\s+(?:" + _NUM + r"\s+)?" + _UNIT + _QUALIFIER
                    + r"(?![a-z0-9])")
#: the whole value is a count and a unit: «1 mes», «30 días», "2 weeks"
_BARE = re.compile(r"^" + _NUM + r"\s+" + _UNIT + _QUALIFIER + r"$")
#: «dos veces al año», «1 vez por semana», "3 times a year", "once a month", "twice per year"
_TIMES = re.compile(
    r"(?<![a-z0-9])(?:(?P<times>\d+|" + "|".join(w for w in _NUMBER_WORDS if len(w) > 1) + r")\s+(?:vez|veces|times)"
    r"|(?P<once>once|twice|thrice))\s+(?:al|a la|por|por cada|cada|en el|en la|a|an|per|every|each)\s+"
    + _UNIT + r"(?![a-z0-9])"
)


#: punctuation read as a space; a decimal point or comma between digits is kept («cada 1.5 meses»)
_FREQUENCY_PUNCTUATION = re.compile(r"[-_/;:()]+|(?<!\d)[.,]|[.,](?!\d)")


def _count(token: str | None) -> float | None:
    if token is None:
        return 1.0
    token = token.replace(",", ".")
    value = _NUMBER_WORDS.get(token)
    if value is None:
        try:
            value = float(token)
        except ValueError:
            return None
    return value if value > 0 else None


def _iso(designator: str, amount: float) -> str:
    number = f"{round(amount, 4):g}"
    return f"PT{number}H" if designator == "TH" else f"P{number}{designator}"


def frequency_duration(value: Any) -> str | None:
    """A frequency written as a count and a unit → ISO 8601 duration, or None.

    «cada 2 semanas» → P2W, «1 mes» → P1M, «30 días» → P30D, "every 2 weeks" → P2W, «cada trimestre» → P3M,
    «dos veces al año» → P6M, "once a year" → P1Y, «cada once días» → P11D. Only these structures are read; words
    such as «mensual» are the vocabulary's job (:func:`rules.frequency.parse_frequency`).
    """
    text = " ".join(_FREQUENCY_PUNCTUATION.sub(" ", fold(value)).split())
    if not text:
        return None
    m = _BARE.match(text) or _EVERY.search(text)
    if m:
        n = _count(m.group("n"))
        if n is None:
            return None
        designator, size = _UNITS[m.group("unit")]
        return _iso(designator, n * size)
    m = _TIMES.search(text)
    if m:
        once = m.group("once")
        times = {"once": 1.0, "twice": 2.0, "thrice": 3.0}[once] if once else _count(m.group("times"))
        if not times:
            return None
        designator, size = _UNITS[m.group("unit")]
        if times == 1:
            return _iso(designator, size)  # "once a year" → P1Y
        if designator == "Y" and (12 * size / times).is_integer():
            return _iso("M", 12 * size / times)  # «dos veces al año» → P6M
        return _iso("D", size * _DESIGNATOR_DAYS[designator] / times)
    return None


# ---------------------------------------------------------------------------------------------------------------
# Results


def make_result(
    characteristic: str,
    status: Status,
    *,
    score: float | None = None,
    findings: Sequence[Finding] = (),
    evidence: Mapping[str, Any] | None = None,
) -> RuleResult:
    """pass → 1, fail / not_applicable → 0, partial → the rule's graded score kept strictly inside (0, 1).

    The findings of a ``pass`` are recommendations: they are marked ``advisory``."""
    if status is Status.PASS:
        value = 1.0
        findings = [f if f.advisory else replace(f, advisory=True) for f in findings]
    elif status is Status.PARTIAL:
        value = 0.5 if score is None else min(0.99, max(0.01, round(float(score), 4)))
    else:
        value = 0.0
    return RuleResult(characteristic, status, value, tuple(findings), dict(evidence or {}))


def retired_result(characteristic: str) -> RuleResult:
    return make_result(
        characteristic,
        Status.NOT_APPLICABLE,
        findings=[
            Finding(
                SharedCode.RETIRADO,
                "El conjunto de datos fue retirado del portal; solo se evalúa su permanencia.",
                "Vuelva a publicar el conjunto o documente públicamente por qué se retiró.",
            )
        ],
        evidence={"retired": True},
    )


def share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def graded(ok: float, total: float) -> tuple[Status, float]:
    """pass if everything passes, fail if nothing does, else partial graded by the share."""
    if total <= 0 or ok <= 0:
        return Status.FAIL, 0.0
    if ok >= total:
        return Status.PASS, 1.0
    return Status.PARTIAL, ok / total
