"""«Base de la evaluación»: the facts behind a verdict (``rule_result.evidence``) as one Spanish line.

The rules store small JSON facts with every result (oportunos: ``last_update``, ``last_update_source``,
``frequency``…; integrales: ``completeness`` and ``items``; libre_uso: ``license_id`` and ``category``…). This module
turns them into text generically: a label per known key (``LABELS``), a few value vocabularies (``VALUES``), and
the key itself, spaced, for keys it does not know. Noisy keys (per-resource ``detail`` lists, the metadata key a
value was found under) are skipped (``SKIP``). Values come from the portal: callers escape them (the templates
autoescape).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from reports.format import fmt_date, fmt_int, fmt_num, fmt_pct, truncate

#: keys left out of the line: per-resource lists (the findings name the resources), where a value was found
SKIP = frozenset({
    "detail", "frequency_key", "temporal_key", "spatial_key", "matched_by", "matched_value", "retired",
    "harvest_key", "last_update_source",  # shown with last_update
    "last_update_evidence",  # the same source in a sentence
    "mandatory_items",  # the same list for every dataset: the methods annex states the Guía's mandatory metadata
})

#: Spanish label per evidence key, in the order the line shows them
LABELS: dict[str, str] = {
    # oportunos
    "last_update": "última actualización",
    "age_days": "antigüedad",
    "frequency": "frecuencia declarada",
    "frequency_kind": "tipo de frecuencia",
    "period_days": "periodo",
    "harvested": "conjunto cosechado de otro catálogo",
    "ignored_future_dates": "fechas futuras descartadas",
    "ignored_http_last_modified": "fechas HTTP de última modificación descartadas",
    "regenerated": "archivos que cambian en cada descarga",
    # integrales
    "completeness": "completitud",
    "items": "elementos faltantes",
    "contradicted_by_content": "recursos que contradicen su diccionario de datos",
    # libre_uso
    "license_id": "licencia",
    "category": "tipo de licencia",
    # accesibles, gratuitos, no_discriminatorios, legibles, formatos
    "resources": "recursos",
    "data_resources": "recursos de datos",
    "checked": "consultados",
    "answered": "respondieron",
    "reachable": "con datos descargados",
    "landing_pages": "llevan a una página web (cuentan la mitad)",
    "reachable_data_resources": "recursos de datos descargados",
    "auth_required": "piden registro",
    "payment_signals": "señales de cobro",
    "readable": "legibles por máquinas",
    "open": "en formato abierto",
    # permanentes
    "history_runs": "revisiones anteriores comparadas",
    "resources_before": "recursos publicados antes",
    "kept": "conservados",
    "moved": "movidos",
    "lost": "perdidos",
    "never_available": "nunca disponibles",
    # primarios
    "sources": "fuente declarada",
    "derived": "productos derivados",
    "tabular_checked": "archivos tabulares revisados",
    "summary_only": "solo totales o resúmenes",
    # common
    "data": "archivos de datos",
    "no_evidence": "sin evidencia",
    "error": "error",
}

VALUES: dict[str, dict[str, str]] = {
    "last_update_source": {
        "last_modified": "fecha de modificación del recurso",
        "resource_last_modified": "fecha de modificación del recurso",
        "http_last_modified": "encabezado HTTP Last-Modified",
        "hash_change": "cambio de contenido detectado entre revisiones",
        "resource_created": "fecha de creación del recurso en el portal",
        "metadata_modified": "fecha de modificación de los metadatos, no de los datos",
        "metadata_created": "fecha de creación de los metadatos, no de los datos",
        "none": "sin fecha",
    },
    "data": {
        "obtained": "se obtuvo al menos uno", "none_obtained": "no se obtuvo ninguno",
        "no_resources": "el conjunto no tiene recursos",
    },
    "frequency_kind": {
        "periodic": "periódica", "continuous": "continua", "irregular": "irregular o eventual",
        "unknown": "no reconocida",
    },
    "category": {
        "attribution": "solo atribución", "public_domain": "dominio público", "share_alike": "compartir igual",
        "other_open": "otra licencia abierta", "non_commercial": "no comercial",
        "no_derivatives": "sin obras derivadas", "closed": "cerrada", "not_specified": "no especificada",
        "unknown": "no reconocida",
    },
}

#: names of the integrales items (``evidence["items"]``)
ITEM_LABELS = {
    "titulo": "título", "descripcion": "descripción", "etiquetas": "etiquetas", "grupo": "grupo o tema",
    "licencia": "licencia", "contacto": "contacto", "frecuencia": "frecuencia", "cobertura_temporal":
    "cobertura temporal", "cobertura_espacial": "cobertura espacial", "recursos_descritos": "recursos descritos",
    "diccionario": "diccionario de datos", "contenido_tabular": "contenido de los archivos",
    "modificacion": "fecha de modificación", "pagina_de_acceso": "página de acceso",
    "recursos_descarga": "URL y formato de cada recurso",
}

#: why oportunos ignored an HTTP Last-Modified (``evidence["ignored_http_last_modified"]``: "resource: ISO (reason)")
IGNORED_HTTP_ES = {
    "generated": "el servidor la pone en cada respuesta",
    "unchanged": "el contenido no cambió desde una revisión anterior",
}
_IGNORED_HTTP = re.compile(r"^(?P<res>.*): (?P<when>\S+) \((?P<why>[a-z_]+)\)$")

MAX_CHARS = 260
_VALUE_CHARS = 80


def _parse_date(value: Any) -> date | None:
    """The calendar date as the rule recorded it (no time-zone shift: a source date «2026-10-01» is stored as
    midnight UTC and must not become 30 September in Mexico City)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _number(value: float) -> str:
    return fmt_int(value) if float(value).is_integer() else fmt_num(value, 1)


def _days(value: Any, whole: bool = False) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = round(value) if whole else round(value, 1)
    return f"{_number(value)} {'día' if value == 1 else 'días'}"


def _last_update(value: Any, evidence: Mapping[str, Any]) -> str | None:
    if not value:
        return "sin fecha registrada"
    when = _parse_date(value)
    text = fmt_date(when) if when is not None else truncate(value, _VALUE_CHARS)
    source = evidence.get("last_update_source")
    if source and source != "none":
        text += f" (según {_source_text(str(source))})"
    return text


def _source_text(source: str) -> str:
    """Where oportunos took the date from: a known source, or the metadata field of the resource / dataset."""
    known = VALUES["last_update_source"].get(source)
    if known:
        return known
    if source.startswith("resource_"):
        return f"el campo {truncate(source.removeprefix('resource_'), 40)} del recurso"
    return f"el campo {truncate(source, 40)} del conjunto"


def _frequency(value: Any, _evidence: Mapping[str, Any]) -> str | None:
    from reports.wording import frequency_text

    if value in (None, ""):
        return "ninguna"
    return (frequency_text(value) if isinstance(value, str) else None) or _plain("frequency", value)


def _harvested(value: Any, _evidence: Mapping[str, Any]) -> str | None:
    """oportunos stores the metadata key that marks a harvested dataset (or None / False)."""
    return "sí" if value else None


def _completeness(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return fmt_pct(100.0 * value if value <= 1 else value)


def _items(value: Any) -> str | None:
    """integrales items below 1: "frecuencia, cobertura temporal, contenido de los archivos (50 %)"; "ninguno"."""
    if not isinstance(value, Mapping):
        return None
    missing = []
    for key, share in value.items():
        if isinstance(share, bool) or not isinstance(share, int | float) or share >= 1:
            continue
        label = ITEM_LABELS.get(str(key), str(key).replace("_", " "))
        missing.append(label if share <= 0 else f"{label} ({fmt_pct(100.0 * share, 0)})")
    return ", ".join(missing) if missing else "ninguno"


def _ignored_http(value: Any) -> str | None:
    """«Archivo 1: 5 de diciembre de 2026 (el servidor la pone en cada respuesta)»."""
    if not isinstance(value, list):
        return None
    shown = []
    for item in value[:5]:
        m = _IGNORED_HTTP.match(str(item))
        if m is None:
            shown.append(f"«{truncate(item, _VALUE_CHARS)}»")
            continue
        when = _parse_date(m["when"])
        why = IGNORED_HTTP_ES.get(m["why"], "descartada")
        shown.append(f"«{truncate(m['res'], 60)}»: {fmt_date(when) if when else truncate(m['when'], 30)} ({why})")
    return "; ".join(shown) + (f" y {len(value) - 5} más" if len(value) > 5 else "")


_SPECIAL: dict[str, Callable[[Any, Mapping[str, Any]], str | None]] = {
    "last_update": _last_update,
    "frequency": _frequency,
    "harvested": _harvested,
    "age_days": lambda v, _e: _days(v, whole=True),
    "period_days": lambda v, _e: _days(v),
    "completeness": lambda v, _e: _completeness(v),
    "items": lambda v, _e: _items(v),
    "ignored_http_last_modified": lambda v, _e: _ignored_http(v),
}


def _plain(key: str, value: Any) -> str | None:
    """A value without a special format: vocabulary word, number, yes/no, text, or a list of scalars."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        from reports.wording import CODES_ES

        return VALUES.get(key, {}).get(value) or CODES_ES.get(value) or f"«{truncate(value, _VALUE_CHARS)}»"
    if isinstance(value, list | tuple) and value and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(f"«{truncate(v, _VALUE_CHARS)}»" if isinstance(v, str) else _number(v) for v in value[:5]) + (
            f" y {len(value) - 5} más" if len(value) > 5 else "")
    return None  # nested objects: too noisy for one line (they are in scores.json)


def evidence_parts(evidence: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) pairs for the known and unknown scalar facts of one result, known keys first."""
    if not isinstance(evidence, Mapping):
        return []
    order = {k: i for i, k in enumerate(LABELS)}
    keys = sorted((k for k in evidence if isinstance(k, str) and k not in SKIP),
                  key=lambda k: (order.get(k, len(order)), k))
    out: list[tuple[str, str]] = []
    for key in keys:
        value = evidence[key]
        special = _SPECIAL.get(key)
        text = special(value, evidence) if special is not None else _plain(key, value)
        if text:
            out.append((LABELS.get(key, key.replace("_", " ")), text))
    return out


def evidence_line(evidence: Mapping[str, Any] | None, limit: int = MAX_CHARS) -> str:
    """One Spanish line: "última actualización: 8 de febrero de 2018 (según …); antigüedad: 3,213 días"."""
    return truncate("; ".join(f"{label}: {text}" for label, text in evidence_parts(evidence)), limit)
