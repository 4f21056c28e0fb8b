"""primarios — the data come from the original source, at the maximum disaggregation possible.

Heuristics, documented as such for evaluators:
1. the publisher is the source: no ``fuente``/``source`` metadata naming another body;
2. tabular data are record-level (content checks): enough rows, no Total/Subtotal summary rows, and
   disaggregation keys (dates, INEGI state/municipality codes, identifiers);
3. not only derived products (PDF reports, images, documents, links to dashboards).
Uncertain cases carry "requiere revisión manual".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from audit.evidence import ContentEvidence, DatasetContext
from audit.vocabulary import PERSONAL_DATA_KINDS_ES, SUMMARY_REGEX
from rules._common import (
    RuleParams,
    SharedCode,
    as_text,
    contains_word,
    data_resources,
    effective_type,
    find_all_metadata,
    fold,
    make_result,
    retired_result,
    short,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "primarios"


class Code(StrEnum):
    FILAS_DE_TOTALES = "filas_de_totales"
    FUENTE_EXTERNA = "fuente_externa"
    FUENTE_POR_REVISAR = "fuente_por_revisar"
    NADA_DESCARGABLE = "nada_descargable"
    POCOS_REGISTROS = "pocos_registros"
    POSIBLES_DATOS_PERSONALES = "posibles_datos_personales"
    SIN_CLAVES_DESAGREGACION = "sin_claves_desagregacion"
    SOLO_PRODUCTOS_DERIVADOS = "solo_productos_derivados"
    SOLO_RESUMEN = "solo_resumen"


SOURCE_KEYS = ["fuente", "source", "origen", "fuente_informacion", "fuente_de_informacion", "fuente_datos",
               "fuente_de_los_datos", "data_source", "origen_datos", "origen_de_los_datos", "dct_source"]
SELF_SOURCE_WORDS = ["propia", "propio", "elaboracion propia", "esta dependencia", "este organismo", "esta secretaria",
                     "registros administrativos propios", "registros propios", "own", "self"]
DERIVED_TYPES = ["pdf", "doc", "docx", "odt", "rtf", "ppt", "pptx", "png", "jpeg", "gif", "tiff", "svg", "html",
                 "text"]
STOPWORDS = ["de", "del", "la", "las", "el", "los", "y", "e", "en", "para", "por", "a", "al", "con", "estado",
             "mexico", "gobierno", "edomex", "the", "of", "and", "secretaria", "instituto", "direccion", "general",
             "coordinacion", "unidad", "consejo", "comision", "sistema", "organismo", "publico", "datos",
             "informacion", "elaborado", "elaboracion", "con", "base", "fuente", "source"]
#: words that place the source in another order of government or a known national producer
EXTERNAL_MARKERS = ["federal", "nacional", "gobierno de mexico", "gobierno de la republica", "inegi", "conapo",
                    "coneval", "imss", "issste", "banxico", "banco de mexico", "sesnsp", "secretariado ejecutivo",
                    "cofepris", "conagua", "semarnat", "sep federal", "dgis", "municipal", "ayuntamiento"]


#: the remedy for aggregated data: the law asks for the greatest disaggregation *possible*, which stops where
#: personal or reserved information would be disclosed (never simply "publish the individual records")
DISAGGREGATE_ES = (
    "Publique los datos con el mayor nivel de desagregación posible (por ejemplo por municipio, fecha o unidad "
    "administrativa), sin incluir datos personales ni información reservada o confidencial; si la protección de "
    "esos datos impide desagregar más, explíquelo en la descripción del conjunto."
)


class Params(RuleParams):
    source_keys: list[str] = Field(default_factory=lambda: list(SOURCE_KEYS),
                                   description="Claves de metadatos que nombran la fuente de los datos.")
    self_source_words: list[str] = Field(default_factory=lambda: list(SELF_SOURCE_WORDS),
                                         description="Valores de fuente que significan «el propio publicador».")
    derived_types: list[str] = Field(default_factory=lambda: list(DERIVED_TYPES),
                                     description="Tipos reales que son productos derivados (informes, imágenes, páginas).")
    min_rows: int = Field(10, ge=0, description="Registros mínimos para considerar un archivo tabular a nivel de registro.")
    summary_share_max: float = Field(
        0.2, ge=0, le=1,
        description="Si las filas de totales superan esta proporción, el archivo se considera solo resumen.",
    )
    stopwords: list[str] = Field(default_factory=lambda: list(STOPWORDS),
                                 description="Palabras que no distinguen a una institución al comparar la fuente.")
    personal_data_status: Literal["none", "partial", "fail"] = Field(
        "none",
        description="Efecto de posibles datos personales en un archivo (content.personal_data): none = solo una "
        "alerta para revisión; partial o fail = además impide «cumple» (criterio del auditor).",
    )
    external_markers: list[str] = Field(
        default_factory=lambda: list(EXTERNAL_MARKERS),
        description="Palabras que ubican la fuente en otro orden de gobierno u otra institución productora "
        "(si el nombre del publicador no las contiene).",
    )


def _tokens(text: str, stop: set[str]) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", fold(text)) if t not in stop and len(t) > 1}


def _acronym(text: str, stop: set[str]) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", fold(text)) if w not in {"de", "del", "la", "las", "el", "los", "y"}]
    return "".join(w[0] for w in words) if len(words) >= 3 else ""


def _source_is_other(source: str, ctx: DatasetContext, params: Params) -> bool | None:
    """True when the declared source names another body; None when unsure (manual review)."""
    org: Mapping[str, Any] = ctx.dataset.get("organization") or {}
    org_names = [as_text(org.get("title")), as_text(org.get("name")).replace("-", " "),
                 ctx.organization.replace("-", " ")]
    publisher = " ".join(org_names)
    for marker in params.external_markers:
        if contains_word(source, marker) and not contains_word(publisher, marker):
            return True  # "Secretaría de Salud federal" is not the state's Secretaría de Salud
    value = fold(source)
    if any(value == fold(w) or contains_word(value, w) and " " in w.strip() for w in params.self_source_words):
        return False
    names = org_names + [as_text(ctx.dataset.get(k)) for k in ("author", "maintainer")]
    stop = {fold(w) for w in params.stopwords}
    src_tokens = _tokens(source, stop)
    if not src_tokens:
        return None
    for name in names:
        if not name:
            continue
        tokens = _tokens(name, stop)
        if tokens and (tokens <= src_tokens or src_tokens <= tokens):
            return False
        acronym = _acronym(name, stop)
        if acronym and acronym in src_tokens:
            return False
        if tokens and len(tokens & src_tokens) >= max(1, min(len(tokens), len(src_tokens)) // 2 + 1):
            return False
    return True


_SUMMARY_VALUE = re.compile(SUMMARY_REGEX)  # the content stage's own definition of a summary label


def summary_rows(content: ContentEvidence) -> int:
    """Summary rows reported by the content stage, or seen as the unexpected values of a failed expectation
    (a "Total" row in a numeric column fails its type check rather than the text summary check)."""
    seen = 0
    failed = (content.expectations or {}).get("failed") or []
    for item in failed if isinstance(failed, list) else []:
        result = item.get("result") if isinstance(item, Mapping) else None
        values = (result or {}).get("partial_unexpected_list") if isinstance(result, Mapping) else None
        if isinstance(values, list) and values:
            hits = sum(1 for v in values if isinstance(v, str) and _SUMMARY_VALUE.match(v))
            seen = max(seen, hits)
    return max(content.summary_rows or 0, seen)


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    findings: list[Finding] = []
    hard_fail = False
    unsure = False
    evidence: dict[str, Any] = {}

    # 1. the source
    for key, value in find_all_metadata(ctx.dataset, params.source_keys):
        verdict = _source_is_other(as_text(value), ctx, params)
        evidence.setdefault("sources", []).append(short(value, 80))
        if verdict is True:
            hard_fail = True
            findings.append(Finding(
                Code.FUENTE_EXTERNA,
                f"Los metadatos citan como fuente a otra institución ({key} = «{short(value, 80)}»): "
                "los datos no provienen del publicador.",
                "Publique los datos quien los genera, o enlace el conjunto original de la fuente de origen.",
                observed=short(value, 80), manual_review=True))
        elif verdict is None:
            unsure = True
            findings.append(Finding(
                Code.FUENTE_POR_REVISAR, f"No es claro si la fuente declarada es el propio publicador ({short(value, 80)}).",
                "Indique en los metadatos la institución que genera los datos.", observed=short(value, 80),
                manual_review=True))

    data = data_resources(ctx, params)
    if not data:
        findings.append(Finding(SharedCode.SIN_RECURSOS_DE_DATOS, "El conjunto no publica recursos de datos.",
                                "Publique los archivos de datos tal como los genera la fuente de origen, con el mayor "
                                "nivel de desagregación posible y sin datos personales ni información reservada."))
        return make_result(ID, Status.FAIL, findings=findings, evidence={**evidence, "data_resources": 0})

    # 2. derived products only?
    derived_types = {fold(t) for t in params.derived_types}
    kinds = [(ev, effective_type(ev)[0]) for ev in data]
    derived = [(ev, t) for ev, t in kinds if t in derived_types]
    evidence["derived"] = len(derived)
    if len(derived) == len(data):
        hard_fail = True
        findings.append(Finding(
            Code.SOLO_PRODUCTOS_DERIVADOS,
            "El conjunto solo ofrece productos derivados (informes, documentos, imágenes o páginas), no los datos.",
            "Publique los datos de origen en un archivo estructurado (CSV, JSON) además del informe.",
            observed=", ".join(sorted({t for _, t in derived}))))

    # 3. record-level tabular data (content checks)
    tabular = [ev for ev in data if ev.content is not None and ev.content.parsed_ok]
    record_level = 0.0
    summary_only = 0
    for ev in tabular:
        c = ev.content
        assert c is not None
        rows = c.rows or 0
        n_summary = summary_rows(c)
        if n_summary and rows and n_summary / rows > params.summary_share_max or (rows < params.min_rows and n_summary):
            summary_only += 1
            findings.append(Finding(
                Code.SOLO_RESUMEN, f"El archivo contiene principalmente totales o resúmenes ({n_summary} de {rows} "
                "filas), no datos desagregados.",
                DISAGGREGATE_ES,
                resource=ev.label, resource_id=ev.id, observed=f"{n_summary}/{rows}"))
        elif n_summary:
            record_level += 0.5
            findings.append(Finding(
                Code.FILAS_DE_TOTALES, f"El archivo mezcla registros con {n_summary} fila(s) de Total/Subtotal.",
                "Elimine las filas de totales: el usuario puede calcularlos a partir de los registros.",
                resource=ev.label, resource_id=ev.id, observed=str(n_summary)))
        elif rows < params.min_rows:
            unsure = True
            record_level += 0.5
            findings.append(Finding(
                Code.POCOS_REGISTROS, f"El archivo tiene solo {rows} registro(s): parece un resumen.",
                DISAGGREGATE_ES,
                resource=ev.label, resource_id=ev.id, observed=str(rows), manual_review=True))
        elif not c.disaggregation_keys:
            unsure = True
            record_level += 0.5
            findings.append(Finding(
                Code.SIN_CLAVES_DESAGREGACION,
                "No se identificaron columnas de desagregación (fechas, claves INEGI de entidad o municipio, "
                "identificadores).",
                "Incluya columnas de fecha, clave geográfica INEGI o identificador de cada registro.",
                resource=ev.label, resource_id=ev.id, observed=f"{c.columns or 0} columnas, ninguna clave",
                manual_review=True))
        else:
            record_level += 1
    evidence.update(tabular_checked=len(tabular), summary_only=summary_only)
    personal = [(ev, hit) for ev in tabular for hit in ev.content.personal_data] if tabular else []  # type: ignore[union-attr]
    for ev, hit in personal:
        examples = ", ".join(hit.get("examples") or ())
        findings.append(Finding(
            Code.POSIBLES_DATOS_PERSONALES,
            f"La columna «{short(hit.get('column'), 60)}» parece contener datos personales "
            f"({PERSONAL_DATA_KINDS_ES.get(str(hit.get('kind')), hit.get('kind'))}: {hit.get('count')} "
            f"valores{'; p. ej. ' + examples if examples else ''}).",
            "Verifique si son datos personales; si lo son, retire o anonimice la columna: la mayor desagregación "
            "posible no incluye datos personales ni información reservada.",
            resource=ev.label, resource_id=ev.id, observed=str(hit.get("kind")), manual_review=True))
    if personal:
        evidence["personal_data_columns"] = len(personal)
        if params.personal_data_status == "fail":
            hard_fail = True
    if tabular and summary_only == len(tabular) and len(derived) + len(tabular) >= len(data):
        hard_fail = True  # every table is a summary and there is nothing else

    if hard_fail:
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    if not any(ev.probe is not None and ev.probe.reachable for ev in data):
        # Nothing could be examined: disaggregation cannot be verified, so no verdict either way (the missing
        # files are already counted against *accesibles*).
        findings.append(Finding(
            Code.NADA_DESCARGABLE, "No se pudo verificar el nivel de desagregación: ningún recurso de datos se pudo "
            "descargar.", "Corrija el acceso a los archivos para que pueda evaluarse esta característica.",
            manual_review=True))
        return make_result(ID, Status.NOT_APPLICABLE, findings=findings, evidence=evidence)
    if tabular and record_level < len(tabular):
        return make_result(ID, Status.PARTIAL, score=record_level / len(tabular), findings=findings, evidence=evidence)
    if unsure or (personal and params.personal_data_status == "partial"):
        return make_result(ID, Status.PARTIAL, score=0.5, findings=findings, evidence=evidence)
    return make_result(ID, Status.PASS, findings=findings, evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="Primarios",
    short_title_es="Pri",
    description_es=(
        "Heurísticas (documentadas como tales): (1) el publicador es la fuente: ningún metadato «fuente»/«source» "
        "nombra a otra institución; (2) los datos tabulares están a nivel de registro: suficientes filas, sin filas "
        "de Total/Subtotal y con claves de desagregación (fechas, claves INEGI de entidad o municipio, "
        "identificadores); (3) no solo productos derivados (informes PDF, imágenes, enlaces a tableros). No cumple "
        "si la fuente es otra institución, si solo hay productos derivados o si todos los archivos tabulares son "
        "resúmenes; cumple parcialmente si algunos archivos mezclan totales o si hay dudas («requiere revisión "
        "manual»); no aplica si ningún recurso de datos se pudo descargar (no hay qué examinar)."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
