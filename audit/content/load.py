"""Turn the bytes of a tabular resource into a bounded pandas DataFrame, recording how it was read.

Government files are messy: Latin-1 CSVs, semicolons, title rows above the header, workbooks with several
sheets. The loader detects encoding, delimiter, quote character and header row, keeps the first
``max_rows`` records and never raises for bad input: a file that cannot be read comes back with an empty
frame and reason codes in ``problems`` (``bad_encoding``, ``huge_line``, ``zip_bomb``, ``broken_workbook`` …).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from audit.sniff import TABULAR_TYPES as TABULAR_TYPES  # re-exported: the content stage's own list
from audit.vocabulary import DATE_RE, NUMBER_RE, ColumnKind

log = logging.getLogger(__name__)

TEXT_TYPES = frozenset({"csv", "tsv", "text"})
_CANDIDATE_DELIMITERS = ",;\t|"
_HEADER_SCAN_ROWS = 30
#: column names that hold INEGI codes or identifiers must stay text (leading zeros matter: "01", "001")
CODE_NAME_RE = re.compile(
    r"(?i)^(cve|clave|cvegeo|cve_geo|codigo|código)([_\s-]|$)|(_|\s)(cve|clave)$|^(entidad|municipio|localidad)_?(cve|clave|id)$"
)

_DATE_COLUMN_RE = re.compile(r"(?i)fecha|date")
_YEAR_RE = re.compile(r"^(?:19|20)\d{2}(?:\.0)?$")
#: how Mexican government files say "no value" inside a column of numbers or dates (pandas already reads
#: "NA", "N/A", "NULL" and "" as missing)
PLACEHOLDERS = frozenset({
    "n/d", "nd", "n.d.", "n. d.", "s/d", "sd", "s.d.", "n/e", "ne", "n.e.", "n/a", "na", "-", "--", "---", "—", "–",
    "sin dato", "sin datos", "sin información", "sin informacion", "no disponible", "no aplica",
    "no especificado", "no especificada", "pendiente", "nan", "null", "none",
})
#: exact spellings matched without normalising each value (str.strip().str.lower() costs ≈ 1 ms per column)
_PLACEHOLDER_SPELLINGS = frozenset(
    v for p in PLACEHOLDERS for base in (p, p.upper(), p.capitalize(), p.title()) for v in (base, f" {base}", f"{base} ")
)
DEFAULT_MAX_LINE_BYTES = 1024 * 1024
DEFAULT_MAX_UNZIPPED_BYTES = 500 * 1024 * 1024


@dataclass
class LoadedTable:
    df: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    header_row: int | None = None  # 0-based row of the header in the file/sheet; None when no header found
    has_header: bool | None = None
    sheet_names: tuple[str, ...] = ()
    sheet_used: str | None = None  # the sheet validated (the one with the most data)
    problems: list[str] = field(default_factory=list)
    kind: str = ""  # the sniffed type actually used

    @property
    def parsed_ok(self) -> bool:
        return not any(p in FATAL_PROBLEMS for p in self.problems)


#: problems after which there is no usable table
FATAL_PROBLEMS = frozenset(
    {
        "empty_file", "bad_encoding", "huge_line", "zip_bomb", "broken_workbook", "invalid_json", "not_records",
        "parse_error", "unsupported_type", "no_columns",
    }
)


def load_table(
    data: bytes,
    sniffed_type: str,
    *,
    max_rows: int,
    filename: str | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> LoadedTable:
    """Load ``data`` (already downloaded, capped) as a table. Never raises for malformed input."""
    kind = (sniffed_type or "").lower()
    if kind not in TABULAR_TYPES and filename:
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        kind = ext if ext in TABULAR_TYPES else kind
    if not data or not data.strip():
        return LoadedTable(pd.DataFrame(), problems=["empty_file"], kind=kind)
    try:
        if kind in ("csv", "tsv", "text"):
            return _load_text(data, kind, max_rows=max_rows, max_line_bytes=max_line_bytes)
        if kind in ("xlsx", "ods"):
            return _load_zipped_workbook(data, kind, max_rows=max_rows, max_unzipped_bytes=max_unzipped_bytes)
        if kind == "xls":
            return _load_workbook(data, kind, engine="xlrd", max_rows=max_rows)
        if kind in ("json", "geojson"):
            return _load_json(data, kind, max_rows=max_rows)
    except MemoryError:
        return LoadedTable(pd.DataFrame(), problems=["parse_error", "memory_error"], kind=kind)
    except Exception as exc:  # a hostile file is a finding, never a crash
        log.debug("load_table failed kind=%s: %r", kind, exc)
        return LoadedTable(pd.DataFrame(), problems=["parse_error", f"exception:{type(exc).__name__}"], kind=kind)
    return LoadedTable(pd.DataFrame(), problems=["unsupported_type"], kind=kind)


# --------------------------------------------------------------------------- text (CSV/TSV)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode with BOM → UTF-8 → Windows-1252 → Latin-1 (the encodings found on Mexican portals)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # a capped download may cut a multi-byte character at the very end
        if exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8"), "utf-8"
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_dialect(sample: str, kind: str) -> tuple[str, str]:
    if kind == "tsv":
        return "\t", '"'
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=_CANDIDATE_DELIMITERS)
        delim, quote = dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:
        delim, quote = "", '"'
    if not delim or delim not in _CANDIDATE_DELIMITERS:
        # fall back to the candidate that splits most lines into the same, largest number of fields
        best, best_score = ",", -1
        for cand in _CANDIDATE_DELIMITERS:
            counts = [ln.count(cand) for ln in lines[-20:]]
            if counts and min(counts) > 0:
                score = min(counts) * 10 + (len(set(counts)) == 1)
                if score > best_score:
                    best, best_score = cand, score
        delim = best
    if quote not in ("'", '"'):
        quote = '"'
    return delim, quote


def _is_number(value: str) -> bool:
    return bool(value) and bool(NUMBER_RE.match(value)) and any(ch.isdigit() for ch in value)


def detect_header(rows: list[list[Any]]) -> tuple[int | None, bool]:
    """Return (header_row, has_header) from the first rows of a file or sheet.

    Title rows ("Secretaría de …", "Cifras al 31 de diciembre") have one or two filled cells; the header is
    the first row as wide as the data below it. It is a header when its cells are non-numeric text.
    """
    cleaned = [[("" if v is None else str(v)).strip() for v in row] for row in rows]
    cleaned = [[c if c.lower() not in ("nan", "none", "nat") else "" for c in row] for row in cleaned]
    filled = [sum(1 for c in row if c) for row in cleaned]
    if not any(filled):
        return None, False
    width = max(filled)
    # the modal width of the lower rows is the data width (a long title never sets it)
    lower = [f for f in filled[1:] if f] or filled
    data_width = max(set(lower), key=lambda w: (lower.count(w), w))
    target = max(1, min(width, data_width))
    for idx, row in enumerate(cleaned):
        if filled[idx] >= max(1, int(target * 0.6)) and (filled[idx] >= 2 or target == 1):
            cells = [c for c in row if c]
            # years as column names («Municipio, 2015, 2016 …»: a pivot table's header) are names, not data
            numeric = [c for c in cells if _is_number(c)]
            year_names = bool(numeric) and len(numeric) < len(cells) and all(_YEAR_RE.match(c) for c in numeric)
            return idx, len(cells) > 0 and (not numeric or year_names)
    return 0, False


def _load_text(data: bytes, kind: str, *, max_rows: int, max_line_bytes: int) -> LoadedTable:
    # a single enormous line (or a binary blob) would make the parser swallow everything into one field
    probe = data[: max_line_bytes + 1]
    if len(data) > max_line_bytes and b"\n" not in probe and b"\r" not in probe:
        return LoadedTable(pd.DataFrame(), problems=["huge_line"], kind=kind)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return LoadedTable(pd.DataFrame(), problems=["bad_encoding", "binary_content"], kind=kind)
    text, encoding = decode_text(data)
    problems: list[str] = []
    if "\ufffd" in text[:100_000]:
        problems.append("replacement_characters")
    delim, quote = _sniff_dialect(text[:65_536], kind)
    head_lines = text[:65_536].splitlines()[:_HEADER_SCAN_ROWS]
    head_rows = list(csv.reader(head_lines, delimiter=delim, quotechar=quote))
    header_row, has_header = detect_header(head_rows)
    if header_row is None:
        return LoadedTable(pd.DataFrame(), encoding=encoding, delimiter=delim, problems=["empty_file"], kind=kind)
    if header_row > 0:
        problems.append("title_rows_above_header")
    names = [c.strip() for c in head_rows[header_row]] if header_row < len(head_rows) else []
    dtype = {n: "str" for n in names if n and CODE_NAME_RE.search(n)}
    try:
        # the C parser decodes bytes itself (faster than re-reading a Python str)
        src: io.IOBase = io.BytesIO(data) if encoding in ("utf-8", "utf-8-sig", "cp1252", "latin-1") else io.StringIO(text)
        df = pd.read_csv(
            src,
            encoding=encoding if isinstance(src, io.BytesIO) else None,
            encoding_errors="replace",
            sep=delim,
            quotechar=quote,
            skiprows=header_row,
            header=0 if has_header else None,
            nrows=max_rows,
            dtype=dtype or None,
            on_bad_lines="skip",
            skip_blank_lines=True,
            engine="c",
            low_memory=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        log.debug("read_csv failed: %r", exc)
        return LoadedTable(
            pd.DataFrame(), encoding=encoding, delimiter=delim, quotechar=quote, header_row=header_row,
            problems=problems + ["parse_error"], kind=kind,
        )
    if text.count("\n") > max_rows + header_row + 1 and len(df) >= max_rows:
        problems.append("rows_truncated")
    df = strip_note_rows(df, problems, keep_text=frozenset(dtype))
    if has_header:
        df, names = _drop_layout_artifacts(df, names, problems, keep_text=frozenset(dtype))
    df = _finish_frame(df, has_header, problems, header=names if has_header else None)
    return LoadedTable(
        df, encoding=encoding, delimiter=delim, quotechar=quote, header_row=header_row, has_header=has_header,
        problems=problems, kind=kind,
    )


# --------------------------------------------------------------------------- workbooks


def _load_zipped_workbook(data: bytes, kind: str, *, max_rows: int, max_unzipped_bytes: int) -> LoadedTable:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            ratio = total / max(1, sum(i.compress_size for i in infos))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        return LoadedTable(pd.DataFrame(), problems=["broken_workbook"], kind=kind)
    if total > max_unzipped_bytes or (ratio > 200 and total > 50 * 1024 * 1024):
        return LoadedTable(pd.DataFrame(), problems=["zip_bomb"], kind=kind)
    return _load_workbook(data, kind, engine="openpyxl" if kind == "xlsx" else "odf", max_rows=max_rows)


def _read_sheet(data: bytes, engine: str, max_rows: int) -> tuple[tuple[str, ...], str, pd.DataFrame]:
    book = pd.ExcelFile(io.BytesIO(data), engine=engine)
    sheets = tuple(str(s) for s in book.sheet_names)
    if not sheets:
        raise ValueError("workbook without sheets")
    sheet = _data_sheet(book, sheets)
    return sheets, sheet, book.parse(sheet, header=None, nrows=max_rows + _HEADER_SCAN_ROWS, dtype=object)


def _load_workbook(data: bytes, kind: str, *, engine: str, max_rows: int) -> LoadedTable:
    # calamine (Rust) reads XLSX/XLS/ODS 5–10× faster than openpyxl/xlrd/odfpy (90,000 rows: 0.5 s vs 3.9 s);
    # the Python readers stay as the fallback for a file it refuses
    sheets: tuple[str, ...] = ()
    raw = None
    for candidate in ("calamine", engine):
        try:
            sheets, sheet, raw = _read_sheet(data, candidate, max_rows)
            break
        except Exception as exc:  # the readers raise many different types for corrupt files
            log.debug("workbook failed kind=%s engine=%s: %r", kind, candidate, exc)
    if raw is None:
        return LoadedTable(pd.DataFrame(), problems=["broken_workbook"], kind=kind)
    problems: list[str] = []
    if len(sheets) > 1:
        problems.append("multiple_sheets")
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    if raw.empty:
        return LoadedTable(pd.DataFrame(), sheet_names=sheets, problems=["empty_file"], kind=kind)
    head = raw.head(_HEADER_SCAN_ROWS).values.tolist()
    header_pos, has_header = detect_header(head)
    header_pos = header_pos or 0
    if header_pos > 0:
        problems.append("title_rows_above_header")
    header_row = int(raw.index[header_pos])
    if has_header:
        names = ["" if pd.isna(v) else str(v).strip() for v in raw.iloc[header_pos].tolist()]
        two_rows = _second_header_row(raw, header_pos)
        if two_rows is not None:
            names = two_rows
            header_pos += 1
            problems.append("two_row_header")
        body = raw.iloc[header_pos + 1 :].copy()
        body.columns = _dedupe_names(names)
    else:
        body = raw.iloc[header_pos:].copy()
        body.columns = [f"columna_{i + 1}" for i in range(body.shape[1])]
    body = strip_note_rows(body.head(max_rows).reset_index(drop=True), problems)
    # cells come as objects: let pandas infer numbers/text per column as it does for CSV
    body = _infer_object_columns(body)
    df = _finish_frame(body, has_header, problems, header=names if has_header else None)
    return LoadedTable(df, header_row=header_row, has_header=has_header, sheet_names=sheets, sheet_used=sheet,
                       problems=problems, kind=kind)


_SHEET_SCAN_ROWS = 200
_SHEET_SCAN_MAX = 10


def _data_sheet(book: pd.ExcelFile, sheets: tuple[str, ...]) -> str:
    """The sheet that holds the data: the one with the most filled cells in its first rows (a cover, «Notas» or
    «Metadatos» sheet often comes first). Ties keep the earlier sheet."""
    if len(sheets) == 1:
        return sheets[0]
    best, best_cells = sheets[0], -1
    for name in sheets[:_SHEET_SCAN_MAX]:
        try:
            cells = int(book.parse(name, header=None, nrows=_SHEET_SCAN_ROWS, dtype=object).notna().sum().sum())
        except Exception:  # a broken sheet is simply not the data sheet
            continue
        if cells > best_cells:
            best, best_cells = name, cells
    return best


def _is_number_cell(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return not pd.isna(value)
    return _is_number(str(value).strip())


def _second_header_row(raw: pd.DataFrame, header_pos: int) -> list[str] | None:
    """Names from a header written on two rows with merged cells («Población» over «Hombres | Mujeres»), or None.

    It is one when the header row has gaps (merged cells), the row under it is text where the rows below are
    numbers; each name is then the upper label (carried across its merged span) and the lower one.
    """
    if header_pos + 3 > len(raw):
        return None
    top, sub = raw.iloc[header_pos], raw.iloc[header_pos + 1]
    below = raw.iloc[header_pos + 2 : header_pos + 12]
    sub_cols = [c for c in raw.columns if pd.notna(sub[c]) and str(sub[c]).strip()]
    if len(sub_cols) < 2 or not top.isna().any() or any(_is_number_cell(sub[c]) for c in sub_cols):
        return None
    numeric = [below[c].map(_is_number_cell).mean() for c in sub_cols if below[c].notna().any()]
    if not numeric or sum(numeric) / len(numeric) < 0.5:
        return None
    names, upper = [], ""
    for c in raw.columns:
        if pd.notna(top[c]) and str(top[c]).strip():
            upper = str(top[c]).strip()
        elif pd.isna(sub[c]) or not str(sub[c]).strip():
            upper = ""  # neither row names this column: a merged span does not reach it
        lower = str(sub[c]).strip() if pd.notna(sub[c]) else ""
        names.append(" ".join(x for x in (upper, lower) if x))
    return names


def _infer_object_columns(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col in df.columns:
        s = df[col]
        if CODE_NAME_RE.search(str(col)):
            out[col] = s.map(lambda v: v if v is None or (isinstance(v, float) and pd.isna(v)) else _code_text(v)).astype("str")
            continue
        converted = _as_numbers(s)
        if converted is not None:
            out[col] = converted
        else:
            out[col] = s.astype("str").where(s.notna())
    return pd.DataFrame(out, index=df.index)


def _code_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --------------------------------------------------------------------------- JSON / GeoJSON


def _load_json(data: bytes, kind: str, *, max_rows: int) -> LoadedTable:
    text, encoding = decode_text(data)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return LoadedTable(pd.DataFrame(), encoding=encoding, problems=["invalid_json"], kind=kind)
    problems: list[str] = []
    records: list[Any] | None = None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        kind = "geojson"
        records = []
        for feat in doc["features"][:max_rows]:
            if not isinstance(feat, dict):
                continue
            props: dict[str, Any] = feat["properties"] if isinstance(feat.get("properties"), dict) else {}
            geom: dict[str, Any] = feat["geometry"] if isinstance(feat.get("geometry"), dict) else {}
            records.append({**props, "geometry_type": geom.get("type")})
    elif isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        # {"data": [...]} / {"result": {"records": [...]}} wrappers of APIs and CKAN datastore dumps
        records = _find_records(doc)
    if not records or not all(isinstance(r, dict) for r in records[:100]):
        return LoadedTable(pd.DataFrame(), encoding=encoding, problems=["not_records"], kind=kind)
    rows = [r for r in records[:max_rows] if isinstance(r, dict)]
    flat = [{k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows]
    df = pd.DataFrame.from_records(flat)
    df = _infer_object_columns(df) if not df.empty else df
    df = _finish_frame(df, True, problems)
    return LoadedTable(df, encoding=encoding, header_row=None, has_header=True, problems=problems, kind=kind)


_RECORD_KEYS = ("records", "data", "rows", "results", "items", "features", "registros", "datos", "resultados")


def _find_records(doc: dict[str, Any], depth: int = 0) -> list[Any] | None:
    if depth > 3:
        return None
    # the conventional keys first: a CKAN datastore dump has "fields" (also a list of objects) before "records"
    for key in _RECORD_KEYS:
        value = doc.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value
    lists = [v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
    if lists:
        return max(lists, key=len)
    for value in doc.values():
        if isinstance(value, dict):
            found = _find_records(value, depth + 1)
            if found:
                return found
    return None


# --------------------------------------------------------------------------- common


def _dedupe_names(names: list[str]) -> list[str]:
    """Keep the original names but make them unique so pandas/GX can address every column."""
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        base = n or f"columna_{i + 1}"
        if base in seen:
            seen[base] += 1
            base = f"{base}.{seen[base]}"
        else:
            seen[base] = 0
        out.append(base)
    return out


#: how a footnote below the data starts: "Fuente: INEGI", "Nota:", "* Cifras preliminares", "Elaborado por …"
_NOTE_RE = re.compile(
    r"(?i)^\s*(?:\*|\(\d+\)|\d\)\s|fuente|notas?\b|nota:|elabor|cifras|informaci[oó]n\s+(?:al|a\s+la|con\s+corte)"
    r"|fecha\s+de\s+(?:corte|actualizaci)|actualizad|observaci|(?:n/?d|s/?d|n\.d\.)\s*[:=]|las\s+cifras|los\s+datos"
    r"|datos\s+al|corte\s+al|periodo\s+que\s+se\s+informa|para\s+mayor\s+informaci)"
)
_NOTE_SCAN_ROWS = 15


def strip_note_rows(df: pd.DataFrame, problems: list[str], *, keep_text: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Drop footnotes below the data ("Fuente: …", "Nota: …": one filled cell in a table of three or more
    columns) and blank rows after them; record ``notes_below_data``. A note in a numeric column made pandas read
    the whole column as text, so such columns are read as numbers again (except ``keep_text``: code columns)."""
    if df.shape[1] < 3 or len(df) < 2:
        return df
    tail = df.tail(_NOTE_SCAN_ROWS)
    filled = tail.notna().sum(axis=1).tolist()
    drop, notes = 0, 0
    for pos in range(len(tail) - 1, -1, -1):
        if filled[pos] == 0:
            drop += 1
            continue
        # a note is one cell, or a few when its text had unquoted delimiters ("Fuente: INEGI, Censo 2020")
        if filled[pos] * 2 <= df.shape[1] or filled[pos] == 1:
            value = tail.iloc[pos].dropna().iloc[0]
            if isinstance(value, str) and (_NOTE_RE.match(value) or (filled[pos] == 1 and len(value.strip()) >= 40)):
                drop += 1
                notes += 1
                continue
        break
    if not notes or drop >= len(df):
        return df
    problems.append("notes_below_data")
    dropped = df.iloc[len(df) - drop :]
    df = df.iloc[: len(df) - drop].copy()
    return _numbers_again(df, [c for c in df.columns if c not in keep_text and dropped[c].notna().any()])


def _as_numbers(values: pd.Series) -> pd.Series | None:
    """``values`` as numbers when every filled cell is one (and at least one is filled), else None."""
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers if numbers.notna().any() and numbers.notna().sum() == values.notna().sum() else None


def _numbers_again(df: pd.DataFrame, columns: list[Any]) -> pd.DataFrame:
    """Text columns among ``columns`` that hold only numbers once a stray row is gone, read as numbers."""
    for col in columns:
        if not pd.api.types.is_numeric_dtype(df[col]) and (numbers := _as_numbers(df[col])) is not None:
            df[col] = numbers
    return df


def _drop_layout_artifacts(df: pd.DataFrame, names: list[str], problems: list[str], *,
                           keep_text: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, list[str]]:
    """Spreadsheet leftovers that are not data: a nameless, empty last column (every line ends with the
    delimiter: ``trailing_delimiter``) and the header repeated inside the data (pages pasted one after another:
    ``repeated_header_rows``), after which number columns are numbers again."""
    if df.shape[1] > 1 and (not names or len(names) != df.shape[1] or not names[-1]) \
            and str(df.columns[-1]).startswith("Unnamed:") and df.iloc[:, -1].isna().all():
        df = df.iloc[:, :-1]
        names = names[: df.shape[1]]
        problems.append("trailing_delimiter")
    if len(df) and df.shape[1] > 1:
        header = [str(c).strip() for c in df.columns]
        text_cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        if len(text_cols) == df.shape[1]:  # a header row inside the data makes every column text
            repeated = pd.Series(True, index=df.index)
            for col, name in zip(df.columns, header, strict=True):
                repeated &= df[col].astype("str").str.strip() == name
            if repeated.any():
                df = _numbers_again(df[~repeated].copy(), [c for c in df.columns if c not in keep_text])
                problems.append("repeated_header_rows")
    return df, names


def _finish_frame(df: pd.DataFrame, has_header: bool, problems: list[str], header: list[str] | None = None) -> pd.DataFrame:
    if df.shape[1] == 0:
        problems.append("no_columns")
        return df
    if not has_header:
        problems.append("no_header")
        df.columns = [f"columna_{i + 1}" for i in range(df.shape[1])]
        return df
    raw_names = [str(c) for c in df.columns]
    # the header as written in the file (pandas renames blanks "Unnamed: 3" and duplicates "a.1")
    written = header if header is not None and len(header) == len(raw_names) else raw_names
    written = [("" if n.startswith("Unnamed:") else n).strip() for n in written]
    if any(not n for n in written):
        problems.append("blank_column_names")
    filled = [n.lower() for n in written if n]
    if len(set(filled)) < len(filled):
        problems.append("duplicate_column_names")
    df.columns = _dedupe_names(written)
    return df


def column_kinds(df: pd.DataFrame, *, share_min: float = 0.8, sample: int = 2000) -> dict[str, str]:
    """Classify each column as numeric, date, text, code or empty, from its dtype and a sample of values."""
    kinds: dict[str, str] = {}
    for col in df.columns:
        s = df[col]
        first = s.first_valid_index()  # stops at the first value, where dropna() would copy the whole column
        if first is None:
            kinds[col] = ColumnKind.EMPTY
        elif pd.api.types.is_bool_dtype(s):
            kinds[col] = ColumnKind.TEXT
        elif pd.api.types.is_numeric_dtype(s):
            kinds[col] = ColumnKind.NUMERIC
        elif pd.api.types.is_datetime64_any_dtype(s):
            kinds[col] = ColumnKind.DATETIME
        else:
            start = s.index.get_indexer([first])[0] if s.index.is_unique else 0
            vals = s.iloc[start : start + 4 * sample].dropna().head(sample).astype(str)
            # "N/D" or "-" among numbers do not make a column text: decide on the informative values (the
            # placeholders then fail the column's type check, which is the finding)
            informative = vals[~vals.isin(_PLACEHOLDER_SPELLINGS)]
            vals = informative if len(informative) else vals
            if CODE_NAME_RE.search(str(col)):
                kinds[col] = ColumnKind.CODE
            elif (date_share := vals.str.match(DATE_RE).mean()) >= share_min or (
                date_share >= 0.5 and _DATE_COLUMN_RE.search(str(col))
            ):
                kinds[col] = ColumnKind.DATE
            elif vals.str.match(NUMBER_RE).mean() >= share_min:
                kinds[col] = ColumnKind.NUMERIC_TEXT  # mostly numbers stored as text: a type-consistency suspect
            else:
                kinds[col] = ColumnKind.TEXT
    return kinds
