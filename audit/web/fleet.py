"""Dashboard view of a fleet of portals (``portals:`` in config, ``audit --all``).

``/portales`` compares the portals of the store for a year (``audit.comparison``: shares per characteristic,
conformes, progress, rank with ties, trend), as HTML or ``formato=csv|json``. ``/portales/<name>/…`` is the stable
address of one portal's pages: it redirects to the same page of today's single-portal dashboard pinned to that
portal's run (``/portales/edomex/organizaciones/x`` → ``/organizaciones/x?run=N``), so the single-portal URLs keep
working unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from audit.availability import annual_snapshot_run
from audit.comparison import CSV_HEADER, compare
from audit.store import AuditRun, Portal
from audit.web.exports import download

if TYPE_CHECKING:
    from audit.web.app import WebState

router = APIRouter(include_in_schema=False)
YearQ = Annotated[int | None, Query(ge=1900, le=2200)]
FmtQ = Annotated[Literal["csv", "json"] | None, Query()]
NamePath = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _st(request: Request) -> WebState:
    return request.app.state.web


@router.get("/portales")
def portals(request: Request, year: YearQ = None, formato: FmtQ = None) -> Response:
    st = _st(request)
    with st.store.session() as s:
        years = sorted({y for (y,) in s.execute(select(AuditRun.year).distinct().where(
            AuditRun.status == "complete")) if y}, reverse=True)
    if year is None and years:
        year = years[0]
    names = {e.url: e.name for e in st.cfg.portals}
    data = compare(st.store, year, st.cfg.scoring.weights, names) if year else {"year": None, "portals": []}
    if formato:
        rows = [{**p, **{f"{c}_pct": v for c, v in p["characteristic_pct"].items()}} for p in data["portals"]]
        return download(rows, CSV_HEADER, formato, f"comparacion-portales-{year}")
    for p in data["portals"]:
        p["href"] = f"/portales/{p['portal']}" if p["portal"] in names.values() else f"/?run={p['run_id']}"
    # the base template's year selector goes to the single-portal overview: this page has its own
    return st.render(request, "portales.html", {"comparison": data, "fleet_years": years, "year": year,
                                                "years": [], "run": None})


@router.get("/portales/{name}")
@router.get("/portales/{name}/{rest:path}")
def portal_page(request: Request, name: NamePath, rest: str = "", year: YearQ = None,
                q: Annotated[str | None, Query(max_length=200)] = None, sort: Annotated[str | None, Query(max_length=40)] = None,
                order: Annotated[str | None, Query(max_length=4)] = None,
                page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None, formato: FmtQ = None) -> Response:
    st = _st(request)
    entry = next((e for e in st.cfg.portals if e.name == name), None)
    if entry is None:
        raise HTTPException(404, f"No hay un portal «{name}» en la configuración.")
    with st.store.session() as s:
        pid = s.scalar(select(Portal.id).where(Portal.url == entry.url))
        run_id = None
        if pid is not None:
            run_id = annual_snapshot_run(st.store, pid, year) if year else s.scalar(
                select(func.max(AuditRun.id)).where(AuditRun.portal_id == pid))
    if run_id is None:
        raise HTTPException(404, f"El portal «{name}» todavía no tiene una corrida de auditoría.")
    params = {k: v for k, v in {"q": q, "sort": sort, "order": order, "page": page, "formato": formato}.items()
              if v is not None}
    return RedirectResponse(f"/{rest.lstrip('/')}?" + urlencode({"run": run_id, **params}), status_code=307)
