"""Deterministic resource files served by the sample portal (CSV, JSON, GeoJSON, XLSX, XLS, PDF, DOCX, PNG).

Every generator is a pure function of its arguments and a fixed seed, so two portals built at different times
serve byte-identical files (content hashes stay stable between audit runs).
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
import zlib
from functools import lru_cache
from importlib import resources

# Real Estado de México municipalities with their INEGI codes (state 15).
MUNICIPIOS: tuple[tuple[str, str], ...] = (
    ("15001", "Acambay de Ruíz Castañeda"),
    ("15002", "Acolman"),
    ("15013", "Atizapán de Zaragoza"),
    ("15020", "Coacalco de Berriozábal"),
    ("15024", "Cuautitlán"),
    ("15025", "Chalco"),
    ("15031", "Chimalhuacán"),
    ("15033", "Ecatepec de Morelos"),
    ("15037", "Huixquilucan"),
    ("15039", "Ixtapaluca"),
    ("15051", "Lerma"),
    ("15054", "Metepec"),
    ("15057", "Naucalpan de Juárez"),
    ("15058", "Nezahualcóyotl"),
    ("15060", "Nicolás Romero"),
    ("15070", "La Paz"),
    ("15081", "Tecámac"),
    ("15099", "Texcoco"),
    ("15104", "Tlalnepantla de Baz"),
    ("15106", "Toluca"),
    ("15109", "Tultitlán"),
    ("15110", "Valle de Bravo"),
    ("15118", "Zinacantepec"),
    ("15121", "Cuautitlán Izcalli"),
    ("15122", "Valle de Chalco Solidaridad"),
)

# Column sets for record-level tables: (header, row factory(rnd, i) -> list)
_TOPICS = {
    "ingresos": (
        ["folio", "fecha", "cve_mun", "municipio", "concepto", "monto_pesos"],
        lambda r, i, m: [f"ING-{i:06d}", _date(r), m[0], m[1],
                         r.choice(["Impuesto sobre nómina", "Derechos vehiculares", "Tenencia", "Predial"]),
                         f"{r.uniform(500, 250000):.2f}"],
    ),
    "calidad_aire": (
        ["id_medicion", "fecha", "estacion", "cve_mun", "municipio", "pm10", "pm25", "ozono"],
        lambda r, i, m: [str(i), _date(r), r.choice(["TOL", "MET", "XAL", "NEZ", "ATI"]), m[0], m[1],
                         str(r.randint(10, 180)), str(r.randint(5, 90)), f"{r.uniform(0.01, 0.12):.3f}"],
    ),
    "unidades_salud": (
        ["clues", "nombre_unidad", "cve_mun", "municipio", "tipologia", "camas", "fecha_actualizacion"],
        lambda r, i, m: [f"MCSSA{i:06d}", f"Centro de Salud {m[1]} {i}", m[0], m[1],
                         r.choice(["Rural", "Urbano", "Hospital General", "CEAPS"]), str(r.randint(0, 120)), _date(r)],
    ),
    "escuelas": (
        ["cct", "nombre_escuela", "nivel", "cve_mun", "municipio", "alumnos", "docentes", "ciclo"],
        lambda r, i, m: [f"15EPR{i:04d}Z", f"Escuela {r.choice(['Benito Juárez', 'Sor Juana', 'Emiliano Zapata', 'Niños Héroes'])} {i}",
                         r.choice(["Preescolar", "Primaria", "Secundaria"]), m[0], m[1], str(r.randint(40, 900)),
                         str(r.randint(3, 40)), "2024-2025"],
    ),
    "incidencia": (
        ["id_carpeta", "fecha_hecho", "hora", "cve_mun", "municipio", "delito", "colonia"],
        lambda r, i, m: [f"CI-{i:07d}", _date(r), f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}", m[0], m[1],
                         r.choice(["Robo a transeúnte", "Robo de vehículo", "Lesiones", "Fraude", "Daño en propiedad"]),
                         r.choice(["Centro", "San Lorenzo", "La Magdalena", "Santa Cruz", "El Carmen"])],
    ),
    "transporte": (
        ["id_ruta", "nombre_ruta", "cve_mun_origen", "municipio_origen", "destino", "unidades", "tarifa_pesos"],
        lambda r, i, m: [f"R-{i:04d}", f"Ruta {i}", m[0], m[1],
                         r.choice(["Indios Verdes", "Toluca Centro", "Pantitlán", "Cuatro Caminos"]),
                         str(r.randint(5, 80)), f"{r.choice([12, 13.5, 14, 16, 18]):.2f}"],
    ),
    "empleo": (
        ["id_registro", "fecha", "cve_mun", "municipio", "sector", "sexo", "edad", "salario_diario"],
        lambda r, i, m: [str(100000 + i), _date(r), m[0], m[1],
                         r.choice(["Manufactura", "Comercio", "Servicios", "Construcción", "Agropecuario"]),
                         r.choice(["Mujer", "Hombre"]), str(r.randint(18, 70)), f"{r.uniform(248.93, 900):.2f}"],
    ),
    "produccion_agricola": (
        ["id", "ciclo", "cve_mun", "municipio", "cultivo", "superficie_sembrada_ha", "produccion_ton", "fecha_corte"],
        lambda r, i, m: [str(i), r.choice(["Primavera-Verano", "Otoño-Invierno"]), m[0], m[1],
                         r.choice(["Maíz grano", "Avena forrajera", "Papa", "Haba verde", "Tomate verde"]),
                         f"{r.uniform(1, 900):.1f}", f"{r.uniform(1, 5000):.1f}", _date(r)],
    ),
    "obras": (
        ["num_contrato", "fecha_inicio", "cve_mun", "municipio", "descripcion_obra", "monto_contratado", "avance_pct"],
        lambda r, i, m: [f"SOP-{i:05d}-2024", _date(r), m[0], m[1],
                         r.choice(["Pavimentación de calle", "Rehabilitación de puente", "Construcción de aulas",
                                   "Red de drenaje"]), f"{r.uniform(1e5, 5e7):.2f}", str(r.randint(0, 100))],
    ),
    "turismo": (
        ["id_establecimiento", "nombre", "categoria", "cve_mun", "municipio", "cuartos", "fecha_registro"],
        lambda r, i, m: [f"HOT-{i:05d}", f"Hotel {r.choice(['Plaza', 'Real', 'Posada', 'Misión'])} {i}",
                         r.choice(["1 estrella", "2 estrellas", "3 estrellas", "4 estrellas", "5 estrellas"]), m[0],
                         m[1], str(r.randint(6, 220)), _date(r)],
    ),
}

TOPICS = tuple(_TOPICS)


def _date(r: random.Random) -> str:
    return f"20{r.randint(22, 25)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"


def _rng(seed: str) -> random.Random:
    return random.Random(zlib.crc32(seed.encode("utf-8")))


def table_rows(topic: str, rows: int, seed: str) -> tuple[list[str], list[list[str]]]:
    header, make = _TOPICS[topic]
    rnd = _rng(seed)
    return list(header), [make(rnd, i + 1, rnd.choice(MUNICIPIOS)) for i in range(rows)]


def csv_bytes(topic: str, rows: int = 300, *, seed: str = "", encoding: str = "utf-8", delimiter: str = ",",
              title_rows: tuple[str, ...] = (), total_row: bool = False) -> bytes:
    """A record-level CSV; optional title rows above the header and a trailing "Total" row (common MX faults)."""
    header, data = table_rows(topic, rows, seed or topic)
    lines = [delimiter.join([t] + [""] * (len(header) - 1)) for t in title_rows]
    lines.append(delimiter.join(header))
    for row in data:
        lines.append(delimiter.join(_quote(v, delimiter) for v in row))
    if total_row:
        total = sum(float(row[-1]) for row in data if _is_number(row[-1]))
        lines.append(delimiter.join(["Total"] + [""] * (len(header) - 2) + [f"{total:.2f}"]))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def summary_csv_bytes() -> bytes:
    """Summary-only table: yearly totals for the whole state (no record-level data)."""
    lines = ["anio,total_defunciones,tasa_por_100mil"]
    for year, total in ((2019, 81210), (2020, 129655), (2021, 131402), (2022, 96814), (2023, 93577)):
        lines.append(f"{year},{total},{total / 169.9:.1f}")
    lines.append("Total,532658,")
    return ("\n".join(lines) + "\n").encode("utf-8")


def dictionary_csv_bytes(topic: str, declares: tuple[tuple[str, str], ...] = (),
                         columns: tuple[tuple[str, str], ...] | None = None) -> bytes:
    """The topic's columns (``fecha`` typed as dates) or the given (column, type) ``columns``, plus ``declares``:
    columns the data file does not have."""
    header, _ = _TOPICS[topic]
    lines = ["campo,descripcion,tipo"]
    for col, kind in columns or [(c, "fecha" if "fecha" in c else "texto") for c in header]:
        lines.append(f'{col},"Descripción del campo {col}",{kind}')
    for col, kind in declares:
        lines.append(f'{col},"Descripción del campo {col}",{kind}')
    return ("\n".join(lines) + "\n").encode("utf-8")


def _quote(value: str, delimiter: str) -> str:
    if delimiter in value or '"' in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def json_records_bytes(topic: str, rows: int = 200, *, seed: str = "") -> bytes:
    header, data = table_rows(topic, rows, seed or topic)
    return json.dumps([dict(zip(header, row, strict=True)) for row in data], ensure_ascii=False, indent=1).encode()


def geojson_bytes(topic: str, rows: int = 120, *, seed: str = "") -> bytes:
    header, data = table_rows(topic, rows, seed or topic)
    rnd = _rng("geo" + (seed or topic))
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(rnd.uniform(-100.6, -98.6), 5),
                                                          round(rnd.uniform(18.4, 20.3), 5)]},
            "properties": dict(zip(header, row, strict=True)),
        }
        for row in data
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


@lru_cache(maxsize=32)
def xlsx_bytes(topic: str, rows: int = 200, seed: str = "") -> bytes:
    from openpyxl import Workbook

    header, data = table_rows(topic, rows, seed or topic)
    wb = Workbook()
    ws = wb.active
    ws.title = "datos"
    ws.append(header)
    for row in data:
        ws.append([float(v) if _is_number(v) and not v.startswith("0") and "-" not in v else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps creation/modification times into docProps/core.xml; normalise them for stable hashes
    return _normalise_zip(buf.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()


@lru_cache(maxsize=1)
def xls_bytes() -> bytes:
    """A real BIFF8 workbook (legacy Excel 97-2003), generated once with xlwt and shipped under static/."""
    return resources.files("audit.sample_portal").joinpath("static/unidades_economicas.xls").read_bytes()


def pdf_bytes(title: str, lines: tuple[str, ...] = ()) -> bytes:
    """A small valid one-page PDF with a title and a few lines of text (Latin-1 text, Helvetica)."""
    text_ops = ["BT /F1 16 Tf 72 740 Td (" + _pdf_escape(title) + ") Tj ET"]
    y = 710
    for line in lines:
        text_ops.append(f"BT /F1 11 Tf 72 {y} Td (" + _pdf_escape(line) + ") Tj ET")
        y -= 16
    stream = "\n".join(text_ops).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def docx_bytes(title: str, paragraphs: tuple[str, ...]) -> bytes:
    """A minimal valid Office Open XML word-processing document."""
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in (title, *paragraphs))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


def png_bytes(width: int = 64, height: int = 48, seed: str = "mapa") -> bytes:
    """A small valid RGB PNG (a coloured gradient, like a thumbnail of a map)."""
    rnd = _rng(seed)
    base = (rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(0, 255))
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(((base[0] + x * 3) % 256, (base[1] + y * 4) % 256, base[2]))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def synthetic_rows(n: int) -> int:
    """Row count of ``/files/synthetic/<n>.csv``: spread deterministically over 1,000–100,000."""
    return 1_000 + (zlib.crc32(f"rows-{n}".encode()) % 99_001)


def synthetic_csv_chunks(n: int, chunk_rows: int = 2_000):
    """Yield the synthetic CSV for file ``n`` in chunks (never builds the whole file in memory)."""
    rows = synthetic_rows(n)
    yield b"id,fecha,cve_mun,municipio,indicador,valor\n"
    for start in range(0, rows, chunk_rows):
        parts = []
        for i in range(start, min(rows, start + chunk_rows)):
            cve, mun = MUNICIPIOS[(i * 7 + n) % len(MUNICIPIOS)]
            parts.append(f"{i + 1},20{22 + i % 4}-{1 + i % 12:02d}-{1 + i % 28:02d},{cve},{mun},"
                         f"ind{n % 50},{(i * 37 + n) % 10007 / 10:.1f}\n")
        yield "".join(parts).encode("utf-8")
