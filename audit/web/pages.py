"""HTML views (Spanish, usable without JavaScript). Every view accepts ``formato=csv|json`` and then returns
the table it shows (all rows that match its filters) as a download."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from audit.indicator import portal_commitment_totals
from audit.web import data
from audit.web.data import CHARACTERISTICS, MAX_INT
from audit.web.exports import download
from audit.web.files import run_files, year_report
from audit.web.ranking import assign_positions, org_state, position_label, with_ranking

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    
    from audit.store.models import AuditRun
    from audit.web.app import WebState

router = APIRouter(include_in_schema=False)

RunQ = Annotated[int | None, Query(ge=1, le=MAX_INT)]
YearQ = Annotated[int | None, Query(ge=1900, le=2200)]
PageQ = Annotated[int, Query(ge=1, le=1_000_000)]
FmtQ = Annotated[Literal["csv", "json"] | None, Query()]
TextQ = Annotated[str | None, Query(max_length=200)]
NamePath = Annotated[str, Path(min_length=1, max_length=200)]

ORG_COLUMNS = (["organization", "title", "datasets", "score", "conformes"] + [f"{c}_pct" for c in CHARACTERISTICS]
               + ["committed", "published", "progress_pct", "quality_progress_pct"])
DS_COLUMNS = ["organization", "dataset", "title", "score", "conforme", *CHARACTERISTICS]
RUN_COLUMNS = ["id", "portal", "year", "kind", "status", "stage", "started_at", "finished_at", "duration_s", "errors"]


def _st(request: Request) -> WebState:
    return request.app.state.web


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one); page resets unless given."""
    params = dict(request.query_params)
    if "page" not in changes:
        params.pop("page", None)
    for k, v in changes.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = str(v)
    if "formato" not in changes:
        params.pop("formato", None)
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


def paginate(rows: list[Any], page: int, size: int) -> tuple[list[Any], dict[str, Any]]:
    pages = max(1, math.ceil(len(rows) / size))
    page = min(page, pages)
    return rows[(page - 1) * size: page * size], {"page": page, "pages": pages, "total": len(rows), "size": size}


def _context(request: Request, s: Session, run: AuditRun | None, **extra: Any) -> dict[str, Any]:
    memo = _st(request).memo
    info = None
    if run is not None:
        info = memo.get(("run", run.id, data.run_version(run)), lambda: data.get_run(s, run.id))
    years = memo.get(("years",), lambda: data.years(s))
    return {"run": info, "years": years, "year": run.year if run is not None else None,
            "url_with": lambda **kw: url_with(request, **kw), **extra}


CACHED_PREFIXES = ("/organizaciones/", "/conjuntos/", "/caracteristicas/")


def cache_url(path: str, query: str) -> tuple[str, str] | None:
    """The page-cache key of a URL, or None for URLs that are never cached (downloads, other routes)."""
    if "formato=" in query or not (path == "/" or path.startswith(CACHED_PREFIXES)):
        return None
    return (path, query)


def _page_key(request: Request, st: WebState, s: Session, r: AuditRun) -> tuple[tuple[str, str], tuple[Any, ...]] | None:
    url = cache_url(request.url.path, request.scope.get("query_string", b"").decode("latin-1"))
    version = st.pages.run_key(s, r, st.memo) if url is not None else None
    return None if url is None or version is None else (url, version)


def _cached(st: WebState, key: tuple[tuple[str, str], tuple[Any, ...]] | None) -> Response | None:
    body = st.pages.get(*key) if key is not None else None
    return None if body is None else HTMLResponse(body)


def _remember(st: WebState, key: tuple[tuple[str, str], tuple[Any, ...]] | None, r: AuditRun | None, run: int | None,
              resp: Response) -> Response:
    resp.headers["Cache-Control"] = data.cache_control(r, run is not None)
    if key is not None and resp.status_code == 200:
        st.pages.put(key[0], key[1], bytes(resp.body))
    return resp


def _resolve(s: Session, run: int | None, year: int | None, st: WebState | None = None) -> AuditRun | None:
    if run is None and st is not None:  # "the newest run (of the year)": re-read at most every 2 s
        run_id = st.memo.get(("resolve", year), lambda: getattr(data.resolve_run(s, year=year), "id", None))
        r = s.get(data.AuditRun, run_id) if run_id is not None else None
    else:
        r = data.resolve_run(s, run_id=run, year=year)
    if r is None and (run is not None or year is not None):
        raise HTTPException(404, "No hay una corrida de auditoría para ese año o número.")
    return r


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    with _st(request).store.session() as s:
        latest = data.resolve_run(s)
    return JSONResponse({"status": "ok", "latest_run": latest.id if latest else None},
                        headers={"Cache-Control": "no-store"})  # monitoring must see the live answer


@router.get("/")
def overview(request: Request, run: RunQ = None, year: YearQ = None, q: TextQ = None,
             sort: Annotated[Literal[data.ORG_SORT_KEYS], Query()] = "score",  # type: ignore[valid-type]
             order: Annotated[Literal["asc", "desc"], Query()] = "desc", page: PageQ = 1,
             formato: FmtQ = None) -> Response:
    st = _st(request)
    with st.store.session() as s:
        r = _resolve(s, run, year, st)
        if r is None:
            return st.render(request, "empty.html", _context(request, s, None))
        key = None if formato else _page_key(request, st, s, r)
        if (hit := _cached(st, key)) is not None:
            return hit
        summary = st.cache.get(s, r, st.cfg.scoring.weights)
        orgs = summary.organizations
        ctx = _context(request, s, r)
        # all stored commitments, as the reports count them (organizations not on the portal included)
        total_committed, total_published, _ = portal_commitment_totals(s, r.id)
    rows = data.sort_rows(data.text_filter(with_ranking(orgs), q, ("organization", "title")), sort, order == "desc")
    if formato:
        return download(rows, ORG_COLUMNS, formato, f"organizaciones-{r.year}-corrida-{r.id}")
    shown, pager = paginate(rows, page, st.cfg.web.page_size)
    kpis = {
        # the read model's definitions (audit.results.RunSummary): evaluated = published (listed) + retired
        "datasets": summary.evaluated,
        "listed": summary.listed,
        "retired": summary.retired,
        "organizations": len(orgs),
        "conformes": summary.conformes,
        "score": summary.score,
        "committed": total_committed,
        "published": total_published,
        "progress_pct": round(100.0 * total_published / total_committed, 1) if total_committed else None,
    }
    bars = [{"key": c, "label": st.titles[c], "value": summary.characteristic_pct[c],
             "note": data.not_judged_note(summary.characteristic_counts[c], c),
             "href": f"/caracteristicas/{c}?run={r.id}"} for c in CHARACTERISTICS]
    return _remember(st, key, r, run, st.render(request, "overview.html", {
        **ctx, "kpis": kpis, "bars": bars, "orgs": shown, "pager": pager, "q": q or "", "sort": sort, "order": order,
        "files": run_files(st.cfg, r)}))


@router.get("/organizaciones/{name}")
def organization(request: Request, name: NamePath, run: RunQ = None, year: YearQ = None, q: TextQ = None,
                 page: PageQ = 1, formato: FmtQ = None) -> Response:
    st = _st(request)
    with st.store.session() as s:
        r = _resolve(s, run, year, st)
        if r is None:
            raise HTTPException(404, "Todavía no hay auditorías en la base de datos.")
        key = None if formato else _page_key(request, st, s, r)
        if (hit := _cached(st, key)) is not None:
            return hit
        summary = st.cache.get(s, r, st.cfg.scoring.weights)
        orgs = summary.organizations
        org = next((o for o in orgs if o["organization"] == name), None)
        if org is None:
            raise HTTPException(404, f"No existe la organización «{name}» en la corrida {r.id}.")
        trend = data.organization_trend(s, r.portal_id, name)
        commitments = data.commitments(s, r.id, name)
        ctx = _context(request, s, r)
    datasets = data.text_filter([d for d in summary.datasets if d["organization"] == name], q, ("dataset", "title"))
    if formato:
        return download(datasets, DS_COLUMNS, formato, f"conjuntos-{name}-{r.year}")
    shown, pager = paginate(datasets, page, st.cfg.web.page_size)
    positions = assign_positions(orgs)
    pos, tied = positions.get(name, (None, False))
    position = None if pos is None else (position_label(pos, tied), len(positions))
    org_counts = {c: data.characteristic_counts([d for d in summary.datasets if d["organization"] == name], c)[0]
                  for c in CHARACTERISTICS}
    bars = [{"key": c, "label": st.titles[c], "value": org[f"{c}_pct"], "note": data.not_judged_note(org_counts[c], c),
             "href": f"/caracteristicas/{c}?run={r.id}&organization={name}"} for c in CHARACTERISTICS]
    reports = run_files(st.cfg, r, name)
    unmatched = [c for c in commitments if c["committed"] and not c["matched"]]
    return _remember(st, key, r, run, st.render(request, "organization.html", {
        **ctx, "org": {**org, "state": org_state(org)}, "datasets": shown, "pager": pager, "trend": trend,
        "bars": bars, "q": q or "", "position": position, "files": reports, "unmatched": unmatched, "commitments": commitments}))


@router.get("/informes/{year}/{filename}")
def report_file(request: Request, year: Annotated[int, Path(ge=1900, le=2200)], filename: NamePath) -> Response:
    """The official report files of the year's newest run (older links; new links name the run)."""
    return year_report(request, year, filename)


@router.get("/conjuntos/{name}")
def dataset(request: Request, name: NamePath, run: RunQ = None, year: YearQ = None,
            formato: FmtQ = None) -> Response:
    st = _st(request)
    with st.store.session() as s:
        r = _resolve(s, run, year, st)
        if r is None:
            raise HTTPException(404, "Todavía no hay auditorías en la base de datos.")
        key = None if formato else _page_key(request, st, s, r)
        if (hit := _cached(st, key)) is not None:
            return hit
        summary = st.cache.get(s, r, st.cfg.scoring.weights)
        detail = data.dataset_detail(s, r, data.clean(name) or "", st.cfg.scoring.weights)
        if detail is None:
            raise HTTPException(404, f"No existe el conjunto «{name}» en la corrida {r.id}.")
        ctx = _context(request, s, r)
    row = summary.by_name.get(detail["dataset"], {})
    if formato:
        rows = [{"organization": detail["organization"], "dataset": detail["dataset"], **res} for res in detail["results"]]
        return download(rows, ["organization", "dataset", "characteristic", "status", "score", "findings",
                               "automatic_status"], formato, f"resultados-{name}-{r.year}")
    return _remember(st, key, r, run, st.render(request, "dataset.html", {
        **ctx, "ds": detail, "score": row.get("score"), "conforme": row.get("conforme"),
        "org_title": summary.org_titles.get(detail["organization"] or "")}))


@router.get("/caracteristicas/{characteristic}")
def characteristic(request: Request, characteristic: NamePath, run: RunQ = None, year: YearQ = None,
                   organization: TextQ = None,
                   status: Annotated[Literal["fail", "partial", "fail_partial", "pass", "not_applicable"], Query()] = "fail_partial",
                   page: PageQ = 1, formato: FmtQ = None) -> Response:
    st = _st(request)
    if characteristic not in CHARACTERISTICS:
        raise HTTPException(404, f"No existe la característica «{characteristic}».")
    wanted = ("fail", "partial") if status == "fail_partial" else (status,)
    with st.store.session() as s:
        r = _resolve(s, run, year, st)
        if r is None:
            raise HTTPException(404, "Todavía no hay auditorías en la base de datos.")
        key = None if formato else _page_key(request, st, s, r)
        if (hit := _cached(st, key)) is not None:
            return hit
        summary = st.cache.get(s, r, st.cfg.scoring.weights)
        scope = summary.datasets
        org_title = None
        if organization:
            if not any(o["organization"] == organization for o in summary.organizations):
                raise HTTPException(404, f"No existe la organización «{organization}» en la corrida {r.id}. "
                                         "Quite el filtro o elija una organización de la lista.")
            scope = [d for d in scope if d["organization"] == organization]
            org_title = next((o["title"] for o in summary.organizations if o["organization"] == organization), None)
        counts, pct = data.characteristic_counts(scope, characteristic)
        rows = [d for d in scope if d[characteristic] in wanted]
        by_org: dict[str, int] = {}
        for d in rows:
            by_org[d["organization"] or "—"] = by_org.get(d["organization"] or "—", 0) + 1
        if formato:
            found = data.findings_for(s, [d["snapshot_id"] for d in rows], characteristic)
            out = [{"organization": d["organization"], "dataset": d["dataset"], "title": d["title"],
                    "status": d[characteristic], "findings": found.get(d["snapshot_id"], [])} for d in rows]
            return download(out, ["organization", "dataset", "title", "status", "findings"], formato,
                            f"{characteristic}-{r.year}")
        shown, pager = paginate(rows, page, st.cfg.web.page_size)
        found = data.findings_for(s, [d["snapshot_id"] for d in shown], characteristic)
        ctx = _context(request, s, r)
    items = [{**d, "status": d[characteristic], "findings": found.get(d["snapshot_id"], [])} for d in shown]
    return _remember(st, key, r, run, st.render(request, "characteristic.html", {
        **ctx, "char": characteristic, "items": items, "pager": pager, "status": status,
        "organization": organization or "", "by_org": sorted(by_org.items(), key=lambda kv: (-kv[1], kv[0])),
        "counts": counts, "pct": pct, "evaluated": len(scope), "org_titles": summary.org_titles,
        "org_title": org_title or organization or ""}))


@router.get("/corridas")
def runs(request: Request, year: YearQ = None, page: PageQ = 1, formato: FmtQ = None) -> Response:
    st = _st(request)
    size = st.cfg.web.page_size
    with st.store.session() as s:
        if formato:
            items, _ = data.list_runs(s, year=year, limit=1_000_000, offset=0)
            return download(items, RUN_COLUMNS, formato, "corridas")
        items, total = data.list_runs(s, year=year, limit=size, offset=(page - 1) * size)
        ctx = _context(request, s, None)
    for item in items:
        item["files"] = run_files(st.cfg, SimpleNamespace(**item))
    pager = {"page": page, "pages": max(1, math.ceil(total / size)), "total": total, "size": size}
    resp = st.render(request, "runs.html", {**ctx, "runs": items, "pager": pager, "year": year})
    resp.headers["Cache-Control"] = "no-cache"  # a run in progress changes this list; the ETag makes a 304 cheap
    return resp


@router.get("/corridas/{run_id}")
def run_detail(request: Request, run_id: Annotated[int, Path(ge=1, le=MAX_INT)], page: PageQ = 1,
               formato: FmtQ = None) -> Response:
    st = _st(request)
    size = st.cfg.web.page_size
    with st.store.session() as s:
        info = data.get_run(s, run_id)
        if info is None:
            raise HTTPException(404, f"No existe la corrida {run_id}.")
        if formato:
            errors, _ = data.run_errors(s, run_id, limit=1_000_000, offset=0)
            return download(errors, ["stage", "subject", "code", "message", "created_at"], formato,
                            f"errores-corrida-{run_id}")
        errors, total = data.run_errors(s, run_id, limit=size, offset=(page - 1) * size)
        ctx = _context(request, s, None)
    pager = {"page": page, "pages": max(1, math.ceil(total / size)), "total": total, "size": size}
    resp = st.render(request, "run.html", {**ctx, "info": info, "errors": errors, "pager": pager,
                                           "files": run_files(st.cfg, SimpleNamespace(**info)), "year": info["year"]})
    resp.headers["Cache-Control"] = "no-cache"
    return resp
