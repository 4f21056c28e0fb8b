"""formatos_abiertos — data in formats with public specifications, free to implement, suited to processing.

Uses the sniffed type of what the server returned when the resource was reachable, otherwise the declared format
(normalised: " csv", ".XLS", "Csv"). XLSX counts as open (ISO/IEC 29500, Mexico's implementation guide), which is
configurable; XLS, DOC, MDB, DBF, SAV and other proprietary formats do not; PDF and images are not open *data* formats.
"""

from __future__ import annotations

from pydantic import Field

from audit.evidence import DatasetContext
from rules._common import (
    ZIP_COMPANION_TYPES,
    RuleParams,
    data_resources,
    effective_type,
    fold,
    graded,
    make_result,
    normalize_format,
    retired_result,
    zip_member_types,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "formatos_abiertos"

OPEN_FORMATS = ["csv", "tsv", "json", "geojson", "xml", "rdf", "kml", "kmz", "ods", "gpkg", "parquet"]

_PROPRIETARY_ES = {
    "xls": "XLS (Excel 97-2003, formato propietario)", "doc": "DOC (Word, propietario)", "mdb": "MDB (Access)",
    "dbf": "DBF", "sav": "SAV (SPSS)", "dta": "DTA (Stata)", "pdf": "PDF (documento, no formato de datos)",
    "docx": "DOCX (documento de texto)", "html": "HTML (página web)", "png": "PNG (imagen)", "jpeg": "JPEG (imagen)",
    "gif": "GIF (imagen)", "rar": "RAR (compresión propietaria)", "shapefile-zip": "Shapefile (ESRI)",
}


class Params(RuleParams):
    open_formats: list[str] = Field(default_factory=lambda: list(OPEN_FORMATS),
                                    description="Formatos abiertos de datos (además de XLSX si xlsx_is_open).")
    xlsx_is_open: bool = Field(
        True, description="Contar XLSX (ISO/IEC 29500) como formato abierto, como la Guía de Implementación de México."
    )


#: where the type came from (rules._common.effective_type), as the finding says it
_SOURCE_ES = {"sniffed": "detectado", "declared": "declarado", "url": "según la extensión de la URL",
              "none": "desconocido"}


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    data = data_resources(ctx, params)
    if not data:
        return make_result(ID, Status.FAIL, findings=[Finding(
            "sin_recursos_de_datos", "El conjunto no publica recursos de datos.",
            "Publique los datos en un formato abierto como CSV o JSON.")], evidence={"data_resources": 0})
    open_set = {fold(f) for f in params.open_formats} | ({"xlsx"} if params.xlsx_is_open else set())
    good = 0
    findings: list[Finding] = []
    detail = []
    for ev in data:
        kind, source = effective_type(ev)
        declared = normalize_format(ev.resource.get("format")) or "—"
        detail.append({"resource": ev.label, "type": kind or None, "source": source})
        if kind == "zip":
            members = [m for m in zip_member_types(ev.probe.sniffed_detail if ev.probe else None)
                       if m not in ZIP_COMPANION_TYPES]  # a README or PDF note beside the data is fine
            if members and all(m in open_set for m in members):
                good += 1
                continue
        if kind in open_set:
            good += 1
            continue
        if not kind:
            findings.append(Finding(
                "formato_desconocido", "No se declara el formato y no se pudo detectar.",
                "Declare el formato del recurso y publíquelo en CSV o JSON.", resource=ev.label, observed="(vacío)",
                manual_review=True))
            continue
        label = _PROPRIETARY_ES.get(kind, kind.upper())
        mismatch = f" (declarado {declared.upper()})" if source == "sniffed" and declared not in ("—", kind) else ""
        fix = ("Publique también el archivo en CSV (o XLSX/ODS)." if kind in ("xls", "mdb", "dbf", "sav", "dta")
               else "Publique los datos en un formato abierto como CSV o JSON.")
        findings.append(Finding(
            "formato_no_abierto", f"El recurso está en {label}{mismatch}, que no es un formato abierto de datos.",
            fix, resource=ev.label, observed=f"{kind} ({_SOURCE_ES.get(source, source)})",
            manual_review=kind in ("zip", "unknown")))
    status, score = graded(good, len(data))
    return make_result(ID, status, score=score, findings=findings,
                       evidence={"data_resources": len(data), "open": good, "detail": detail})


RULE = Rule(
    id=ID,
    title_es="En formatos abiertos",
    description_es=(
        "Abiertos por omisión: CSV, TSV, JSON, GeoJSON, XML, RDF, KML/KMZ, ODS, GeoPackage, Parquet y XLSX (ISO/IEC "
        "29500, configurable). No abiertos: XLS, DOC, MDB, DBF, SAV y otros propietarios; PDF e imágenes no son "
        "formatos de datos. Se usa el tipo real detectado cuando el recurso se descargó; si no, el formato "
        "declarado normalizado y, si no se declaró, la extensión de la URL (el hallazgo dice de dónde salió). Cumple si todos los recursos de datos están en formato abierto; parcial si algunos; "
        "no cumple si ninguno o si no hay recursos de datos."
    ),
    evaluate=evaluate,
    params_model=Params,
)
