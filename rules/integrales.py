"""integrales — the dataset describes its subject in detail, with the necessary metadata (a completeness score)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from audit.evidence import ContentEvidence, DatasetContext, ResourceEvidence
from rules import licenses
from rules._common import (
    NO_DATA_RESOURCES,
    NO_RESOURCES,
    NONE_OBTAINED,
    RuleParams,
    as_text,
    data_availability,
    doc_resources,
    find_all_metadata,
    find_metadata,
    is_blank,
    make_result,
    no_data_finding,
    normalize_format,
    retired_result,
    short,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "integrales"


class Code(StrEnum):
    COLUMNAS_CASI_VACIAS = "columnas_casi_vacias"
    COLUMNAS_VACIAS = "columnas_vacias"
    DESCRIPCION_INSUFICIENTE = "descripcion_insuficiente"
    FILAS_DUPLICADAS = "filas_duplicadas"
    NO_COINCIDE_CON_DICCIONARIO = "no_coincide_con_diccionario"
    POCAS_FILAS_FUERA_DEL_DICCIONARIO = "pocas_filas_fuera_del_diccionario"
    RECURSO_SIN_METADATOS = "recurso_sin_metadatos"
    SIN_COBERTURA_ESPACIAL = "sin_cobertura_espacial"
    SIN_COBERTURA_TEMPORAL = "sin_cobertura_temporal"
    SIN_CONTACTO = "sin_contacto"
    SIN_DICCIONARIO = "sin_diccionario"
    SIN_ENCABEZADO = "sin_encabezado"
    SIN_ETIQUETAS = "sin_etiquetas"
    SIN_FECHA_MODIFICACION = "sin_fecha_modificacion"
    SIN_FRECUENCIA = "sin_frecuencia"
    SIN_GRUPO = "sin_grupo"
    SIN_LICENCIA = "sin_licencia"
    SIN_PAGINA_DE_ACCESO = "sin_pagina_de_acceso"
    SIN_TITULO = "sin_titulo"
    VALIDACIONES_DE_LA_DEPENDENCIA = "validaciones_de_la_dependencia"


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
#: the source's modification date of the data (the Guía's ``modified``); CKAN's own metadata_modified is not it
MODIFIED_KEYS = [
    "dcat_modified", "modified", "modified_date", "date_modified", "dateModified", "last_updated",
    "fecha_modificacion", "fecha_de_modificacion", "fecha_ultima_modificacion", "fecha_actualizacion",
    "fecha_de_actualizacion", "fecha_ultima_actualizacion", "ultima_actualizacion",
]
#: where the data are presented (the Guía's ``landingPage``; ckanext-dcat maps it from CKAN's ``url`` field)
LANDING_PAGE_KEYS = ["landingPage", "landing_page", "url", "pagina_web", "pagina_de_acceso", "url_pagina",
                     "sitio_web", "pagina"]
#: resource fields with a modification date
RESOURCE_MODIFIED_KEYS = ["last_modified", "modified", "dcat_modified"]
#: items that are mandatory metadata of the federal Guía de Implementación de la Política de Datos Abiertos
#: (identifier is CKAN's own id: always present, not counted)
MANDATORY_ITEMS = ("titulo", "descripcion", "contacto", "frecuencia", "modificacion", "pagina_de_acceso",
                   "recursos_descarga", "diccionario")

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
    modified_keys: list[str] = Field(default_factory=lambda: list(MODIFIED_KEYS),
                                     description="Claves de metadatos con la fecha de modificación de los datos (modified).")
    landing_page_keys: list[str] = Field(default_factory=lambda: list(LANDING_PAGE_KEYS),
                                         description="Claves de metadatos con la página de acceso al conjunto (landingPage).")
    mandatory_weight: float = Field(
        2.0, ge=1,
        description="Peso de cada metadato obligatorio de la Guía de Implementación (título, descripción, contacto con "
                    "correo, frecuencia, fecha de modificación, página de acceso, URL y formato de cada recurso, "
                    "diccionario de datos); los opcionales pesan 1.")
    dictionary_type_tolerance: float = Field(
        0.01, ge=0, le=1,
        description="Proporción de filas de una columna que puede no tener el tipo que declara el diccionario (p. ej. "
                    "una fila de Total) sin que el archivo se considere en contradicción con su diccionario.")
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
    available = data_availability(ctx, params)

    def check(item: str, ok: float | bool, finding: Finding | None = None) -> None:
        items[item] = float(ok)
        if float(ok) < 1.0 and finding is not None:
            findings.append(finding)

    title = as_text(ds.get("title"))
    check("titulo", bool(title), Finding(Code.SIN_TITULO, "El conjunto no tiene título.",
                                         "Escriba un título que diga qué datos contiene, de dónde y de cuándo.", observed=EMPTY))
    # visible text only: HTML tags in the description do not count as description
    notes = re.sub(r"<[^>]+>", "", as_text(ds.get("notes") or ds.get("description"))).strip()
    check("descripcion", len(notes) >= params.min_description_chars, Finding(
        Code.DESCRIPCION_INSUFICIENTE,
        f"La descripción tiene {len(notes)} caracteres; se requieren al menos {params.min_description_chars}.",
        "Amplíe la descripción: qué mide, unidad de observación, periodo, cobertura y fuente.",
        observed=str(len(notes))))
    check("etiquetas", _has_list(ds.get("tags")) or find_metadata(ds, params.tag_keys) is not None, Finding(
        Code.SIN_ETIQUETAS, "El conjunto no tiene etiquetas (palabras clave).",
        "Agregue etiquetas que ayuden a encontrar el conjunto.", observed="0 etiquetas"))
    check("grupo", _has_list(ds.get("groups")) or find_metadata(ds, params.theme_keys) is not None, Finding(
        Code.SIN_GRUPO, "El conjunto no pertenece a ningún grupo o tema.", "Asigne el conjunto al menos a un grupo temático.",
        observed="0 grupos"))
    lic = licenses.classify(ds.get("license_id") or ds.get("license_title") or ds.get("license_url"))
    check("licencia", lic != licenses.NOT_SPECIFIED, Finding(
        Code.SIN_LICENCIA, "El conjunto no declara una licencia de uso.",
        "Declare una licencia abierta, por ejemplo los Términos de Libre Uso MX o CC BY 4.0.",
        observed=str(ds.get("license_id") or "") or EMPTY))
    emails = [e for _, value in find_all_metadata(ds, params.contact_keys) for e in _emails(value)]
    check("contacto", bool(emails), Finding(
        Code.SIN_CONTACTO, "No hay un contacto con correo electrónico válido (responsable o autor).",
        "Registre el nombre y el correo institucional de la persona responsable del conjunto.",
        observed=short(ds.get("maintainer_email") or ds.get("author_email")) or EMPTY))
    freq = find_metadata(ds, params.frequency_keys)
    check("frecuencia", freq is not None, Finding(
        Code.SIN_FRECUENCIA, "No se declara la frecuencia de actualización.",
        "Declare la frecuencia de actualización (por ejemplo «mensual» o R/P1M).", observed=EMPTY))
    modified = find_metadata(ds, params.modified_keys) or next(
        ((f"{k} ({ev.label})", ev.resource.get(k)) for ev in ctx.resources for k in RESOURCE_MODIFIED_KEYS
         if not is_blank(ev.resource.get(k))), None)
    check("modificacion", modified is not None, Finding(
        Code.SIN_FECHA_MODIFICACION, "No se declara la fecha de última modificación de los datos (modified).",
        "Registre la fecha de la última modificación de los datos en el conjunto o en cada recurso.", observed=EMPTY))
    landing = find_metadata(ds, params.landing_page_keys)
    check("pagina_de_acceso", landing is not None, Finding(
        Code.SIN_PAGINA_DE_ACCESO, "No se declara la página de acceso al conjunto (landingPage).",
        "Registre la URL de la página donde la dependencia presenta el conjunto (campo «url» o landingPage).",
        observed=EMPTY))
    temporal = find_metadata(ds, params.temporal_keys)
    check("cobertura_temporal", temporal is not None, Finding(
        Code.SIN_COBERTURA_TEMPORAL, "No se declara la cobertura temporal (periodo que abarcan los datos).",
        "Indique el periodo que cubren los datos, por ejemplo «2019-01/2024-12».", observed=EMPTY))
    spatial = find_metadata(ds, params.spatial_keys)
    check("cobertura_espacial", spatial is not None, Finding(
        Code.SIN_COBERTURA_ESPACIAL, "No se declara la cobertura espacial (territorio que abarcan los datos).",
        "Indique el territorio que cubren los datos, por ejemplo «estatal, por municipio» o el nombre de la entidad "
        "y sus municipios.", observed=EMPTY))

    # every resource: URL and format (downloadURL, mediaType: mandatory), name and description
    incomplete: list[tuple[ResourceEvidence, list[str]]] = []
    no_download = undescribed = 0
    for ev in ctx.resources:
        res = ev.resource
        download = [label for label, ok in (
            ("URL", not is_blank(res.get("url"))),
            ("formato", bool(normalize_format(res.get("format")) or normalize_format(res.get("mimetype")))),
        ) if not ok]
        described = [label for label, ok in (
            ("nombre", not is_blank(res.get("name"))),
            ("descripción", not is_blank(res.get("description"))),
        ) if not ok]
        missing = download + described
        no_download += bool(download)
        undescribed += bool(described)
        if missing:
            incomplete.append((ev, missing))
    if not ctx.resources:
        check("recursos_descarga", False)
        check("recursos_descritos", False)  # the finding is the «sin_recursos» added below
    else:
        check("recursos_descarga", not no_download)
        check("recursos_descritos", not undescribed)
        for incomplete_ev, missing in incomplete:
            findings.append(Finding(
                Code.RECURSO_SIN_METADATOS, f"Al recurso le falta: {', '.join(missing)}.",
                "Complete la URL de descarga, el formato, el nombre y la descripción de cada recurso.",
                resource=incomplete_ev.label, resource_id=incomplete_ev.id, observed=", ".join(missing)))

    has_dictionary = (
        bool(doc_resources(ctx, params))
        or any(_datastore_described(ev.resource) for ev in ctx.resources)
        or find_metadata(ds, params.dictionary_keys) is not None
    )
    check("diccionario", has_dictionary, Finding(
        Code.SIN_DICCIONARIO, "No se publica un diccionario de datos (descripción de cada campo).",
        "Publique un diccionario de datos con el nombre, tipo y descripción de cada columna.", observed="ninguno"))

    contradicted: list[str] = []  # files that contradict their own dictionary or the agency's suite
    if params.check_content:
        tabular = [ev for ev in ctx.resources if ev.content is not None and ev.content.parsed_ok]
        if tabular:
            quality = 0.0
            for ev in tabular:
                content = ev.content
                assert content is not None
                file_findings, file_score = content_findings(content, ev.label, params.dictionary_type_tolerance)
                findings.extend(replace(f, resource_id=ev.id) for f in file_findings)
                quality += file_score
                if contradicts(content, params.dictionary_type_tolerance):
                    contradicted.append(ev.label)
            items["contenido_tabular"] = quality / len(tabular)

    weights = {k: params.mandatory_weight if k in MANDATORY_ITEMS else 1.0 for k in items}
    completeness = sum(weights[k] * v for k, v in items.items()) / sum(weights.values())
    if completeness >= params.pass_threshold:
        status = Status.PASS
    elif completeness >= params.partial_threshold:
        status = Status.PARTIAL
    else:
        status = Status.FAIL
    if contradicted and status is Status.PASS:
        status = Status.PARTIAL  # the gathered evidence contradicts the file: complete metadata cannot outweigh it
    if available in (NO_RESOURCES, NO_DATA_RESOURCES, NONE_OBTAINED):
        status = Status.FAIL  # metadata without obtainable data do not contain the subject they describe
        findings.insert(0, no_data_finding(
            available, "Sin datos que contengan el tema descrito, los metadatos por sí solos no hacen al conjunto "
            "integral.", ctx))
    evidence = {
        "completeness": round(completeness, 4),
        "items": {k: round(v, 4) for k, v in items.items()},
        "mandatory_items": [k for k in items if k in MANDATORY_ITEMS],
        "data": available,
        "contradicted_by_content": contradicted,
        "frequency_key": freq[0] if freq else None,
        "temporal_key": temporal[0] if temporal else None,
        "spatial_key": spatial[0] if spatial else None,
    }
    return make_result(ID, status, score=completeness, findings=findings, evidence=evidence)


def _dictionary_suite(expectations: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The result of the suite built from the dataset's own data dictionary, if one ran."""
    return next((x for x in expectations.get("suites") or [] if isinstance(x, Mapping) and x.get("source") == "dictionary"),
                None)


def _failed_agency_suites(expectations: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [x for x in expectations.get("suites") or []
            if isinstance(x, Mapping) and x.get("source") == "agency" and not x.get("success")]


def _minor_dictionary_mismatch(content: ContentEvidence, tolerance: float) -> bool:
    """Only type mismatches, each on at most ``tolerance`` of the rows checked (a Total row, one typo)."""
    suite = _dictionary_suite(content.expectations or {})
    failed = [r for r in (suite or {}).get("failed") or [] if isinstance(r, Mapping)]
    if not failed:
        return False
    for r in failed:
        pct = (r.get("result") or {}).get("unexpected_percent")
        if (r.get("meta") or {}).get("check") != "dictionary_type" or not isinstance(pct, (int, float)):
            return False
        if pct > tolerance * 100:
            return False
    return True


def contradicts(content: ContentEvidence, tolerance: float = 0.01) -> bool:
    """The gathered evidence contradicts the file: a failed agency suite, or a mismatch with the dataset's own
    data dictionary (declared columns missing, or a column of another type beyond ``tolerance`` of its rows)."""
    if content.agency_success is False:
        return True
    return content.dictionary_conformance is False and not _minor_dictionary_mismatch(content, tolerance)


def content_findings(content: ContentEvidence, label: str, tolerance: float = 0.01) -> tuple[list[Finding], float]:
    """What the content checks say about one file's completeness, and its share of the content item:
    1 complete; 0 with no header, an entirely empty column, a mismatch with its own data dictionary or a failed
    agency suite; ½ when columns are mostly empty, rows repeat, or a few rows (≤ ``tolerance``) break the types
    the dictionary declares (these can be legitimate: manual review)."""
    out: list[Finding] = []
    score = 1.0
    minor = content.dictionary_conformance is False and _minor_dictionary_mismatch(content, tolerance)
    if content.has_header is False:
        score = 0.0
        out.append(Finding(
            Code.SIN_ENCABEZADO, "El archivo no tiene una fila de encabezado con los nombres de las columnas.",
            "Agregue una primera fila con el nombre de cada columna.", resource=label,
            observed=f"{content.columns or 0} columnas sin nombre"))
    if content.empty_columns:
        score = 0.0
        out.append(Finding(
            Code.COLUMNAS_VACIAS, f"El archivo tiene {len(content.empty_columns)} columna(s) totalmente vacía(s).",
            "Elimine las columnas vacías o complete sus datos.", resource=label,
            observed=short(", ".join(content.empty_columns))))
    if minor:
        score = 0.5
        out.append(Finding(
            Code.POCAS_FILAS_FUERA_DEL_DICCIONARIO,
            "Unas pocas filas no tienen el tipo que declara el diccionario de datos: "
            + _dictionary_detail(content.expectations) + ".",
            "Revise esas filas (por ejemplo, una fila de totales o un valor mal capturado) y corríjalas.",
            resource=label, observed=short(_dictionary_mismatch(content.expectations)) or None, manual_review=True))
    elif content.dictionary_conformance is False:
        score = 0.0
        out.append(Finding(
            Code.NO_COINCIDE_CON_DICCIONARIO,
            "El archivo no coincide con el diccionario de datos del propio conjunto: "
            + (_dictionary_detail(content.expectations) or "columnas faltantes o de otro tipo") + ".",
            "Corrija el archivo para que tenga las columnas que declara el diccionario, con el tipo declarado, o "
            "actualice el diccionario si el archivo es el correcto.",
            resource=label, observed=short(_dictionary_mismatch(content.expectations)) or None))
    if content.agency_success is False:
        score = 0.0
        detail = _agency_detail(content.expectations)
        out.append(Finding(
            Code.VALIDACIONES_DE_LA_DEPENDENCIA,
            "El archivo no cumple las validaciones de calidad que la dependencia definió para este conjunto"
            + (f": {detail}" if detail else "") + ".",
            "Corrija los registros que no cumplen cada validación (los ejemplos indican cuáles) y vuelva a publicar "
            "el archivo; si una validación ya no aplica, actualice la suite de la dependencia.",
            resource=label, observed=short(_agency_failures(content.expectations), 300) or None))
    if content.null_share:
        score = min(score, 0.5)
        worst = sorted(content.null_share.items(), key=lambda kv: -kv[1])
        out.append(Finding(
            Code.COLUMNAS_CASI_VACIAS,
            f"{len(worst)} columna(s) tienen más de la mitad de sus valores vacíos.",
            "Complete los valores faltantes o explique en el diccionario de datos por qué faltan.",
            resource=label, observed=short(", ".join(f"{c} ({v:.0%})" for c, v in worst)), manual_review=True))
    if "duplicate_rows" in content.problems:
        score = min(score, 0.5)
        share = content.duplicate_share or 0.0
        out.append(Finding(
            Code.FILAS_DUPLICADAS, f"El {share:.0%} de las filas repite exactamente otra fila del archivo.",
            "Elimine los registros repetidos o agregue la columna que los distingue (folio, fecha, clave).",
            resource=label, observed=f"{share:.1%}", manual_review=True))
    return out, score


def _dictionary_mismatch(expectations: Mapping[str, Any]) -> str:
    suite = _dictionary_suite(expectations)
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
    for suite in _failed_agency_suites(expectations):
        failed = [f"{r.get('type')}({(r.get('kwargs') or {}).get('column', '')})" for r in suite.get("failed") or []
                  if isinstance(r, Mapping)]
        invalid = [f"{i.get('type') or 'suite'}: {i.get('error')}" for i in suite.get("invalid") or [] if isinstance(i, Mapping)]
        parts.append(f"{suite.get('name')}: " + ", ".join(failed + invalid))
    return "; ".join(parts)


def _rows_and_examples(result: Mapping[str, Any]) -> str:
    """«en el 56 % de las filas revisadas (ejemplos: «XAL», «NEZ»)» from a GX result, or ""."""
    parts = []
    pct = result.get("unexpected_percent")
    if isinstance(pct, (int, float)):
        count = result.get("unexpected_count")
        of = result.get("element_count")
        counted = f" ({count} de {of})" if isinstance(count, int) and isinstance(of, int) and of else ""
        parts.append(f"en el {pct:.1f} % de las filas revisadas{counted}".replace(".0 %", " %"))
    examples = [str(v) for v in result.get("partial_unexpected_list") or []][:3]
    if examples:
        parts.append("ejemplos: " + ", ".join(f"«{short(v, 30)}»" for v in examples))
    return "; ".join(parts)


def _describe_failure(item: Mapping[str, Any]) -> str:
    """One failed expectation in Spanish: which expectation, on which column, on what share of rows, examples."""
    kwargs = item.get("kwargs") or {}
    column = kwargs.get("column")
    where = f" en la columna «{column}»" if column else ""
    how = _rows_and_examples(item.get("result") or {})
    observed = (item.get("result") or {}).get("observed_value")
    if not how and observed is not None and not isinstance(observed, (dict, list)):
        how = f"valor observado {short(observed, 40)}"
    return f"«{item.get('type')}»{where}" + (f" falla {how}" if how else " falla")


def _dictionary_detail(expectations: Mapping[str, Any]) -> str:
    suite = _dictionary_suite(expectations)
    if not suite:
        return ""
    parts = []
    for r in suite.get("failed") or []:
        if not isinstance(r, Mapping):
            continue
        meta = r.get("meta") or {}
        if meta.get("check") == "dictionary_columns":
            missing = (((r.get("result") or {}).get("details") or {}).get("mismatched") or {}).get("missing") or []
            if missing:
                parts.append("faltan las columnas declaradas " + ", ".join(f"«{c}»" for c in missing))
        elif meta.get("check") == "dictionary_type":
            column = (r.get("kwargs") or {}).get("column")
            kind = {"numeric": "numérica", "date": "de fecha"}.get(str(meta.get("kind")), str(meta.get("kind")))
            how = _rows_and_examples(r.get("result") or {})
            parts.append(f"la columna «{column}» no es {kind} como declara el diccionario" + (f" ({how})" if how else ""))
    return "; ".join(parts)


def _agency_detail(expectations: Mapping[str, Any]) -> str:
    parts = []
    for suite in _failed_agency_suites(expectations):
        failed = [_describe_failure(r) for r in suite.get("failed") or [] if isinstance(r, Mapping)]
        for i in suite.get("invalid") or []:
            if not isinstance(i, Mapping):
                continue
            if i.get("error") == "column_missing":
                failed.append(f"«{i.get('type')}» se refiere a la columna «{i.get('column')}», que el archivo no tiene")
            else:
                failed.append(f"una validación no se pudo aplicar ({short(i.get('error'), 80)})")
        parts.append(f"suite «{suite.get('name')}»: " + "; ".join(failed))
    return " / ".join(parts)


RULE = Rule(
    id=ID,
    title_es="Integrales",
    short_title_es="Int",
    description_es=(
        "Proporción ponderada de elementos presentes. Pesan el doble los metadatos obligatorios de la Guía de "
        "Implementación de la Política de Datos Abiertos: título, descripción de al menos 100 caracteres, contacto con "
        "correo válido, frecuencia de actualización, fecha de modificación, página de acceso, URL y formato de cada "
        "recurso y diccionario de datos; pesan uno etiquetas, grupo o tema, licencia, coberturas temporal y espacial, "
        "nombre y descripción de cada recurso y, cuando hay validación de contenido, archivos tabulares completos. "
        "Cumple con ≥ 80 %, cumple parcialmente con ≥ 50 %. Un archivo que no coincide con su propio diccionario de "
        "datos o que no pasa las validaciones de la dependencia impide cumplir (a lo más, parcial). Sin recursos o sin "
        "ningún archivo de datos obtenible, no cumple: los metadatos solos no hacen integral al conjunto. Los "
        "metadatos se buscan en los campos de CKAN, en campos de primer nivel (ckanext-scheming) y en «extras», con "
        "claves en español e inglés."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
