"""formatos_abiertos — data in formats with public specifications, free to implement, without restriction of use.

One legal test for every format (LGTAIP art. 3, fr. VIII inciso i and fr. XII): (1) a structure for storing
data, not a document, page or image; (2) a specification available publicly and at no cost; (3) its application
and reproduction not conditioned on any payment or the maker's licence. Where the classification of a format is
debatable, the federal Guía de Implementación (norma técnica) decides: it recommends CSV, JSON, XML, SHP, GeoJSON,
KML. :data:`FORMATS` records the verdict and its reason for each format, and the finding quotes it.

Uses the sniffed type of what the server returned when the resource was reachable, otherwise the declared format
(normalised: " csv", ".XLS", "Csv"). A dataset none of whose data files could be obtained does not pass on its
declared formats.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from audit.evidence import DatasetContext
from rules._common import (
    NONE_OBTAINED,
    ZIP_COMPANION_TYPES,
    RuleParams,
    SharedCode,
    data_availability,
    data_resources,
    effective_type,
    fold,
    graded,
    make_result,
    no_data_finding,
    normalize_format,
    retired_result,
    zip_member_types,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "formatos_abiertos"


class Code(StrEnum):
    FORMATO_DESCONOCIDO = "formato_desconocido"
    FORMATO_NO_ABIERTO = "formato_no_abierto"


_DOCUMENT = "formato de documento o de presentación, no una estructura lógica para almacenar datos (inciso i)"
_IMAGE = "imagen: no almacena los datos en una estructura que pueda leerse (inciso i)"
_VENDOR = ("formato de un fabricante: su especificación es documentación de su producto, no una norma pública, y su "
           "aplicación depende de los términos del fabricante; la Guía de Implementación no lo recomienda")

#: type → (open?, reason) — the legal test applied to each format, in the words the finding and the docs use
FORMATS: dict[str, tuple[bool, str]] = {
    "csv": (True, "especificación pública y gratuita (RFC 4180); la Guía de Implementación lo recomienda"),
    "tsv": (True, "especificación pública y gratuita (IANA text/tab-separated-values)"),
    "json": (True, "especificación pública y gratuita (RFC 8259, ECMA-404); la Guía lo recomienda"),
    "geojson": (True, "especificación pública y gratuita (RFC 7946); la Guía lo recomienda para datos geográficos"),
    "xml": (True, "especificación pública y gratuita (W3C XML 1.0); la Guía lo recomienda"),
    "rdf": (True, "especificación pública y gratuita (W3C RDF)"),
    "kml": (True, "norma pública y gratuita (OGC KML 2.2); la Guía lo recomienda para datos geográficos"),
    "kmz": (True, "KML comprimido en ZIP: norma pública y gratuita (OGC KML 2.2)"),
    "shapefile-zip": (True, "especificación publicada sin costo ni licencia por su autor (ESRI Shapefile Technical "
                            "Description, 1998); la Guía recomienda SHP para datos geográficos"),
    "gpkg": (True, "norma pública y gratuita (OGC GeoPackage)"),
    "parquet": (True, "especificación pública y gratuita (Apache Parquet, licencia Apache 2.0)"),
    "ods": (True, "norma pública y gratuita (ISO/IEC 26300, OpenDocument de OASIS)"),
    "xlsx": (True, "norma pública descargable sin costo (ISO/IEC 29500, ECMA-376) cuya aplicación no requiere "
                   "licencia"),
    "xls": (False, "Excel 97-2003 (BIFF8): " + _VENDOR),
    "mdb": (False, "Microsoft Access: " + _VENDOR),
    "dbf": (False, "dBase: sin especificación pública vigente; " + _VENDOR),
    "sav": (False, "SPSS: " + _VENDOR),
    "dta": (False, "Stata: " + _VENDOR),
    "sas": (False, "SAS: " + _VENDOR),
    "dwg": (False, "AutoCAD DWG: sin especificación pública; " + _VENDOR),
    "dxf": (False, "AutoCAD DXF: " + _VENDOR),
    "rar": (False, "compresión RAR: su licencia prohíbe crear compresores (restricción de uso)"),
    "7z": (False, "archivo comprimido 7z: no se pudo verificar el formato de los archivos que contiene"),
    "zip": (False, "archivo ZIP sin datos en un formato abierto reconocible dentro"),
    "pdf": (False, "PDF: " + _DOCUMENT),
    "doc": (False, "Word 97-2003: " + _DOCUMENT),
    "docx": (False, "Word (DOCX): " + _DOCUMENT),
    "odt": (False, "texto OpenDocument (ODT): " + _DOCUMENT + "; la Guía lo recomienda para documentos, no para datos"),
    "rtf": (False, "RTF: " + _DOCUMENT),
    "ppt": (False, "PowerPoint: " + _DOCUMENT),
    "pptx": (False, "PowerPoint (PPTX): " + _DOCUMENT),
    "html": (False, "página web (HTML): " + _DOCUMENT),
    "text": (False, "texto sin estructura reconocible (ni delimitado ni JSON/XML)"),
    "png": (False, "PNG: " + _IMAGE),
    "jpeg": (False, "JPEG: " + _IMAGE),
    "gif": (False, "GIF: " + _IMAGE),
    "tiff": (False, "TIFF: " + _IMAGE),
    "svg": (False, "SVG: " + _IMAGE),
}

OPEN_FORMATS = [t for t, (is_open, _) in FORMATS.items() if is_open and t != "xlsx"]


class Params(RuleParams):
    open_formats: list[str] = Field(default_factory=lambda: list(OPEN_FORMATS),
                                    description="Formatos abiertos de datos (además de XLSX si xlsx_is_open).")
    xlsx_is_open: bool = Field(
        True, description="Contar XLSX (ISO/IEC 29500, norma pública y gratuita) como formato abierto."
    )


#: where the type came from (rules._common.effective_type), as the finding says it
_SOURCE_ES = {"sniffed": "detectado", "declared": "declarado", "url": "según la extensión de la URL",
              "none": "desconocido"}


def reason(kind: str, open_set: set[str]) -> str:
    """Why a type is (not) an open format: the recorded reason, or the configuration's word."""
    verdict = FORMATS.get(kind)
    if verdict is not None and verdict[0] == (kind in open_set):
        return verdict[1]
    if kind in open_set:
        return "declarado abierto en la configuración del auditor (rules.formatos_abiertos.open_formats)"
    if verdict is not None:
        return "excluido por la configuración del auditor (rules.formatos_abiertos)"
    return "formato no reconocido: sin especificación pública identificada"


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    data = data_resources(ctx, params)
    if not data:
        return make_result(ID, Status.FAIL, findings=[Finding(
            SharedCode.SIN_RECURSOS_DE_DATOS, "El conjunto no publica recursos de datos.",
            "Publique los datos en un formato abierto como CSV o JSON.")], evidence={"data_resources": 0})
    if data_availability(ctx, params) == NONE_OBTAINED:
        # the format *as served* is what counts: nothing was served, so the declared format proves nothing
        return make_result(ID, Status.FAIL, findings=[no_data_finding(
            NONE_OBTAINED, "Los datos no están disponibles en ningún formato; el formato declarado no basta.", ctx)],
            evidence={"data_resources": len(data), "open": 0, "data": NONE_OBTAINED})
    open_set = {fold(f) for f in params.open_formats} | ({"xlsx"} if params.xlsx_is_open else set())
    good = 0
    findings: list[Finding] = []
    detail = []
    for ev in data:
        kind, source = effective_type(ev)
        declared = normalize_format(ev.resource.get("format")) or "—"
        if kind == "zip":
            members = [m for m in zip_member_types(ev.probe.sniffed_detail if ev.probe else None)
                       if m not in ZIP_COMPANION_TYPES]  # a README or PDF note beside the data is fine
            if members and all(m in open_set for m in members):
                good += 1
                detail.append({"resource": ev.label, "type": kind, "source": source, "open": True,
                               "reason": "ZIP con datos en formato abierto: " + ", ".join(sorted(set(members)))})
                continue
        why = reason(kind, open_set) if kind else "sin formato declarado ni detectado"
        detail.append({"resource": ev.label, "type": kind or None, "source": source, "open": kind in open_set,
                       "reason": why})
        if kind in open_set:
            good += 1
            continue
        if not kind:
            findings.append(Finding(
                Code.FORMATO_DESCONOCIDO, "No se declara el formato y no se pudo detectar.",
                "Declare el formato del recurso y publíquelo en CSV o JSON.", resource=ev.label, resource_id=ev.id,
                observed="(vacío)",
                manual_review=True))
            continue
        mismatch = f" (declarado {declared.upper()})" if source == "sniffed" and declared not in ("—", kind) else ""
        fix = ("Publique también el archivo en CSV (o XLSX/ODS)." if kind in ("xls", "mdb", "dbf", "sav", "dta", "sas")
               else "Publique los datos en un formato abierto como CSV o JSON.")
        findings.append(Finding(
            Code.FORMATO_NO_ABIERTO, f"El recurso está en {kind.upper()}{mismatch}, que no es un formato abierto de datos: "
            f"{why}.", fix, resource=ev.label, resource_id=ev.id,
            observed=f"{kind} ({_SOURCE_ES.get(source, source)})",
            manual_review=kind not in FORMATS or kind in ("zip", "7z", "text")))
    status, score = graded(good, len(data))
    return make_result(ID, status, score=score, findings=findings,
                       evidence={"data_resources": len(data), "open": good, "detail": detail})


RULE = Rule(
    id=ID,
    title_es="En formatos abiertos",
    short_title_es="FmA",
    description_es=(
        "Una sola prueba legal para todos los formatos: estructura para almacenar datos (no documento, página ni "
        "imagen), especificación disponible públicamente y sin costo, y aplicación sin contraprestación ni licencia "
        "del fabricante; donde la clasificación es discutible decide la Guía de Implementación. Abiertos: CSV, TSV, "
        "JSON, GeoJSON, XML, RDF, KML/KMZ, Shapefile (también comprimido en ZIP), GeoPackage, Parquet, ODS y XLSX. "
        "No abiertos: XLS, MDB, DBF, SAV, DTA, DWG y otros de un fabricante; RAR; PDF, Word, ODT, páginas e imágenes "
        "no son formatos de datos. Se usa el tipo real detectado cuando el recurso se descargó; si no, el formato "
        "declarado normalizado y, si no se declaró, la extensión de la URL (el hallazgo dice de dónde salió y la "
        "razón). Cumple si todos los recursos de datos están en formato abierto; parcial si algunos; no cumple si "
        "ninguno, si no hay recursos de datos o si no se pudo obtener ningún archivo de datos."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
