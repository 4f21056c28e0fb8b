"""The built-in Great Expectations suite, agency suites and data-dictionary expectations.

GX 1.x is imported lazily, once per process (it costs seconds), with one ephemeral context, one pandas data
source and one whole-dataframe batch definition reused for every table. Suites are built per table because
the built-in expectations name the table's own columns; building a suite is cheap, running it is the cost.

To keep a 100,000-row file in tens of milliseconds, GX validates a bounded sample (the first and last
``validation_sample_rows / 2`` rows: title rows live at the top, "Total" rows at the bottom); row counts,
empty columns and duplicate share are measured with pandas on the whole loaded frame and reported next to
the GX results under ``"profile"``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import Any

import pandas as pd

from audit.config import ContentSettings
from audit.content.load import column_kinds
from audit.textnorm import strip_accents
from audit.vocabulary import DATE_REGEX, NUMBER_REGEX, SUMMARY_RE, SUMMARY_REGEX

log = logging.getLogger(__name__)

#: whole words of a column name (split on spaces, "_" and "-"): «tamaño_de_empresa» has no «año», «media» no «dia»
_DATE_NAME_RE = re.compile(
    r"(?i)(?:^|[\s_\-])(?:fecha|date|periodo|period|a[nñ]o|anio|year|mes|month|ejercicio|trimestre|dia|d[ií]a|"
    r"semana|week|fec)(?:$|[\s_\-])|^(?:fecha|date)"  # also camelCase «fechaRegistro»
)
_ID_NAME_RE = re.compile(r"(?i)^(id|folio|uuid|clave|cve)([_\s-]|$)|(_|\s)(id|cve|clave)$")

#: INEGI geostatistical codes: column-name pattern → (label, regex of a valid value)
INEGI_CODES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"(?i)^(cve_?geo|cvegeo|clave_?geo(estadistica)?)$"), "cvegeo", r"^\d{5}(?:\d{4})?$"),
    (re.compile(r"(?i)^(cve|clave|id)[_\s-]?(ent|edo|entidad|estado)$|^(entidad|estado)[_\s-]?(cve|clave|id)$"), "entidad", r"^(?:0[1-9]|[12]\d|3[0-2])$"),
    (re.compile(r"(?i)^(cve|clave|id)[_\s-]?(mun|municipio)$|^municipio[_\s-]?(cve|clave|id)$"), "municipio", r"^(?:(?:0[1-9]|[12]\d|3[0-2])?\d{3})$"),
    (re.compile(r"(?i)^(cve|clave|id)[_\s-]?(loc|localidad)$|^localidad[_\s-]?(cve|clave|id)$"), "localidad", r"^(?:(?:0[1-9]|[12]\d|3[0-2])\d{3})?\d{4}$"),
)

NUMERIC_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
                  "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64"]

_lock = threading.Lock()
_gx_state: dict[str, Any] = {}


def _gx() -> tuple[Any, Any, Any]:
    """(great_expectations module, expectations module, batch definition), created once per process."""
    with _lock:
        if not _gx_state:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx
            import great_expectations.expectations as gxe
            from great_expectations.data_context.types.base import ProgressBarsConfig

            # GX logs an error per bad agency expectation; we report those ourselves
            logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            asset = ctx.data_sources.add_pandas("auditor_content").add_dataframe_asset("table")
            _gx_state.update(gx=gx, gxe=gxe, batch_definition=asset.add_batch_definition_whole_dataframe("whole"))
        return _gx_state["gx"], _gx_state["gxe"], _gx_state["batch_definition"]


def warm_up() -> None:
    """Import GX and build the context now (worker initialiser), so the first table does not pay for it."""
    _gx()


# --------------------------------------------------------------------------- built-in suite


def inegi_code_kind(column: str) -> tuple[str, str] | None:
    for pattern, label, regex in INEGI_CODES:
        if pattern.search(column.strip()):
            return label, regex
    return None


def is_date_name(column: str) -> bool:
    """A column named like a date or period («fecha_registro», «año», «mes»), on whole words."""
    return bool(_DATE_NAME_RE.search(column))


def disaggregation_keys(df: pd.DataFrame, kinds: dict[str, str]) -> list[str]:
    """Columns that let a user disaggregate records: dates/periods, INEGI codes, identifiers."""
    keys = []
    for col in df.columns:
        name = str(col)
        if kinds.get(col) in ("date", "datetime") or _DATE_NAME_RE.search(name) or inegi_code_kind(name) or _ID_NAME_RE.search(name):
            if kinds.get(col) != "empty":
                keys.append(name)
    return keys


def label_columns(df: pd.DataFrame, kinds: dict[str, str]) -> list[str]:
    """The first text-typed columns: where a summary row carries its "Total" label (even in a year column)."""
    text = [str(c) for c in df.columns if kinds.get(str(c)) in ("text", "code")][:3]
    mixed = [str(c) for c in df.columns if kinds.get(str(c)) in ("numeric_text", "date")][:3]
    return text + mixed


#: rows at each end of the frame searched for a "Total" label in a column of numbers or dates
SUMMARY_EDGE_ROWS = 50


def summary_mask(df: pd.DataFrame, columns: list[str], kinds: dict[str, str] | None = None) -> pd.Series:
    """Rows whose label says they aggregate others. Regex over distinct values only (labels repeat a lot).

    In a column of numbers or dates (``kinds`` numeric_text/date) a "Total" label sits where a pivot table
    puts it, in the first or last rows: only those are searched, since such a column can hold one distinct
    value per row and searching them all costs more than the rest of the profile.
    """
    mask = pd.Series(False, index=df.index)
    for col in columns:
        values = df[col]
        if kinds and kinds.get(col) in ("numeric_text", "date") and len(df) > 4 * SUMMARY_EDGE_ROWS:
            values = pd.concat([values.head(SUMMARY_EDGE_ROWS), values.tail(SUMMARY_EDGE_ROWS)])
        uniques = pd.Series(values.unique()).dropna().astype("str")  # distinct first: dropna copies the column
        hits = uniques[uniques.str.contains(SUMMARY_RE, na=False)]
        if len(hits):
            mask.loc[values.index] |= values.isin(set(hits))
    return mask


def builtin_expectations(df: pd.DataFrame, kinds: dict[str, str], settings: ContentSettings) -> list[dict[str, Any]]:
    """The built-in suite for this table, as GX expectation configurations ({"type", "kwargs", "meta"}).

    GX charges per expectation (it builds a metric graph for each), so expectations whose outcome is
    certain are not sent: a null-share check only for columns that have nulls, a summary-row check on the
    first label column and on any other label column that holds such a label. ``df`` is the frame GX will see.
    """
    ex: list[dict[str, Any]] = [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": settings.min_rows},
         "meta": {"check": "min_rows"}},
    ]
    columns = [str(c) for c in df.columns]
    has_nulls = df.isna().any()
    for col in columns:
        if bool(has_nulls[col]):
            ex.append({"type": "expect_column_values_to_not_be_null",
                       "kwargs": {"column": col, "mostly": round(1 - settings.null_share_max, 6)},
                       "meta": {"check": "null_share"}})
    if len(columns) > 1:
        ex.append({"type": "expect_compound_columns_to_be_unique",
                   "kwargs": {"column_list": columns, "mostly": round(1 - settings.duplicate_share_max, 6),
                              "ignore_row_if": "all_values_are_missing"},
                   "meta": {"check": "duplicate_rows"}})
    for col in columns:
        kind = kinds.get(col)
        if kind == "numeric_text":
            ex.append({"type": "expect_column_values_to_match_regex", "kwargs": {"column": col, "regex": NUMBER_REGEX},
                       "meta": {"check": "type_consistency", "kind": "numeric"}})
        elif kind == "date":
            ex.append({"type": "expect_column_values_to_match_regex", "kwargs": {"column": col, "regex": DATE_REGEX},
                       "meta": {"check": "type_consistency", "kind": "date"}})
        code = inegi_code_kind(col)
        if code and kind in ("code", "text", "numeric_text"):
            ex.append({"type": "expect_column_values_to_match_regex", "kwargs": {"column": col, "regex": code[1]},
                       "meta": {"check": "inegi_code", "kind": code[0]}})
    labels = label_columns(df, kinds)
    for i, col in enumerate(labels):
        if i == 0 or bool(summary_mask(df, [col], kinds).any()):
            ex.append({"type": "expect_column_values_to_not_match_regex", "kwargs": {"column": col, "regex": SUMMARY_REGEX},
                       "meta": {"check": "summary_rows"}})
    return ex


def validation_sample(df: pd.DataFrame, rows: int) -> pd.DataFrame:
    if len(df) <= rows:
        return df
    half = rows // 2
    return pd.concat([df.head(half), df.tail(rows - half)])


# --------------------------------------------------------------------------- data dictionary

_FIELD_HEADERS = ("campo", "nombre del campo", "nombre_campo", "nombre de la variable", "variable", "field", "field name",
                  "columna", "column", "nombre", "name", "atributo")
_TYPE_HEADERS = ("tipo", "tipo de dato", "tipo_dato", "tipo de datos", "type", "data type", "formato")
_TYPE_WORDS = {
    "numeric": ("num", "entero", "integer", "int", "decimal", "float", "double", "real", "number", "moneda", "flotante"),
    "date": ("fecha", "date", "datetime", "timestamp", "hora"),
    "text": ("texto", "text", "cadena", "string", "varchar", "char", "alfanum", "caracter", "carácter", "str"),
}


def norm(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how dictionary names are matched to columns."""
    return re.sub(r"[\s_\-]+", " ", strip_accents(str(text)).lower()).strip()


def parse_dictionary(df: pd.DataFrame) -> list[dict[str, str]]:
    """Read a data-dictionary table into ``[{"name", "type"}]``; empty if it does not look like one."""
    cols = {norm(c): c for c in df.columns}
    field_col = next((cols[h] for h in map(norm, _FIELD_HEADERS) if h in cols), None)
    type_col = next((cols[h] for h in map(norm, _TYPE_HEADERS) if h in cols), None)
    if field_col is None:
        return []
    fields = []
    for _, row in df.iterrows():
        name = row[field_col]
        if name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip():
            continue
        raw_type = "" if type_col is None or pd.isna(row[type_col]) else norm(str(row[type_col]))
        ftype = "unknown"
        for kind, words in _TYPE_WORDS.items():
            if any(raw_type.startswith(w) or f" {w}" in f" {raw_type}" for w in words):
                ftype = kind
                break
        fields.append({"name": str(name).strip(), "type": ftype})
    return fields


def dictionary_suite(fields: list[dict[str, str]], df: pd.DataFrame, *, name: str) -> dict[str, Any]:
    """Expectations from a data dictionary: every field exists (matched ignoring case/accents) and has its type."""
    by_norm = {norm(c): str(c) for c in df.columns}
    expected = [by_norm.get(norm(f["name"]), f["name"]) for f in fields]
    ex: list[dict[str, Any]] = [
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": expected, "exact_match": False},
         "meta": {"check": "dictionary_columns"}},
    ]
    for f, col in zip(fields, expected, strict=True):
        if col not in df.columns:
            continue
        numeric_dtype = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
        if f["type"] == "numeric":
            if numeric_dtype:
                ex.append({"type": "expect_column_values_to_be_in_type_list", "kwargs": {"column": col, "type_list": NUMERIC_DTYPES},
                           "meta": {"check": "dictionary_type", "kind": "numeric"}})
            else:
                ex.append({"type": "expect_column_values_to_match_regex", "kwargs": {"column": col, "regex": NUMBER_REGEX},
                           "meta": {"check": "dictionary_type", "kind": "numeric"}})
        elif f["type"] == "date":
            if numeric_dtype:  # numbers where the dictionary promises dates
                ex.append({"type": "expect_column_values_to_be_in_type_list", "kwargs": {"column": col, "type_list": ["str", "object", "string", "datetime64[ns]"]},
                           "meta": {"check": "dictionary_type", "kind": "date"}})
            else:
                ex.append({"type": "expect_column_values_to_match_regex", "kwargs": {"column": col, "regex": DATE_REGEX},
                           "meta": {"check": "dictionary_type", "kind": "date"}})
    return {"name": name, "expectations": ex, "meta": {"source": "dictionary"}}


# --------------------------------------------------------------------------- running suites


def _build_suite(gx: Any, suite: dict[str, Any], columns: set[str]) -> tuple[Any, list[dict[str, Any]]]:
    """A GX ExpectationSuite from a configuration dict; invalid expectations are reported, not raised."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    built: list[Any] = []
    invalid: list[dict[str, Any]] = []
    if (suite.get("meta") or {}).get("error"):
        invalid.append({"error": str(suite["meta"]["error"])[:300]})
    for i, item in enumerate(suite.get("expectations") or []):
        if not isinstance(item, dict):
            invalid.append({"index": i, "error": "la expectativa no es un objeto"})
            continue
        etype = item.get("type") or item.get("expectation_type")
        kwargs = dict(item.get("kwargs") or {})
        kwargs.pop("batch_id", None)
        col = kwargs.get("column")
        try:
            conf = ExpectationConfiguration(type=str(etype), kwargs=kwargs, meta=item.get("meta") or {})
            built.append(conf.to_domain_obj())
        except Exception as exc:  # unknown type or bad kwargs in an agency file
            invalid.append({"index": i, "type": etype, "error": f"{type(exc).__name__}: {str(exc)[:200]}"})
            continue
        if col is not None and str(col) not in columns:
            invalid.append({"index": i, "type": etype, "column": col, "error": "column_missing"})
    return gx.ExpectationSuite(name=str(suite.get("name") or "suite"), expectations=built), invalid


def _summarise(raw: dict[str, Any], suite: dict[str, Any], invalid: list[dict[str, Any]]) -> dict[str, Any]:
    items = []
    failed = []
    metas = [e.get("meta") or {} for e in suite.get("expectations") or [] if isinstance(e, dict)]
    for r in raw.get("results", []):
        conf = r.get("expectation_config") or {}
        kwargs = {k: v for k, v in (conf.get("kwargs") or {}).items() if k != "batch_id"}
        res = r.get("result") or {}
        keep = {k: res[k] for k in ("observed_value", "element_count", "unexpected_count", "unexpected_percent",
                                    "missing_count", "details") if k in res}
        if "partial_unexpected_list" in res:
            keep["partial_unexpected_list"] = [str(v)[:80] for v in res["partial_unexpected_list"][:5]]
        exc = r.get("exception_info") or {}
        item = {"type": conf.get("type"), "kwargs": kwargs, "success": bool(r.get("success")), "result": keep,
                "meta": conf.get("meta") or {}}
        if exc.get("raised_exception"):
            item["error"] = str(exc.get("exception_message"))[:300]
        items.append(item)
        if not item["success"]:
            failed.append(item)
    success = bool(raw.get("success")) and not any(i.get("error") == "column_missing" for i in invalid)
    return {
        "name": suite.get("name"),
        "source": (suite.get("meta") or {}).get("source", "builtin"),
        "success": success,
        "statistics": raw.get("statistics", {}),
        "results": items,
        "failed": failed,
        "invalid": invalid,
        "n_meta": len(metas),
    }


def run_suite(df: pd.DataFrame, suite: dict[str, Any]) -> dict[str, Any]:
    """Run one suite configuration on ``df``; SUMMARY-level, JSON-serialisable."""
    gx, _gxe, batch_definition = _gx()
    gx_suite, invalid = _build_suite(gx, suite, {str(c) for c in df.columns})
    if not gx_suite.expectations:
        return {"name": suite.get("name"), "source": (suite.get("meta") or {}).get("source", "builtin"),
                "success": not invalid, "statistics": {"evaluated_expectations": 0}, "results": [], "failed": [],
                "invalid": invalid}
    batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
    # Pass/fail first (GX's SUMMARY costs ≈ 70 % more: unexpected lists and counts for every expectation), then
    # details only for the expectations that failed: most files pass, and a passing result has nothing to show.
    # The details are BASIC: what SUMMARY adds (partial_unexpected_counts / _index_list) is never stored, and
    # computing it costs another ≈ 35 %.
    raw = batch.validate(gx_suite, result_format="BOOLEAN_ONLY").to_json_dict()
    failing = [r.get("expectation_config") or {} for r in raw.get("results", []) if not r.get("success")]
    if failing:
        detail_suite, _ = _build_suite(gx, {"name": suite.get("name"), "expectations": failing}, set())
        detailed = {_result_key(r): r for r in batch.validate(detail_suite, result_format="BASIC").to_json_dict()["results"]}
        raw["results"] = [detailed.get(_result_key(r), r) if not r.get("success") else r for r in raw["results"]]
    return _summarise(raw, suite, invalid)


def _result_key(result: dict[str, Any]) -> str:
    conf = result.get("expectation_config") or {}
    kwargs = {k: v for k, v in (conf.get("kwargs") or {}).items() if k != "batch_id"}
    return json.dumps([conf.get("type"), kwargs], sort_keys=True, default=str)


def validate(df: pd.DataFrame, *, settings: ContentSettings, extra_suites: list[dict[str, Any]],
             kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the built-in suite and ``extra_suites`` (agency suites, dictionary) on a bounded sample of ``df``.

    Returns ``{"success", "failed", "suites": [builtin, *extra], "sample_rows"}``; ``failed`` lists the failing
    built-in expectations (the agency ones are inside their own suite entry).
    """
    df = df.copy(deep=False)
    df.columns = [str(c) for c in df.columns]
    kinds = kinds if kinds is not None else column_kinds(df, share_min=settings.type_share_min)
    sample = validation_sample(df, settings.validation_sample_rows)
    builtin = {"name": "builtin", "expectations": builtin_expectations(sample, kinds, settings), "meta": {"source": "builtin"}}
    builtin_result = run_suite(sample, builtin)
    suites = [builtin_result]
    for extra in extra_suites:
        try:
            suites.append(run_suite(sample, extra))
        except Exception as exc:  # a broken agency suite must not hide the built-in results
            suites.append({"name": extra.get("name"), "source": (extra.get("meta") or {}).get("source", "agency"),
                           "success": False, "results": [], "failed": [],
                           "invalid": [{"error": f"{type(exc).__name__}: {str(exc)[:200]}"}]})
    return {
        "success": all(s["success"] for s in suites),
        "failed": [{"type": f["type"], "kwargs": _short_kwargs(f["kwargs"]), "meta": f["meta"], "result": f["result"]}
                   for f in builtin_result["failed"]],
        "suites": suites,
        "sample_rows": len(sample),
    }


def _short_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("column_list"), list) and len(out["column_list"]) > 5:
        out["column_list"] = out["column_list"][:5] + ["…"]
    return out
