"""Reading user-supplied CSV files (commitments, reviews, contacts) with clear errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from audit.errors import InputFileError


def read_csv_rows(path: str | Path, required: tuple[str, ...], *, what: str) -> list[tuple[int, dict[str, str]]]:
    """Rows as (line number, {column: value}); headers compared case-insensitively. UTF-8 (with/without BOM),
    falling back to Windows-1252 — the two encodings spreadsheets on government PCs produce."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"No existe el archivo de {what}: {p}", hint="Revise la ruta indicada.")
    raw = p.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputFileError(
            f"El archivo de {what} {p} no tiene las columnas requeridas: {', '.join(missing)} "
            f"(columnas encontradas: {', '.join(header) or 'ninguna'}).",
            hint=f"La primera fila debe ser el encabezado: {','.join(required)}",
        )
    rows = []
    for i, row in enumerate(reader, start=2):
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(clean.values()):
            rows.append((i, clean))
    return rows
