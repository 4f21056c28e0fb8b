"""integrales — the dataset describes its subject in detail, with the necessary metadata (a completeness score)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from audit.evidence import ContentEvidence, DatasetContext
from rules import licenses
from rules._common import (
    RuleParams,
    as_text,
    doc_resources,
    find_all_metadata,
    find_metadata,
    is_blank,
    make_result,
    normalize_format,
    retired_result,
    short,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "integrales"
EMPTY = "(vacío)"

FREQUENCY_KEYS = [
    "frequency", "accrualPeriodicity", "accrual_periodicity", "update_frequency", "frecuencia", "periodicidad",
    "frecuencia_actualizacion", "frecuencia_de_actualizacion", "periodicidad_actualizacion",
]
TEMPORAL_KEYS = [
    "temporal", "temporal_coverage", "cobertura_temporal", "periodo", "temporal_start", "temporal_end",
    "temporal_coverage_from", "temporal_coverage_to", "periodo_cobertura", "fecha_inicio_cobertura",
]
SPATIAL_KEYS = [
    "spatial", "spatial_coverage", "cobertura_espacial", "cobertura_geografica", "spatial_text",
    "geographic_coverage", "ambito_geografico", "nivel_geografico", "area_geografica",
]
THEME_KEYS = ["theme", "themes", "tema", "temas", "categoria", "categorias", "category", "sector", "grupo"]
TAG_KEYS = ["keywords", "keyword", "palabras_clave", "etiquetas"]
CONTACT_KEYS = [
    "maintainer_email", "author_email", "contact_email", "contact_point_email", "contactPoint", "contact_point",
    "correo", "correo_contacto", "correo_electronico", "email", "email_contacto",
    # DCAT harvesters (ckanext-dcat JSON / RDF profiles), DCAT-AP and Project Open Data field names
    "publisher_email", "dcat_publisher_email", "contact_point_hasEmail", "contact_hasEmail", "hasEmail", "mbox",
    "creator_email", "responsable_email", "correo_responsable", "email_responsable",
]
DICTIONARY_KEYS = ["data_dictionary", "diccionario", "diccionario_datos", "diccionario_de_datos", "describedBy",
                   "conformsTo"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class Params(RuleParams):
    pass_threshold: float = Field(0.8, ge=0, le=1, description="Proporción mínima de elementos para «cumple».")
    partial_threshold: float = Field(0.5, ge=0, le=1, description="Proporción mínima para «cumple parcialmente».")
    min_description_chars: int = Field(100, ge=0, description="Caracteres mínimos de la descripción del conjunto.")
    frequency_keys: list[str] = Field(default_factory=lambda: list(FREQUENCY_KEYS),
                                      description="Claves de metadatos con la frecuencia de actualización.")
    temporal_keys: list[str] = Field(default_factory=lambda: list(TEMPORAL_KEYS),
                                     description="Claves de metadatos con la cobertura temporal.")
    spatial_keys: list[str] = Field(default_factory=lambda: list(SPATIAL_KEYS),
                                    description="Claves de metadatos con la cobertura espacial.")
    theme_keys: list[str] = Field(default_factory=lambda: list(THEME_KEYS),
                                  description="Claves de metadatos con el tema (además de los grupos de CKAN).")
    tag_keys: list[str] = Field(default_factory=lambda: list(TAG_KEYS),
                                description="Claves de metadatos con palabras clave (además de las etiquetas de CKAN).")
    contact_keys: list[str] = Field(default_factory=lambda: list(CONTACT_KEYS),
                                    description="Claves de metadatos donde buscar un correo de contacto.")
    dictionary_keys: list[str] = Field(default_factory=lambda: list(DICTIONARY_KEYS),
                                       description="Claves de metadatos que enlazan un diccionario de datos.")
    check_content: bool = Field(True, description="Incluir la validación del contenido (encabezado, columnas vacías o casi vacías, filas duplicadas, diccionario de datos, validaciones de la dependencia).")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Params:
        if self.partial_threshold > self.pass_threshold:
            raise ValueError("partial_threshold debe ser menor o igual que pass_threshold")
        return self


def _emails(value: Any) -> list[str]:
    return _EMAIL.findall(as_text(value))


def _has_list(value: Any) -> bool:
    return isinstance(value, list) and any(not is_blank(v.get("name") if isinstance(v, Mapping) else v) for v in value)


def _field_described(field: Any) -> bool:
    if not isinstance(field, Mapping):
        return False
    info = field.get("info")
    notes = info.get("notes") if isinstance(info, Mapping) else None
    return not is_blank(notes) or not is_blank(field.get("description"))


def _datastore_described(resource: Mapping[str, Any]) -> bool:
    """Datastore fields (or a Frictionless schema) with a description for at least one field."""
    for key in ("datastore_fields", "fields", "schema"):
        fields = resource.get(key)
        if isinstance(fields, Mapping):
            fields = fields.get("fields")
        if isinstance(fields, list) and any(_field_described(f) for f in fields):
            return True
    return False


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    ds = ctx.dataset
    items: dict[str, float] = {}
    findings: list[Finding] = []

    def check(item: str, ok: float | bool, finding: Finding | None = None) -> None:
        items[item] = float(ok)
        if float(ok) < 1.0 and finding is not None:
            findings.append(finding)

    title = as_text(ds.get("title"))
    check("titulo", bool(title), Finding("sin_titulo", "El conjunto no tiene título.",
                                         "Escriba un título que diga qué datos contiene, de dónde y de cuándo.", observed=EMPTY))
    # visible text only: HTML tags in the description do not count as description
    notes = re.sub(r"<[^>]+>", "", as_text(ds.get("notes") or ds.get("description"))).strip()
    check("descripcion", len(notes) >= params.min_description_chars, Finding(
        "descripcion_insuficiente",
        f"La descripción tiene {len(notes)} caracteres; se requieren al menos {params.min_description_chars}.",
        "Amplíe la descripción: qué mide, unidad de observación, periodo, cobertura y fuente.",
        observed=str(len(notes))))
    check("etiquetas", _has_list(ds.get("tags")) or find_metadata(ds, params.tag_keys) is not None, Finding(
        "sin_etiquetas", "El conjunto no tiene etiquetas (palabras clave).",
        "Agregue etiquetas que ayuden a encontrar el conjunto.", observed="0 etiquetas"))
    check("grupo", _has_list(ds.get("groups")) or find_metadata(ds, params.theme_keys) is not None, Finding(
        "sin_grupo", "El conjunto no pertenece a ningún grupo o tema.", "Asigne el conjunto al menos a un grupo temático.",
        observed="0 grupos"))
    lic = licenses.classify(ds.get("license_id") or ds.get("license_title") or ds.get("license_url"))
    check("licencia", lic != licenses.NOT_SPECIFIED, Finding(
        "sin_licencia", "El conjunto no declara una licencia de uso.",
        "Declare una licencia abierta, por ejemplo los Términos de Libre Uso MX o CC BY 4.0.",
        observed=str(ds.get("license_id") or "") or EMPTY))
    emails = [e for _, value in find_all_metadata(ds, params.contact_keys) for e in _emails(value)]
    check("contacto", bool(emails), Finding(
        "sin_contacto", "No hay un contacto con correo electrónico válido (responsable o autor).",
        "Registre el nombre y el correo institucional de la persona responsable del conjunto.",
        observed=short(ds.get("maintainer_email") or ds.get("author_email")) or EMPTY))
    freq = find_metadata(ds, params.frequency_keys)
    check("frecuencia", freq is not None, Finding(
        "sin_frecuencia", "No se declara la frecuencia de actualización.",
        "Declare la frecuencia de actualización (por ejemplo «mensual» o R/P1M).", observed=EMPTY))
    temporal = find_metadata(ds, params.temporal_keys)
    check("cobertura_temporal", temporal is not None, Finding(
        "sin_cobertura_temporal", "No se declara la cobertura temporal (periodo que abarcan los datos).",
        "Indique el periodo que cubren los datos, por ejemplo «2019-01/2024-12».", observed=EMPTY))
    spatial = find_metadata(ds, params.spatial_keys)
    check("cobertura_espacial", spatial is not None, Finding(
        "sin_cobertura_espacial", "No se declara la cobertura espacial (territorio que abarcan los datos).",
        "Indique el territorio que cubren los datos, por ejemplo «estatal, por municipio» o el nombre de la entidad "
        "y sus municipios.", observed=EMPTY))

    # every resource described: name, format, description
    incomplete: list[tuple[str, list[str]]] = []
    for ev in ctx.resources:
        res = ev.resource
        missing = [label for label, ok in (
            ("nombre", not is_blank(res.get("name"))),
            ("formato", bool(normalize_format(res.get("format")))),
            ("descripción", not is_blank(res.get("description"))),
        ) if not ok]
        if missing:
            incomplete.append((ev.label, missing))
    if not ctx.resources:
        check("recursos_descritos", False, Finding(
            "sin_recursos", "El conjunto no tiene recursos que describir.", "Publique los archivos de datos del conjunto.",
            observed="0 recursos"))
    else:
        check("recursos_descritos", not incomplete)
        for label, missing in incomplete:
            findings.append(Finding(
                "recurso_sin_metadatos", f"Al recurso le falta: {', '.join(missing)}.",
                "Complete el nombre, el formato y la descripción de cada recurso.", resource=label,
                observed=", ".join(missing)))

    has_dictionary = (
        bool(doc_resources(ctx, params))
        or any(_datastore_described(ev.resource) for ev in ctx.resources)
        or find_metadata(ds, params.dictionary_keys) is not None
    )
    check("diccionario", has_dictionary, Finding(
        "sin_diccionario", "No se publica un diccionario de datos (descripción de cada campo).",
        "Publique un diccionario de datos con el nombre, tipo y descripción de cada columna.", observed="ninguno"))

    if params.check_content:
        tabular = [ev for ev in ctx.resources if ev.content is not None and ev.content.parsed_ok]
        if tabular:
            quality = 0.0
            for ev in tabular:
                content = ev.content
                assert content is not None
                file_findings, file_score = content_findings(content, ev.label)
                findings.extend(file_findings)
                quality += file_score
            items["contenido_tabular"] = quality / len(tabular)

    completeness = sum(items.values()) / len(items)
    if completeness >= params.pass_threshold:
        status = Status.PASS
    elif completeness >= params.partial_threshold:
        status = Status.PARTIAL
    else:
        status = Status.FAIL
    evidence = {
        "completeness": round(completeness, 4),
        "items": {k: round(v, 4) for k, v in items.items()},
        "frequency_key": freq[0] if freq else None,
        "temporal_key": temporal[0] if temporal else None,
        "spatial_key": spatial[0] if spatial else None,
    }
    return make_result(ID, status, score=completeness, findings=findings, evidence=evidence)


def content_findings(content: ContentEvidence, label: str) -> tuple[list[Finding], float]:
    """What the content checks say about one file's completeness, and its share of the content item:
    1 complete; 0 with no header, an entirely empty column, a mismatch with its own data dictionary or a failed
    agency suite; ½ when columns are mostly empty or rows repeat (these can be legitimate: manual review)."""
    out: list[Finding] = []
    score = 1.0
    if content.has_header is False:
        score = 0.0
        out.append(Finding(
            "sin_encabezado", "El archivo no tiene una fila de encabezado con los nombres de las columnas.",
            "Agregue una primera fila con el nombre de cada columna.", resource=label,
            observed=f"{content.columns or 0} columnas sin nombre"))
    if content.empty_columns:
        score = 0.0
        out.append(Finding(
            "columnas_vacias", f"El archivo tiene {len(content.empty_columns)} columna(s) totalmente vacía(s).",
            "Elimine las columnas vacías o complete sus datos.", resource=label,
            observed=short(", ".join(content.empty_columns))))
    if content.dictionary_conformance is False:
        score = 0.0
        out.append(Finding(
            "no_coincide_con_diccionario",
            "El archivo no coincide con el diccionario de datos del propio conjunto (columnas faltantes o de otro tipo).",
            "Actualice el archivo o el diccionario para que describan las mismas columnas con el mismo tipo.",
            resource=label, observed=short(_dictionary_mismatch(content.expectations)) or None))
    if content.agency_success is False:
        score = 0.0
        out.append(Finding(
            "validaciones_de_la_dependencia",
            "El archivo no cumple las validaciones de calidad definidas para este conjunto.",
            "Corrija los registros señalados (el detalle está en «Validaciones propias de la dependencia»).",
            resource=label, observed=short(_agency_failures(content.expectations)) or None))
    if content.null_share:
        score = min(score, 0.5)
        worst = sorted(content.null_share.items(), key=lambda kv: -kv[1])
        out.append(Finding(
            "columnas_casi_vacias",
            f"{len(worst)} columna(s) tienen más de la mitad de sus valores vacíos.",
            "Complete los valores faltantes o explique en el diccionario de datos por qué faltan.",
            resource=label, observed=short(", ".join(f"{c} ({v:.0%})" for c, v in worst)), manual_review=True))
    if "duplicate_rows" in content.problems:
        score = min(score, 0.5)
        share = content.duplicate_share or 0.0
        out.append(Finding(
            "filas_duplicadas", f"El {share:.0%} de las filas repite exactamente otra fila del archivo.",
            "Elimine los registros repetidos o agregue la columna que los distingue (folio, fecha, clave).",
            resource=label, observed=f"{share:.1%}", manual_review=True))
    return out, score


def _dictionary_mismatch(expectations: Mapping[str, Any]) -> str:
    suite = next((s for s in expectations.get("suites") or [] if isinstance(s, Mapping) and s.get("source") == "dictionary"), None)
    if not suite:
        return ""
    missing: list[str] = []
    wrong_type: list[str] = []
    for r in suite.get("failed") or []:
        if not isinstance(r, Mapping):
            continue
        check = (r.get("meta") or {}).get("check")
        if check == "dictionary_columns":
            mismatched = ((r.get("result") or {}).get("details") or {}).get("mismatched") or {}
            missing.extend(str(c) for c in mismatched.get("missing") or [])
        elif check == "dictionary_type":
            wrong_type.append(f"{(r.get('kwargs') or {}).get('column')} (se esperaba {(r.get('meta') or {}).get('kind')})")
    parts = []
    if missing:
        parts.append("faltan: " + ", ".join(missing))
    if wrong_type:
        parts.append("tipo distinto: " + ", ".join(wrong_type))
    return "; ".join(parts)


def _agency_failures(expectations: Mapping[str, Any]) -> str:
    parts = []
    for suite in expectations.get("suites") or []:
        if not isinstance(suite, Mapping) or suite.get("source") != "agency" or suite.get("success"):
            continue
        failed = [f"{r.get('type')}({(r.get('kwargs') or {}).get('column', '')})" for r in suite.get("failed") or []
                  if isinstance(r, Mapping)]
        invalid = [f"{i.get('type') or 'suite'}: {i.get('error')}" for i in suite.get("invalid") or [] if isinstance(i, Mapping)]
        parts.append(f"{suite.get('name')}: " + ", ".join(failed + invalid))
    return "; ".join(parts)


RULE = Rule(
    id=ID,
    title_es="Integrales",
    description_es=(
        "Proporción de elementos presentes: título; descripción de al menos 100 caracteres; al menos una etiqueta; "
        "al menos un grupo o tema; licencia; contacto con correo válido; frecuencia de actualización; cobertura "
        "temporal; cobertura espacial; cada recurso con nombre, formato y descripción; diccionario de datos; y, "
        "cuando hay validación de contenido, archivos tabulares completos: con encabezado, sin columnas vacías, "
        "conformes con su propio diccionario de datos y con las validaciones que la dependencia haya definido "
        "(columnas con más de la mitad de valores vacíos o filas repetidas cuentan la mitad y piden revisión "
        "manual). Cumple con "
        "≥ 80 %, cumple parcialmente con ≥ 50 %. Los metadatos se buscan en los campos de CKAN, en campos de "
        "primer nivel (ckanext-scheming) y en «extras», con claves en español e inglés."
    ),
    evaluate=evaluate,
    params_model=Params,
)
