"""Validation of admin uploads. The indicator/reviews loaders of the audit (``audit.indicator.load_commitments``,
``audit.reviews.load_reviews``) are used when installed, so the dashboard accepts exactly what an audit accepts;
a strict built-in check stands in for them otherwise. Either way a bad file raises InputFileError naming the
line and the problem."""

from __future__ import annotations

import csv
import importlib
from datetime import date
from pathlib import Path
from typing import Any

from audit.errors import InputFileError

UPLOAD_KINDS: dict[str, dict[str, Any]] = {
    "compromisos": {
        "label": "Inventario de compromisos",
        "filename": "compromisos.csv",
        "loader": ("audit.indicator", "load_commitments"),
        "columns": ("organization", "dataset", "due_date"),
        "dates": ("due_date",),
    },
    "revisiones": {
        "label": "Revisiones manuales",
        "filename": "revisiones.csv",
        "loader": ("audit.reviews", "load_reviews"),
        "columns": ("dataset", "characteristic", "status", "justification", "reviewer", "date"),
        "dates": ("date",),
    },
}
STATUSES = {"pass", "partial", "fail", "not_applicable"}


def validate_upload(kind: str, path: Path) -> int:
    """Validate the whole file; return its number of rows or raise InputFileError."""
    spec = UPLOAD_KINDS[kind]
    module, attr = spec["loader"]
    try:
        loader = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return _builtin_check(path, spec)
    try:
        rows = loader(path)
    except InputFileError:
        raise
    except (ValueError, KeyError, UnicodeDecodeError, csv.Error, OSError) as exc:  # loader let one through
        raise InputFileError(f"{path.name} no es válido: {exc}") from exc
    return len(rows) if hasattr(rows, "__len__") else sum(1 for _ in rows)


def _builtin_check(path: Path, spec: dict[str, Any]) -> int:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError("El archivo no está codificado en UTF-8.", hint="Guárdelo como «CSV UTF-8».") from exc
    if not text.strip():
        raise InputFileError("El archivo está vacío.")
    try:
        reader = csv.DictReader(text.splitlines())
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in spec["columns"] if c not in header]
        if missing:
            raise InputFileError(
                f"Faltan columnas: {', '.join(missing)} (encabezado recibido: {', '.join(header) or 'vacío'}).",
                hint=f"La primera fila debe ser: {','.join(spec['columns'])}",
            )
        count = 0
        problems: list[str] = []
        for lineno, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
            if not any(row.values()):
                continue
            count += 1
            for col in spec["columns"]:
                if not row.get(col):
                    problems.append(f"línea {lineno}: '{col}' está vacío")
            for col in spec["dates"]:
                if row.get(col):
                    try:
                        date.fromisoformat(row[col])
                    except ValueError:
                        problems.append(f"línea {lineno}: fecha inválida en '{col}': {row[col]!r} (use AAAA-MM-DD)")
            if "status" in row and row.get("status") and row["status"] not in STATUSES:
                problems.append(f"línea {lineno}: estado inválido {row['status']!r} (pass, partial, fail, not_applicable)")
            if len(problems) >= 20:
                break
    except csv.Error as exc:
        raise InputFileError(f"CSV mal formado: {exc}") from exc
    if problems:
        raise InputFileError("Errores en el archivo: " + "; ".join(problems[:20]))
    if count == 0:
        raise InputFileError("El archivo no tiene filas de datos.")
    return count
