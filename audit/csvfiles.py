"""Reading user-supplied CSV files (commitments, reviews, contacts) with clear errors.

These files are typed by evaluators in a spreadsheet on a government PC, so the reader accepts what such a PC
produces: UTF-8 with or without BOM, Windows-1252, UTF-16 ("Texto Unicode"), comma or semicolon (Excel in es-MX
saves "CSV" with ";"), and Spanish column names next to the documented English ones. Anything else is an
``InputFileError`` that says what is wrong, where, and how to fix it — never a traceback.

Every CSV the service writes (exports, comparisons, dashboard downloads) passes its cells through
:func:`safe_cell`, the one guard against spreadsheet formula injection: the same PCs open those files.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from audit.errors import InputFileError
from audit.textnorm import match_key

#: Spanish (and spelling) variants of the documented column names, compared with ``match_key``
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "organization": ("organizacion", "dependencia", "institucion", "organismo", "ente", "sujeto obligado"),
    "dataset": ("conjunto", "conjunto de datos", "nombre del conjunto", "nombre conjunto", "titulo"),
    "due_date": ("fecha compromiso", "fecha de compromiso", "fecha limite", "fecha comprometida", "vencimiento",
                 "fecha de publicacion comprometida", "fecha"),
    "characteristic": ("caracteristica",),
    "status": ("estado", "resultado", "dictamen"),
    "justification": ("justificacion", "motivo", "fundamento"),
    "reviewer": ("revisor", "evaluador", "responsable de la revision"),
    "date": ("fecha", "fecha de revision", "fecha revision"),
    "email": ("correo", "correo electronico", "e mail"),
}

_DELIMITERS = ",;\t|"

#: a text cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Prefix a quote to text that a spreadsheet would execute as a formula; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass
class InputLimits:
    """Bounds of every user-supplied file (``limits`` in config.yaml); the CLI and the pipeline set them from the
    configuration (:func:`configure_input_limits`), the defaults are the configuration's defaults."""

    max_bytes: int = 20 * 2**20
    max_rows: int = 100_000
    suite_max_bytes: int = 2 * 2**20


LIMITS = InputLimits()


def configure_input_limits(max_mb: float, max_rows: int, suite_max_mb: float) -> None:
    LIMITS.max_bytes, LIMITS.max_rows = int(max_mb * 2**20), max_rows
    LIMITS.suite_max_bytes = int(suite_max_mb * 2**20)


def check_size(p: Path, what: str, max_bytes: int | None = None) -> None:
    """Refuse a file larger than the configured bound before reading it (a 50 MB «CSV» is a mistake or an attack)."""
    limit = LIMITS.max_bytes if max_bytes is None else max_bytes
    size = p.stat().st_size
    if size > limit:
        key = "limits.suite_max_mb" if max_bytes is not None else "limits.input_max_mb"
        raise InputFileError(
            f"El archivo de {what} {p} pesa {size / 2**20:.1f} MB; el máximo admitido es {limit / 2**20:.1f} MB ({key}).",
            hint="Revise que sea el archivo correcto; si lo es, aumente el límite en config.yaml.")


def _decode(raw: bytes, p: Path, what: str) -> str:
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(
            f"El archivo de {what} {p} es un libro de Excel, no un CSV.",
            hint="Ábralo en Excel o LibreOffice y use «Guardar como» → «CSV UTF-8 (delimitado por comas)».")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise InputFileError(f"El archivo de {what} {p} no es texto (contiene bytes nulos).",
                             hint="Guárdelo como «CSV UTF-8 (delimitado por comas)».")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # never fails: every byte is a character


def _canonical(header: str, required: tuple[str, ...]) -> str:
    key = match_key(header)
    for name in required:
        if key == match_key(name) or key in {match_key(a) for a in HEADER_ALIASES.get(name, ())}:
            return name
    return header.strip().lower()


def _delimiter(text: str, required: tuple[str, ...]) -> str:
    """The candidate that splits the header line into the most required columns; else csv.Sniffer's guess."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    best, best_found = ",", -1
    for cand in _DELIMITERS:
        cells = [_canonical(c, required) for c in first.split(cand)]
        found = sum(1 for r in required if r in cells)
        if found > best_found:
            best, best_found = cand, found
    if best_found > 0:
        return best
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_csv_rows(path: str | Path, required: tuple[str, ...], *, what: str) -> list[tuple[int, dict[str, str]]]:
    """Rows as (line number, {column: value}) with columns named as in ``required`` (Spanish aliases mapped)."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"No existe el archivo de {what}: {p}", hint="Revise la ruta indicada.")
    check_size(p, what)
    text = _decode(p.read_bytes(), p, what)
    delimiter = _delimiter(text, required)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header_cells: list[str] = []
        for cells in reader:
            if any(c.strip() for c in cells):
                header_cells = cells
                break
        header = [_canonical(h, required) for h in header_cells]
        missing = [c for c in required if c not in header]
        if missing:
            found = ", ".join(h.strip() for h in header_cells if h.strip()) or "ninguna"
            raise InputFileError(
                f"El archivo de {what} {p} no tiene las columnas requeridas: {', '.join(missing)} "
                f"(columnas encontradas: {found}).",
                hint=f"La primera fila debe ser el encabezado: {','.join(required)} (o sus nombres en español).",
            )
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header) if name}
            rows.append((reader.line_num, row))
            if len(rows) > LIMITS.max_rows:
                most = f"{LIMITS.max_rows:_}".replace("_", " ")
                raise InputFileError(
                    f"El archivo de {what} {p} tiene más de {most} filas (limits.input_max_rows).",
                    hint="Revise que sea el archivo correcto; si lo es, aumente el límite en config.yaml.")
    except csv.Error as exc:
        raise InputFileError(
            f"El archivo de {what} {p} no es un CSV válido cerca de la línea {reader.line_num}: {exc}.",
            hint="Revise comillas sin cerrar en esa línea, o vuelva a guardarlo como «CSV UTF-8».",
        ) from exc
    return rows


_SPANISH_MONTHS = {"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
                   "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12}


def parse_day(value: str) -> date:
    """A full date as evaluators write it: 2025-06-30, 2025/06/30, 30/06/2025, 30-06-2025 or «30 de junio de
    2025». A year or a month alone is refused (ValueError): a due date needs a day, and guessing one (today's
    day of the month, as date parsers do) would silently move a commitment."""
    text = " ".join(value.strip().lower().split())
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text)
    if m:  # day first, as in Mexico
        return date(int(m[3]), int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2}) de ([a-z]+) (?:de|del) (\d{4})", text)
    if m and m[2] in _SPANISH_MONTHS:
        return date(int(m[3]), _SPANISH_MONTHS[m[2]], int(m[1]))
    raise ValueError(value)
