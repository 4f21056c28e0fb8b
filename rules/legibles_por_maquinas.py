"""legibles_por_maquinas — structured so that a computer can process the data automatically.

Decided by the *sniffed* type of what the server actually returned, never by the declared format: CSV/TSV, JSON,
GeoJSON, XML/RDF/KML, XLSX/XLS/ODS, zipped shapefiles, Parquet and GeoPackage count when they parse; PDF, Word,
images, HTML pages and prose do not.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from pydantic import Field

from audit.evidence import ContentEvidence, DatasetContext
from rules._common import (
    RuleParams,
    SharedCode,
    data_resources,
    fold,
    graded,
    make_result,
    normalize_format,
    retired_result,
    short,
    zip_member_types,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "legibles_por_maquinas"


class Code(StrEnum):
    CARACTERES_ILEGIBLES = "caracteres_ilegibles"  # advisory
    CLAVES_INEGI_INVALIDAS = "claves_inegi_invalidas"  # advisory
    COLUMNAS_REPETIDAS = "columnas_repetidas"  # advisory
    COLUMNAS_SIN_NOMBRE = "columnas_sin_nombre"  # advisory
    COMA_DECIMAL = "coma_decimal"  # advisory
    DELIMITADOR_FINAL = "delimitador_final"  # advisory
    ENCABEZADO_EN_DOS_FILAS = "encabezado_en_dos_filas"  # advisory
    ENCABEZADO_REPETIDO = "encabezado_repetido"  # advisory
    FECHAS_COMO_NUMERO = "fechas_como_numero"  # advisory
    FILAS_DE_TITULO = "filas_de_titulo"  # advisory
    NO_DESCARGABLE = "no_descargable"
    NO_LEGIBLE = "no_legible"
    NO_SE_PUEDE_LEER = "no_se_puede_leer"
    NOTAS_AL_PIE = "notas_al_pie"  # advisory
    TIPOS_MEZCLADOS = "tipos_mezclados"  # advisory
    VARIAS_HOJAS = "varias_hojas"  # advisory


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
            SharedCode.SIN_RECURSOS_DE_DATOS, "El conjunto no publica recursos de datos.",
            "Publique los datos en un formato estructurado como CSV o JSON.")], evidence={"data_resources": 0})
    probed = [ev for ev in data if ev.probe is not None]
    if not probed:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            SharedCode.SIN_EVIDENCIA, "Sin evidencia: no se sondearon los recursos, no se conoce su tipo real.",
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
                Code.NO_DESCARGABLE, "No se pudo descargar el recurso para verificar que sea legible por máquinas.",
                "Corrija el acceso al archivo (ver «Accesibles»).", resource=ev.label, resource_id=ev.id,
                observed=f"{probe.outcome}; declarado {declared}"))
            continue
        if ev.content is not None and not ev.content.parsed_ok and not set(ev.content.problems) & _PARSES_BUT_NOT_A_TABLE:
            findings.append(Finding(
                Code.NO_SE_PUEDE_LEER, f"El archivo parece {sniffed.upper()} pero no se pudo abrir de forma automática.",
                "Revise que el archivo esté completo y bien formado (codificación, delimitador, encabezado).",
                resource=ev.label, resource_id=ev.id, observed=";".join(ev.content.problems) or sniffed))
            continue
        if sniffed == "zip":
            members = zip_member_types(probe.sniffed_detail)
            if any(m in machine for m in members):
                readable += 1
                continue
        if sniffed in machine:
            readable += 1
            if ev.content is not None and ev.content.parsed_ok:
                findings.extend(replace(f, resource_id=ev.id) for f in structure_findings(ev.content, ev.label))
            continue
        what = _TYPE_ES.get(sniffed, sniffed)
        mismatch = f" (declarado como {declared.upper()})" if declared not in ("—", sniffed) else ""
        findings.append(Finding(
            Code.NO_LEGIBLE, f"El recurso es {what}{mismatch}: no está estructurado para procesarse automáticamente.",
            "Publique los datos en un formato estructurado como CSV o JSON (además del documento, si lo desea).",
            resource=ev.label, resource_id=ev.id, observed=f"detectado {sniffed}; declarado {declared}",
            manual_review=sniffed in ("unknown", "zip", "rar", "7z")))
    status, score = graded(readable, len(probed))
    return make_result(ID, status, score=score, findings=findings,
                       evidence={"data_resources": len(data), "checked": len(probed), "readable": readable,
                                 "detail": detail})


#: the file parsed (valid JSON) but holds no list of records: still processable by a computer, just not a table
_PARSES_BUT_NOT_A_TABLE = frozenset({"not_records"})

#: problem code → (finding code, message, remediation). Observations on files that do parse: the law asks for
#: data structured "total o parcialmente", so they do not lower the verdict, but each one makes automatic use
#: harder and the agency can fix it.
_STRUCTURE: dict[str, tuple[Code, str, str]] = {
    "title_rows_above_header": (
        Code.FILAS_DE_TITULO, "El archivo tiene filas de título o encabezados decorativos antes de los nombres de las columnas.",
        "Deje los nombres de las columnas en la primera fila; el título y la fuente van en los metadatos."),
    "notes_below_data": (
        Code.NOTAS_AL_PIE, "El archivo tiene notas o fuentes debajo de los datos, que un programa lee como registros.",
        "Quite las notas del archivo y póngalas en la descripción del conjunto o en el diccionario de datos."),
    "excel_serial_dates": (
        Code.FECHAS_COMO_NUMERO, "Hay fechas guardadas como número de serie de Excel (por ejemplo 45292 en lugar de 2024-01-01).",
        "Guarde las fechas como texto en formato AAAA-MM-DD."),
    "decimal_comma": (
        Code.COMA_DECIMAL, "Hay cifras con coma decimal o punto de miles («1.234,56»), que un programa lee como texto.",
        "Use punto decimal y sin separador de miles (1234.56)."),
    "two_row_header": (
        Code.ENCABEZADO_EN_DOS_FILAS,
        "El encabezado ocupa dos filas con celdas combinadas («Población» sobre «Hombres | Mujeres»).",
        "Use una sola fila de encabezado, con un nombre por columna («poblacion_hombres», «poblacion_mujeres»)."),
    "repeated_header_rows": (
        Code.ENCABEZADO_REPETIDO, "La fila de encabezado se repite dentro de los datos (páginas pegadas una tras otra).",
        "Deje una sola fila de encabezado al inicio del archivo."),
    "trailing_delimiter": (
        Code.DELIMITADOR_FINAL, "Cada línea termina con un separador de más, que un programa lee como una columna vacía.",
        "Guarde el archivo sin el separador al final de cada línea."),
    "blank_column_names": (
        Code.COLUMNAS_SIN_NOMBRE, "Hay columnas sin nombre en el encabezado.",
        "Dé un nombre único a cada columna."),
    "duplicate_column_names": (
        Code.COLUMNAS_REPETIDAS, "Hay nombres de columna repetidos en el encabezado.",
        "Dé un nombre único a cada columna."),
    "replacement_characters": (
        Code.CARACTERES_ILEGIBLES, "El archivo tiene caracteres que no se pueden leer (codificación mezclada o dañada).",
        "Guarde el archivo con codificación UTF-8."),
    "type_inconsistent": (
        Code.TIPOS_MEZCLADOS, "Hay columnas que mezclan números o fechas con texto (por ejemplo «N/D» o «-» entre cifras).",
        "Use un solo tipo de dato por columna y deje vacías las celdas sin dato."),
    "invalid_inegi_codes": (
        Code.CLAVES_INEGI_INVALIDAS,
        "Hay claves geográficas del INEGI con formato inválido (por ejemplo, sin los ceros a la izquierda).",
        "Guarde las claves como texto con su longitud oficial: entidad 2, municipio 3 y localidad 4 dígitos."),
    "multiple_sheets": (
        Code.VARIAS_HOJAS, "El libro tiene varias hojas; la validación automática revisó solo la que tiene más datos.",
        "Publique una tabla por archivo (o por recurso) para que cada una pueda procesarse y validarse."),
}


def structure_findings(content: ContentEvidence, label: str) -> list[Finding]:
    """Observations on a file that parses but needs cleaning before a program can use it."""
    out = []
    for problem, (code, message, remediation) in _STRUCTURE.items():
        if problem not in content.problems:
            continue
        observed = None
        if problem == "invalid_inegi_codes" and content.invalid_codes:
            observed = short(", ".join(content.invalid_codes))
        elif problem == "type_inconsistent":
            columns = [str((f.get("kwargs") or {}).get("column")) for f in (content.expectations or {}).get("failed") or []
                       if isinstance(f, dict) and (f.get("meta") or {}).get("check") == "type_consistency"]
            observed = short(", ".join(dict.fromkeys(columns))) or None
        elif problem == "title_rows_above_header" and content.header_row:
            observed = f"encabezado en la fila {content.header_row + 1}"
        elif problem == "multiple_sheets":
            used = f"revisada: «{content.sheet_used}»; " if content.sheet_used else ""
            observed = short(used + "hojas: " + ", ".join(content.sheet_names)) if content.sheet_names else None
        out.append(Finding(code, message, remediation, resource=label, observed=observed,
                           manual_review=problem == "multiple_sheets", advisory=True))  # never lowers the status
    return out


RULE = Rule(
    id=ID,
    title_es="Legibles por máquinas",
    short_title_es="Leg",
    description_es=(
        "Se decide por el tipo real detectado en el archivo descargado, no por el formato declarado. Cuentan CSV/TSV, "
        "JSON, GeoJSON, XML/RDF/KML, XLSX/XLS/ODS, shapefiles comprimidos, Parquet y GeoPackage si se pueden abrir; "
        "PDF, Word, imágenes, páginas HTML y texto libre no cuentan. Un recurso de datos que no se pudo descargar no "
        "cuenta como legible. Cumple si todos los recursos de datos son legibles; parcial si algunos; no cumple si "
        "ninguno o si no hay recursos de datos. Los documentos (diccionarios, metodologías, manuales) se excluyen. "
        "Como la ley admite datos estructurados «total o parcialmente», un archivo tabular que se abre pero requiere "
        "limpieza (filas de título sobre el encabezado, notas al pie, columnas sin nombre o repetidas, caracteres "
        "ilegibles, tipos mezclados, claves INEGI sin ceros a la izquierda, varias hojas) sigue contando como "
        "legible y recibe una observación con la corrección."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
    advisory_codes=frozenset({Code.CARACTERES_ILEGIBLES, Code.CLAVES_INEGI_INVALIDAS, Code.COLUMNAS_REPETIDAS, Code.COLUMNAS_SIN_NOMBRE, Code.COMA_DECIMAL, Code.DELIMITADOR_FINAL, Code.ENCABEZADO_EN_DOS_FILAS, Code.ENCABEZADO_REPETIDO, Code.FECHAS_COMO_NUMERO, Code.FILAS_DE_TITULO, Code.NOTAS_AL_PIE, Code.TIPOS_MEZCLADOS, Code.VARIAS_HOJAS}),
)
