"""legibles_por_maquinas — structured so that a computer can process the data automatically.

Decided by the *sniffed* type of what the server actually returned, never by the declared format: CSV/TSV, JSON,
GeoJSON, XML/RDF/KML, XLSX/XLS/ODS, zipped shapefiles, Parquet and GeoPackage count when they parse; PDF, Word,
images, HTML pages and prose do not.
"""

from __future__ import annotations

from pydantic import Field

from audit.evidence import DatasetContext
from rules._common import (
    RuleParams,
    data_resources,
    fold,
    graded,
    make_result,
    normalize_format,
    retired_result,
    zip_member_types,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "legibles_por_maquinas"

MACHINE_READABLE_TYPES = ["csv", "tsv", "json", "geojson", "xml", "rdf", "kml", "kmz", "xlsx", "xls", "ods",
                          "shapefile-zip", "parquet", "gpkg"]

_TYPE_ES = {
    "pdf": "PDF", "doc": "Word (DOC)", "docx": "Word (DOCX)", "html": "una página HTML", "png": "una imagen PNG",
    "jpeg": "una imagen JPEG", "gif": "una imagen GIF", "text": "texto libre", "rar": "un archivo RAR",
    "7z": "un archivo 7z", "zip": "un ZIP sin datos estructurados", "unknown": "un tipo no reconocido",
}


class Params(RuleParams):
    machine_readable_types: list[str] = Field(
        default_factory=lambda: list(MACHINE_READABLE_TYPES),
        description="Tipos reales (detectados) que se consideran legibles por máquinas si se pueden abrir.",
    )


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    data = data_resources(ctx, params)
    if not data:
        return make_result(ID, Status.FAIL, findings=[Finding(
            "sin_recursos_de_datos", "El conjunto no publica recursos de datos.",
            "Publique los datos en un formato estructurado como CSV o JSON.")], evidence={"data_resources": 0})
    probed = [ev for ev in data if ev.probe is not None]
    if not probed:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            "sin_evidencia", "Sin evidencia: no se sondearon los recursos, no se conoce su tipo real.",
            "Ejecute la etapa de sondeo y vuelva a calificar.")], evidence={"data_resources": len(data)})
    machine = {fold(t) for t in params.machine_readable_types}
    readable = 0
    findings: list[Finding] = []
    detail = []
    for ev in probed:
        probe = ev.probe
        assert probe is not None
        declared = normalize_format(ev.resource.get("format")) or "—"
        sniffed = probe.sniffed_type or "unknown"
        detail.append({"resource": ev.label, "declared": declared, "sniffed": sniffed, "outcome": probe.outcome})
        if not probe.reachable:
            findings.append(Finding(
                "no_descargable", "No se pudo descargar el recurso para verificar que sea legible por máquinas.",
                "Corrija el acceso al archivo (ver «Accesibles»).", resource=ev.label,
                observed=f"{probe.outcome}; declarado {declared}"))
            continue
        if ev.content is not None and not ev.content.parsed_ok:
            findings.append(Finding(
                "no_se_puede_leer", f"El archivo parece {sniffed.upper()} pero no se pudo abrir de forma automática.",
                "Revise que el archivo esté completo y bien formado (codificación, delimitador, encabezado).",
                resource=ev.label, observed=";".join(ev.content.problems) or sniffed))
            continue
        if sniffed == "zip":
            members = zip_member_types(probe.sniffed_detail)
            if any(m in machine for m in members):
                readable += 1
                continue
        if sniffed in machine:
            readable += 1
            continue
        what = _TYPE_ES.get(sniffed, sniffed)
        mismatch = f" (declarado como {declared.upper()})" if declared not in ("—", sniffed) else ""
        findings.append(Finding(
            "no_legible", f"El recurso es {what}{mismatch}: no está estructurado para procesarse automáticamente.",
            "Publique los datos en un formato estructurado como CSV o JSON (además del documento, si lo desea).",
            resource=ev.label, observed=f"detectado {sniffed}; declarado {declared}",
            manual_review=sniffed in ("unknown", "zip", "rar", "7z")))
    status, score = graded(readable, len(probed))
    return make_result(ID, status, score=score, findings=findings,
                       evidence={"data_resources": len(data), "checked": len(probed), "readable": readable,
                                 "detail": detail})


RULE = Rule(
    id=ID,
    title_es="Legibles por máquinas",
    legal_text_es=(
        "LGTAIP, art. 3, fr. VI, inciso h): «Legibles por máquinas: Deberán estar estructurados, total o "
        "parcialmente, para ser procesados e interpretados por equipos electrónicos de manera automática»."
    ),
    description_es=(
        "Se decide por el tipo real detectado en el archivo descargado, no por el formato declarado. Cuentan CSV/TSV, "
        "JSON, GeoJSON, XML/RDF/KML, XLSX/XLS/ODS, shapefiles comprimidos, Parquet y GeoPackage si se pueden abrir; "
        "PDF, Word, imágenes, páginas HTML y texto libre no cuentan. Un recurso de datos que no se pudo descargar no "
        "cuenta como legible. Cumple si todos los recursos de datos son legibles; parcial si algunos; no cumple si "
        "ninguno o si no hay recursos de datos. Los documentos (diccionarios, metodologías, manuales) se excluyen."
    ),
    evaluate=evaluate,
    params_model=Params,
)
