"""Spanish wording for everything a reader sees: no internal code reaches a report.

Reason codes (``dns_error``, ``http_401``, ``html_instead_of_data``), licence ids (``notspecified``), evidence keys
(``resource_last_modified=…``), ISO 8601 frequencies (``R/P1M``) and snake_case tokens are turned into Spanish by
:func:`plain_es`; rule parameters get a label (:func:`param_text`). The codes themselves stay in scores.csv /
scores.json and are explained in each report's glossary annex (:func:`glossary`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import rules
from audit.outcomes import outcome_es, reason_es, reason_family_es
from reports.format import (
    FILTERS,
    STATUS_ORDER,
    STATUS_SHORT,
    fmt_date,
    fmt_int,
    fmt_num,
    fmt_pct,
    plural,
    plural_word,
)

#: HTTP status codes a reader may meet, in words
HTTP_ES = {
    200: "respondió correctamente", 401: "pide usuario y contraseña", 402: "pide un pago", 403: "acceso prohibido",
    404: "no encontrado", 408: "tiempo de espera agotado", 410: "eliminado del servidor", 429: "demasiadas solicitudes",
    500: "error interno del servidor", 502: "error de la pasarela", 503: "servicio no disponible",
    504: "la pasarela no respondió a tiempo",
}

#: probe outcomes and reasons, evidence vocabularies and other codes that appear in findings
CODES_ES: dict[str, str] = {
    **outcome_es("report"),
    **reason_es("report"),
    # dates (oportunos evidence)
    "last_modified": "fecha de modificación del recurso", "resource_last_modified": "fecha de modificación del recurso",
    "http_last_modified": "encabezado HTTP de última modificación", "hash_change": "cambio de contenido detectado",
    "resource_created": "fecha de creación del recurso", "metadata_modified": "fecha de modificación de los metadatos",
    "metadata_created": "fecha de creación de los metadatos", "dcat_modified": "fecha de modificación declarada",
    # licences (CKAN ids)
    "notspecified": "licencia no especificada", "other-closed": "otra licencia (cerrada)",
    "other-nc": "otra licencia (no comercial)", "other-open": "otra licencia (abierta)",
    "other-pd": "otra licencia (dominio público)", "other-at": "otra licencia (atribución)",
    # misc ("error" was the prober's crash marker, no outcome now; kept for any text that still carries the code)
    "error": "error al consultar", "private=true": "el conjunto es privado", "true": "sí", "false": "no", "payment": "pide un pago",
}

#: rule parameters (config ``rules:``) with their unit
PARAMS_ES: dict[str, tuple[str, str]] = {
    "availability_pass_ratio": ("disponibilidad anual mínima de cada recurso para cumplir", "ratio"),
    "availability_min_runs": ("revisiones en el año necesarias para usar la disponibilidad anual", "int"),
    "pass_threshold": ("proporción mínima de elementos presentes para cumplir", "ratio"),
    "partial_threshold": ("proporción mínima para cumplir parcialmente", "ratio"),
    "min_description_chars": ("longitud mínima de la descripción (caracteres)", "int"),
    "check_content": ("se revisa el contenido de los archivos", "bool"),
    "mandatory_weight": ("peso de cada metadato obligatorio de la Guía de Implementación (los opcionales pesan 1)", "num"),
    "dictionary_type_tolerance": ("proporción de filas que puede no tener el tipo que declara el diccionario", "ratio"),
    "http_generated_window_days": ("una fecha HTTP de última modificación a menos de estos días de la revisión no "
                                   "prueba una actualización (días)", "num"),
    "count_payment_as_answered": ("un recurso que pide pago cuenta como recurso que respondió", "bool"),
    "future_tolerance_days": ("tolerancia para fechas futuras (días)", "num"),
    "pass_factor": ("antigüedad máxima para cumplir, en periodos de la frecuencia declarada", "num"),
    "partial_factor": ("antigüedad máxima para cumplir parcialmente, en periodos", "num"),
    "irregular_max_age_days": ("antigüedad máxima con frecuencia irregular (días)", "int"),
    "no_frequency_max_age_days": ("antigüedad máxima sin frecuencia declarada (días)", "int"),
    "lookback_days": ("revisiones anteriores comparadas (últimos días)", "int"),
    "redirect_is_moved": ("una redirección cuenta como recurso movido, no perdido", "bool"),
    "min_rows": ("filas mínimas para juzgar la desagregación", "int"),
    "summary_share_max": ("proporción máxima de filas de totales", "ratio"),
    "xlsx_is_open": ("XLSX se considera formato abierto", "bool"),
}

_SPELLED = ["cero", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"]

_ISO_UNITS = {"Y": ("año", "años"), "M": ("mes", "meses"), "W": ("semana", "semanas"), "D": ("día", "días")}
_ISO_TIME_UNITS = {"H": ("hora", "horas"), "M": ("minuto", "minutos"), "S": ("segundo", "segundos")}
_ISO = re.compile(r"\b(R\d*/)?P(?:(\d+(?:[.,]\d+)?)([YMWD]))?(?:T(\d+(?:[.,]\d+)?)([HMS]))?\b")
_HTTP = re.compile(r"\bhttp_(\d{3})\b", re.IGNORECASE)
_KEY_VALUE = re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]+)=([^\s;,)]+)")
_SNAKE = re.compile(r"(?<![\w./:-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w/-])")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_PLURAL_S = re.compile(r"\b(\d[\d,]*)\s+(\w+?)\((s|es)\)")
_FAMILY = re.compile(r"(?<![\w./:-])(?:unsafe|scheme)_[a-z0-9+.-]*[a-z0-9]")  # probe reasons with a variable part
_EXPECT = re.compile(r"\bexpect_[a-z_]+\b")
_DATE_IN_TEXT = re.compile(r"(?<![\w/-])(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w/-])")
_REPEATED = re.compile(r"«([^«»]{3,60})» \(\1\)|(\b[\w ]{8,80}?) \(\2\)")
_DOUBLE_QUOTES = re.compile(r"««([^«»]*)»»")


def spell(n: int) -> str:
    """Small counts in words («nueve»), larger ones in digits."""
    return _SPELLED[n] if 0 <= n < len(_SPELLED) else fmt_int(n)


def http_text(code: int) -> str:
    meaning = HTTP_ES.get(code)
    return f"el servidor respondió {code}{f' ({meaning})' if meaning else ''}"


def frequency_text(token: str) -> str | None:
    """ISO 8601 duration or repeating interval → «cada mes», «cada 3 meses», «cada 12 horas»."""
    m = _ISO.fullmatch(token.strip())
    if not m or not (m.group(2) or m.group(4)):
        return None
    amount, unit, names = (m.group(2), m.group(3), _ISO_UNITS) if m.group(2) else (m.group(4), m.group(5), _ISO_TIME_UNITS)
    value = float(amount.replace(",", "."))
    one, many = names[unit]
    if value == 1:
        return f"cada {one}"
    shown = fmt_int(value) if value.is_integer() else fmt_num(value, 1)
    return f"cada {shown} {many}"


def _value_text(value: str) -> str:
    if _ISO_DATE.match(value):
        try:
            return fmt_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    return CODES_ES.get(value) or CODES_ES.get(value.lower()) or frequency_text(value) or value


def _key_value(m: re.Match[str]) -> str:
    key, value = m.group(1), m.group(2)
    if key == "charset":
        return m.group(0)
    if f"{key}={value}" in CODES_ES:
        return CODES_ES[f"{key}={value}"]
    label = CODES_ES.get(key) or key.replace("_", " ")
    return f"{label}: {_value_text(value)}"


def _iso_sub(m: re.Match[str]) -> str:
    text = frequency_text(m.group(0))
    return f"«{text}»" if text else m.group(0)


def _date_sub(m: re.Match[str]) -> str:
    try:
        return fmt_date(date.fromisoformat(m.group(1)))
    except ValueError:
        return m.group(0)


def plain_es(text: Any) -> str:
    """A rule's message, remediation or observed value with every internal code in Spanish words."""
    if text is None:
        return ""
    s = str(text)
    s = s.replace("cada 1 ", "cada ").replace("con qué comparar.", "con qué compararlo.")
    s = s.replace("con qué comparar)", "con qué compararlo)").replace("con qué comparar ", "con qué compararlo ")
    s = _PLURAL_S.sub(lambda m: f"{m.group(1)} {m.group(2)}{'' if m.group(1) == '1' else m.group(3)}", s)
    s = _HTTP.sub(lambda m: http_text(int(m.group(1))), s)
    s = _KEY_VALUE.sub(_key_value, s)
    s = _ISO.sub(_iso_sub, s) if "P" in s else s
    s = _EXPECT.sub(lambda m: expectation_name(m.group(0)), s)
    s = _FAMILY.sub(lambda m: CODES_ES.get(m.group(0)) or reason_family_es(m.group(0)) or m.group(0), s)
    s = _SNAKE.sub(lambda m: CODES_ES.get(m.group(1)) or m.group(1).replace("_", " "), s)
    for code in ("notspecified", "other-closed", "other-nc"):
        if code in s:
            s = re.sub(rf"(?<![\w-]){re.escape(code)}(?![\w-])", CODES_ES[code], s)
    s = _DATE_IN_TEXT.sub(_date_sub, s)  # one date format in running text: «6 de noviembre de 2024»
    s = _DOUBLE_QUOTES.sub(r"«\1»", s)
    # a code and its explanation that now say the same thing: «cada mes» (cada mes) → «cada mes»
    return _REPEATED.sub(lambda m: f"«{m.group(1)}»" if m.group(1) else m.group(2), s)


#: what a failed expectation means, by GX type (the column is named separately)
EXPECTATION_ES = {
    "expect_column_to_exist": "la columna no existe",
    "expect_column_values_to_not_be_null": "valores vacíos",
    "expect_column_values_to_be_null": "valores que deberían estar vacíos",
    "expect_column_values_to_be_between": "valores fuera del intervalo",
    "expect_column_values_to_be_in_set": "valores fuera de los permitidos",
    "expect_column_values_to_not_be_in_set": "valores no permitidos",
    "expect_column_values_to_match_regex": "valores que no siguen el patrón",
    "expect_column_values_to_not_match_regex": "valores con un patrón no permitido",
    "expect_column_values_to_match_strftime_format": "fechas con otro formato",
    "expect_column_values_to_be_dateutil_parseable": "valores que no son fechas",
    "expect_column_values_to_be_unique": "valores repetidos",
    "expect_compound_columns_to_be_unique": "combinaciones repetidas",
    "expect_column_value_lengths_to_be_between": "longitud fuera del intervalo",
    "expect_column_value_lengths_to_equal": "longitud distinta de la esperada",
    "expect_column_values_to_be_of_type": "valores de otro tipo",
    "expect_column_values_to_be_in_type_list": "valores de otro tipo",
    "expect_column_values_to_be_increasing": "valores que no aumentan",
    "expect_column_values_to_be_decreasing": "valores que no disminuyen",
    "expect_table_row_count_to_be_between": "número de filas fuera del intervalo",
    "expect_table_row_count_to_equal": "número de filas distinto del esperado",
    "expect_table_column_count_to_equal": "número de columnas distinto del esperado",
    "expect_table_columns_to_match_set": "las columnas no coinciden",
    "expect_table_columns_to_match_ordered_list": "las columnas no coinciden o están en otro orden",
    "expect_column_distinct_values_to_be_in_set": "valores distintos fuera de los permitidos",
    "expect_column_mean_to_be_between": "promedio fuera del intervalo",
    "expect_column_median_to_be_between": "mediana fuera del intervalo",
    "expect_column_min_to_be_between": "mínimo fuera del intervalo",
    "expect_column_max_to_be_between": "máximo fuera del intervalo",
    "expect_column_sum_to_be_between": "suma fuera del intervalo",
    "expect_column_stdev_to_be_between": "desviación estándar fuera del intervalo",
    "expect_column_unique_value_count_to_be_between": "número de valores distintos fuera del intervalo",
}


def expectation_name(etype: str) -> str:
    """A Great Expectations type in words (the type name itself is only in scores.json and the glossary)."""
    meaning = EXPECTATION_ES.get(etype)
    return f"regla «{meaning}»" if meaning else "regla de la suite"


def expectation_names_es(text: str) -> str:
    """Only the Great Expectations type names of a text in words (column names and values are left as they are)."""
    return _EXPECT.sub(lambda m: expectation_name(m.group(0)), text)


def param_text(key: str, value: Any) -> str:
    """«proporción mínima de elementos presentes para cumplir: 80 %»."""
    label, kind = PARAMS_ES.get(key, (key.replace("_", " "), ""))
    if isinstance(value, bool) or kind == "bool":
        shown = "sí" if value else "no"
    elif kind == "ratio" and isinstance(value, int | float):
        shown = fmt_pct(100.0 * value, 0)
    elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        shown = fmt_int(value)
    elif isinstance(value, float):
        shown = fmt_num(value, 2).rstrip("0").rstrip(".")
    else:
        shown = str(value)
    return f"{label}: {shown}"


def unjudged_characteristics(characteristics: list[Any], pct: dict[str, float | None]) -> list[Any]:
    """Characteristics that applied to no dataset (e.g. *permanentes* on the portal's first revision)."""
    return [c for c in characteristics if pct.get(c.id) is None]


def install_filters(env: Any) -> Any:
    """Register the es-MX filters (``num``, ``pct``, ``score``, ``date_es``, ``plural`` …) and the globals
    ``plural`` / ``plural_word`` on a Jinja2 env."""
    env.filters.update(FILTERS)
    env.filters["plain_es"] = plain_es
    env.filters["param_text"] = param_text
    env.globals["spell"] = spell
    env.globals["count_es"] = rules.count_es
    env.globals["unjudged_characteristics"] = unjudged_characteristics
    env.globals["plural"] = plural
    env.globals["plural_word"] = plural_word
    env.globals["STATUS_SHORT"] = STATUS_SHORT
    env.globals["STATUS_ORDER"] = list(STATUS_ORDER)
    return env
