"""Validation results in Spanish: what the agency suites and data-dictionary expectations found, per resource.

``suite_result`` turns one stored suite result (``ContentCheck.expectations["suites"][i]``) into a report row whose
every text is a Spanish sentence (the expectation types stay in scores.json); ``suite_results`` reads them for a run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.store.models import ContentCheck, DatasetSnapshot, ResourceSnapshot
from reports.records import ExpectationIssue, OrgRow, SuiteOrgSummary, SuiteResult
from reports.wording import EXPECTATION_ES, expectation_names_es

_MAX_EXAMPLES = 5
_MAX_ISSUES = 12  # per suite and resource: a broken file would otherwise fill pages


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short_value(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_list(values: Any, limit: int = 6) -> str:
    items = [_short_value(v, 30) for v in values] if isinstance(values, list | tuple | set) else [_short_value(values)]
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" y {more} más" if more > 0 else "")


def _range_text(kwargs: dict[str, Any]) -> str:
    from reports.format import fmt_num  # local: model stays format-free elsewhere

    def num(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return _short_value(v, 30)
        return fmt_num(v, 0) if float(v).is_integer() else fmt_num(v, 2).rstrip("0").rstrip(".")

    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and hi is not None:
        return f"de {num(lo)} a {num(hi)}"
    if lo is not None:
        return f"mínimo {num(lo)}"
    if hi is not None:
        return f"máximo {num(hi)}"
    return ""


def _expectation_issue(item: dict[str, Any]) -> ExpectationIssue:
    """A failed expectation as one Spanish sentence: what was expected, how many values failed, examples."""
    from reports.format import fmt_int, fmt_pct, plural

    etype = str(item.get("type") or "")
    kwargs = _as_dict(item.get("kwargs"))
    result = _as_dict(item.get("result"))
    meta = _as_dict(item.get("meta"))
    column = kwargs.get("column")
    if column is None and isinstance(kwargs.get("column_list"), list):
        column = ", ".join(str(c) for c in kwargs["column_list"][:5])
    parts = [EXPECTATION_ES.get(etype, "no se cumple")]
    bounds = _range_text(kwargs)
    if bounds:
        parts[0] += f" ({bounds})"
    elif "value_set" in kwargs:
        parts[0] += f" ({_value_list(kwargs['value_set'])})"
    elif "regex" in kwargs:  # the pattern itself is in scores.json; a reader gets the meaning
        parts[0] += " definido en la suite"
    if item.get("error"):
        parts = [f"no se pudo evaluar: {_short_value(item['error'], 200)}"]
    count = result.get("unexpected_count")
    if isinstance(count, int | float) and not isinstance(count, bool):
        total = result.get("element_count")
        text = (f"{fmt_int(count)} de {plural(total, 'valor', 'valores')}" if isinstance(total, int | float)
                else plural(count, "valor", "valores"))
        pct = result.get("unexpected_percent")
        if isinstance(pct, int | float) and not isinstance(pct, bool):
            text += f" ({fmt_pct(pct)})"
        parts.append(text)
    mismatched = _as_dict(result.get("details")).get("mismatched")
    if isinstance(mismatched, dict) and mismatched.get("missing"):
        parts.append("faltan: " + _value_list(mismatched["missing"], 8))
    elif "observed_value" in result and not isinstance(count, int | float):
        parts.append(f"observado: {_value_list(result['observed_value'])}")
    if "mostly" in kwargs and isinstance(kwargs["mostly"], int | float):
        parts.append(f"tolerancia: al menos {fmt_pct(100 * kwargs['mostly'])} de los valores")
    examples = list(dict.fromkeys(_short_value(v) for v in result.get("partial_unexpected_list") or []))
    note = meta.get("nota") or meta.get("notes") or meta.get("description")
    return ExpectationIssue(type=etype, column=None if column is None else _short_value(column, 80),
                            text="; ".join(parts), examples=examples[:_MAX_EXAMPLES],
                            note=_short_value(note, 200) if note else None)


def _invalid_issue(entry: dict[str, Any]) -> ExpectationIssue:
    etype = str(entry.get("type") or "")
    column = entry.get("column")
    error = str(entry.get("error") or "")
    if error == "column_missing":
        text = "columna inexistente: la suite la menciona, pero el archivo no la tiene"
    elif "index" in entry:
        text = f"expectativa n.º {int(entry['index']) + 1} inválida (tipo desconocido o argumentos incorrectos): {_short_value(error, 200)}"
    else:
        text = f"la suite no se pudo leer o ejecutar: {_short_value(error, 200)}"
    text = expectation_names_es(text)
    return ExpectationIssue(type=etype, column=None if column is None else _short_value(column, 80), text=text)


def suite_result(dataset: str, dataset_title: str, resource: str, suite: dict[str, Any]) -> SuiteResult:
    """One stored suite result (``ContentCheck.expectations["suites"][i]``) as a report row."""
    invalid = [e for e in suite.get("invalid") or [] if isinstance(e, dict)]
    missing = {(str(e.get("type")), str(e.get("column"))) for e in invalid if e.get("error") == "column_missing"}
    issues = [_invalid_issue(e) for e in invalid]
    failed_items = [f for f in suite.get("failed") or [] if isinstance(f, dict)]
    for f in failed_items:
        kwargs = _as_dict(f.get("kwargs"))
        if (str(f.get("type")), str(kwargs.get("column"))) in missing:
            continue  # already said: "columna inexistente"
        issues.append(_expectation_issue(f))
    stats = _as_dict(suite.get("statistics"))
    evaluated = stats.get("evaluated_expectations")
    if not isinstance(evaluated, int):
        evaluated = len(suite.get("results") or [])
    unsuccessful = stats.get("unsuccessful_expectations")
    if not isinstance(unsuccessful, int):
        unsuccessful = len(failed_items)
    not_built = sum(1 for e in invalid if "index" in e and e.get("error") != "column_missing")
    if len(issues) > _MAX_ISSUES:
        more = len(issues) - _MAX_ISSUES + 1
        issues = issues[: _MAX_ISSUES - 1] + [ExpectationIssue("", None, f"y {more} expectativas fallidas más")]
    name = str(suite.get("name") or "")
    source = str(suite.get("source") or "agency")
    return SuiteResult(
        dataset=dataset, dataset_title=dataset_title, resource=resource,
        suite="Diccionario de datos" if source == "dictionary" else _short_value(name or "suite", 80),
        source=source, success=bool(suite.get("success")), expectations=evaluated + not_built,
        failed=unsuccessful + not_built, issues=issues,
    )


def _resource_label(name: str | None, url: str | None, position: int | None) -> str:
    if name and name.strip():
        return name.strip()
    tail = (url or "").rstrip("/").rsplit("/", 1)[-1]
    return tail or f"Recurso {(position or 0) + 1}"


def suite_results(s: Session, run_id: int, *, org: str | None = None,
                   dictionary: bool = True) -> list[tuple[str, SuiteResult]]:
    """(organization, result) for every agency suite (and dictionary check) the content stage ran in ``run_id``.

    One query; only the checks whose evidence says a suite applied are read (``agency_success`` /
    ``dictionary_conformance`` are not null), so a portal of plain files costs almost nothing."""
    applied = ContentCheck.details["agency_success"].as_string().is_not(None)
    if dictionary:
        applied = applied | ContentCheck.details["dictionary_conformance"].as_string().is_not(None)
    q = (
        select(DatasetSnapshot.organization_name, DatasetSnapshot.name, DatasetSnapshot.title, ResourceSnapshot.name,
               ResourceSnapshot.url, ResourceSnapshot.position, ContentCheck.expectations)
        .join(ResourceSnapshot, ResourceSnapshot.id == ContentCheck.resource_snapshot_id)
        .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
        .where(ContentCheck.run_id == run_id, applied)
    )
    if org is not None:
        q = q.where(DatasetSnapshot.organization_name == org)
    sources = ("agency", "dictionary") if dictionary else ("agency",)
    rows: list[tuple[tuple[str, str, int, int, str], str, SuiteResult]] = []
    for org_name, ds_name, ds_title, res_name, res_url, position, expectations in s.execute(q):
        suites = (expectations or {}).get("suites") if isinstance(expectations, dict) else None
        label = _resource_label(res_name, res_url, position)
        for suite in suites or []:
            if not isinstance(suite, dict) or suite.get("source") not in sources:
                continue
            res = suite_result(ds_name, ds_title or ds_name, label, suite)
            key = (res.dataset_title.casefold(), ds_name, position or 0, 0 if res.source == "agency" else 1,
                   res.suite.casefold())
            rows.append((key, org_name or "", res))
    rows.sort(key=lambda r: r[0])
    return [(o, r) for _k, o, r in rows]


def agency_summary(results: list[tuple[str, SuiteResult]], orgs: list[OrgRow]) -> list[SuiteOrgSummary]:
    titles = {o.name: o.title for o in orgs}
    acc: dict[str, dict[str, Any]] = {}
    for org, r in results:
        if r.source != "agency":
            continue
        a = acc.setdefault(org, {"resources": set(), "suites": 0, "failed": 0})
        a["resources"].add((r.dataset, r.resource))
        a["suites"] += 1
        a["failed"] += not r.success
    out = [SuiteOrgSummary(org, titles.get(org, org), len(a["resources"]), a["suites"], a["failed"])
           for org, a in acc.items()]
    out.sort(key=lambda x: (-x.failed, x.title.casefold()))
    return out
