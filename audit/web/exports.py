"""CSV and JSON downloads of what a view shows. CSV cells go through :func:`audit.csvfiles.safe_cell` against
spreadsheet formula injection (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets an apostrophe)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from starlette.responses import Response

from audit.csvfiles import safe_cell


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):  # findings → reason codes, as in scores.csv
        return ";".join(str(v.get("code", "")) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return safe_cell(value)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def download(rows: list[dict[str, Any]], columns: Sequence[str], fmt: str, filename: str) -> Response:
    """A CSV (UTF-8 with BOM so Excel reads accents) or JSON attachment named ``filename.<fmt>``."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in filename)[:120] or "descarga"
    if fmt == "csv":
        body = "\ufeff" + to_csv(rows, columns)
        media = "text/csv; charset=utf-8"
    else:
        body = json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, default=_json_default)
        media = "application/json"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{safe}.{fmt}"'})
