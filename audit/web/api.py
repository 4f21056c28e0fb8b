"""JSON API ``/api/v1``: runs, organizations, datasets, results, indicator.

Field names match the CSV contract (organizations.csv, datasets.csv, scores.csv). Lists are paginated with
``limit``/``offset`` and return ``{"items", "total", "limit", "offset", "run"}``. Without ``run`` the newest run
of ``year`` (or overall) with results is used, as in the HTML views.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from audit.web import data
from audit.web.data import CHARACTERISTICS, MAX_INT

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audit.store.models import AuditRun
    from audit.web.app import WebState

T = TypeVar("T")


class ErrorInfo(BaseModel):
    status: int = Field(description="Código HTTP.")
    code: str = Field(description="Código para programas: not_found, method_not_allowed, invalid_parameter, "
                                  "unknown_parameter …")
    title: str = Field(description="Título en español.")
    message: str = Field(description="Mensaje en español: qué falló y cómo corregir la petición.")


class ErrorOut(BaseModel):
    """The one error format of the API (404, 405, 422, unknown route…)."""

    error: ErrorInfo
    detail: list[dict[str, Any]] = Field(description="Un elemento por parámetro inválido (param, msg, accepted…).")


router = APIRouter(prefix="/api/v1", tags=["api"],
                   responses={404: {"model": ErrorOut, "description": "No existe la corrida, organización o conjunto."},
                              422: {"model": ErrorOut, "description": "Parámetro inválido o desconocido."}})

StatusLit = Literal["pass", "partial", "fail", "not_applicable"]
FilterStatusLit = Literal["pass", "partial", "fail", "not_applicable", "fail_partial"]
CharLit = Literal[CHARACTERISTICS]  # type: ignore[valid-type]  # the registry's ids, in legal order
RunQ = Annotated[int | None, Query(ge=1, le=MAX_INT, description="Id de la corrida (por omisión, la más reciente).")]
YearQ = Annotated[int | None, Query(ge=1900, le=2200, description="Año evaluado.")]
LimitQ = Annotated[int | None, Query(ge=1, le=1000, description="Filas por página.")]
OffsetQ = Annotated[int, Query(ge=0, le=10_000_000, description="Filas a omitir.")]
NameQ = Annotated[str | None, Query(max_length=200, description="Nombre CKAN.")]
TextQ = Annotated[str | None, Query(max_length=200, description="Texto a buscar en nombre o título.")]
NamePath = Annotated[str, Path(min_length=1, max_length=200, description="Nombre CKAN.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    run: int | None = None


class RunOut(BaseModel):
    id: int
    portal: str | None
    portal_title: str | None
    year: int | None
    kind: str
    status: str
    stage: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    counts: dict[str, Any]
    errors: int
    error: str | None


class FindingOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message_es: str = ""
    remediation_es: str = ""
    resource: str | None = None
    resource_id: str | None = Field(None, description="Identificador CKAN del recurso (su URL si no tiene).")
    observed: str | None = None
    manual_review: bool = False


class ResultOut(BaseModel):
    organization: str | None
    dataset: str
    characteristic: str
    status: str
    score: float
    findings: list[FindingOut]
    automatic_status: str | None = Field(None, description="Estado automático cuando una revisión manual lo cambió.")
    manual_review: bool


_org_fields: dict[str, Any] = {
    "organization": (str, ...),
    "title": (str | None, None),
    "datasets": (int, 0),
    "score": (float | None, None),
    "conformes": (int, 0),
}
_org_fields.update({f"{c}_pct": (float | None, None) for c in CHARACTERISTICS})
_org_fields.update(
    committed=(int, 0),
    published=(int, 0),
    progress_pct=(float | None, Field(None, description="None = sin compromisos registrados.")),
    quality_progress_pct=(float | None, None),
)
OrganizationOut = create_model("OrganizationOut", **_org_fields)  # type: ignore[call-overload]

_ds_fields: dict[str, Any] = {
    "organization": (str | None, None),
    "dataset": (str, ...),
    "title": (str | None, None),
    "score": (float | None, None),
    "conforme": (bool, False),
    "presence": (str, "listed"),
}
_ds_fields.update({c: (str | None, None) for c in CHARACTERISTICS})
DatasetOut = create_model("DatasetOut", **_ds_fields)  # type: ignore[call-overload]


class IndicatorOrg(BaseModel):
    organization: str
    title: str | None
    committed: int
    published: int
    progress_pct: float | None
    quality_progress_pct: float | None


class Unmatched(BaseModel):
    organization: str | None
    dataset: str
    due_date: date


class IndicatorOut(BaseModel):
    run: int
    committed: int
    published: int
    progress_pct: float | None = Field(description="100 × publicados / comprometidos; None = sin compromisos.")
    quality_progress_pct: float | None
    organizations: list[IndicatorOrg]
    unmatched: list[Unmatched]


class DatasetDetailOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    organization: str | None
    dataset: str
    title: str | None
    score: float | None
    conforme: bool
    presence: str
    results: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    history: list[dict[str, Any]]


def _state(request: Request) -> WebState:
    return request.app.state.web


def _limit(request: Request, limit: int | None) -> int:
    return limit or _state(request).cfg.web.page_size


def _run_or_404(s: Session, run: int | None, year: int | None, response: Response | None = None) -> AuditRun:
    r = data.resolve_run(s, run_id=run, year=year)
    if r is None:
        raise HTTPException(404, "No hay corridas de auditoría que coincidan (revise run/year).")
    if response is not None:
        response.headers["Cache-Control"] = data.cache_control(r, run is not None)
    return r


@router.get("/runs", response_model=Page[RunOut], summary="Corridas de auditoría")
def list_runs(request: Request, response: Response, year: YearQ = None,
              status: Annotated[Literal["running", "interrupted", "complete", "partial", "failed"] | None, Query()] = None,
              limit: LimitQ = None, offset: OffsetQ = 0) -> dict[str, Any]:
    lim = _limit(request, limit)
    response.headers["Cache-Control"] = "no-cache"  # runs in progress change; the ETag makes a 304 cheap
    with _state(request).store.session() as s:
        items, total = data.list_runs(s, year=year, status=status, limit=lim, offset=offset)
    return {"items": items, "total": total, "limit": lim, "offset": offset}


@router.get("/runs/{run_id}", response_model=RunOut, summary="Una corrida")
def get_run(request: Request, response: Response, run_id: Annotated[int, Path(ge=1, le=MAX_INT)]) -> dict[str, Any]:
    with _state(request).store.session() as s:
        item = data.get_run(s, run_id)
    if item is None:
        raise HTTPException(404, f"No existe la corrida {run_id}.")
    response.headers["Cache-Control"] = "no-cache" if item["status"] not in data.FINISHED else "public, max-age=3600"
    return item


@router.get("/organizations", response_model=Page[OrganizationOut],  # type: ignore[valid-type]
            summary="Organizaciones (organizations.csv)")
def list_organizations(request: Request, response: Response, run: RunQ = None, year: YearQ = None, q: TextQ = None,
                       sort: Annotated[Literal[data.ORG_SORT_KEYS], Query()] = "score",  # type: ignore[valid-type]
                       order: Annotated[Literal["asc", "desc"], Query()] = "desc",
                       limit: LimitQ = None, offset: OffsetQ = 0) -> dict[str, Any]:
    st = _state(request)
    lim = _limit(request, limit)
    with st.store.session() as s:
        r = _run_or_404(s, run, year, response)
        rows = st.cache.get(s, r, st.cfg.scoring.weights).organizations
    rows = data.sort_rows(data.text_filter(rows, q, ("organization", "title")), sort, order == "desc")
    return {"items": rows[offset:offset + lim], "total": len(rows), "limit": lim, "offset": offset, "run": r.id}


@router.get("/organizations/{name}", response_model=OrganizationOut, summary="Una organización")
def get_organization(request: Request, response: Response, name: NamePath, run: RunQ = None, year: YearQ = None) -> dict[str, Any]:
    st = _state(request)
    with st.store.session() as s:
        r = _run_or_404(s, run, year, response)
        rows = st.cache.get(s, r, st.cfg.scoring.weights).organizations
    for row in rows:
        if row["organization"] == name:
            return row
    raise HTTPException(404, f"No existe la organización {name!r} en la corrida {r.id}.")


@router.get("/datasets", response_model=Page[DatasetOut],  # type: ignore[valid-type]
            summary="Conjuntos (datasets.csv)")
def list_datasets(request: Request, response: Response, run: RunQ = None, year: YearQ = None,
                  organization: NameQ = None, conforme: Annotated[bool | None, Query()] = None, q: TextQ = None,
                  characteristic: Annotated[CharLit | None, Query(description="Característica a filtrar.")] = None,
                  status: Annotated[FilterStatusLit | None, Query(
                      description="Estado en `characteristic` (o en cualquiera, sin `characteristic`); "
                                  "`fail_partial` = no cumple o parcial, como en el tablero.")] = None,
                  limit: LimitQ = None, offset: OffsetQ = 0) -> dict[str, Any]:
    st = _state(request)
    lim = _limit(request, limit)
    with st.store.session() as s:
        r = _run_or_404(s, run, year, response)
        summary = st.cache.get(s, r, st.cfg.scoring.weights)
    rows = summary.datasets
    if organization is not None:
        rows = [d for d in rows if d["organization"] == organization]
    if conforme is not None:
        rows = [d for d in rows if d["conforme"] == conforme]
    if status:
        wanted = ("fail", "partial") if status == "fail_partial" else (status,)
        chars = [characteristic] if characteristic else list(CHARACTERISTICS)
        rows = [d for d in rows if any(d[c] in wanted for c in chars)]
    elif characteristic:  # a characteristic alone: the datasets it applies to
        rows = [d for d in rows if d[characteristic] not in (None, "not_applicable")]
    rows = data.text_filter(rows, q, ("dataset", "title"))
    items = [data.public_dataset(d) for d in rows[offset:offset + lim]]
    return {"items": items, "total": len(rows), "limit": lim, "offset": offset, "run": r.id}


@router.get("/datasets/{name}", response_model=DatasetDetailOut, summary="Un conjunto con evidencia")
def get_dataset(request: Request, response: Response, name: NamePath, run: RunQ = None, year: YearQ = None) -> dict[str, Any]:
    st = _state(request)
    with st.store.session() as s:
        r = _run_or_404(s, run, year, response)
        summary = st.cache.get(s, r, st.cfg.scoring.weights)
        detail = data.dataset_detail(s, r, data.clean(name) or "", st.cfg.scoring.weights)
    if detail is None:
        raise HTTPException(404, f"No existe el conjunto {name!r} en la corrida {r.id}.")
    row = summary.by_name.get(detail["dataset"], {})
    return {**detail, "score": row.get("score"), "conforme": bool(row.get("conforme")), "run": r.id}


class HistoryOut(BaseModel):
    run: int
    year: int | None
    started_at: datetime | None
    run_status: str
    presence: str
    score: float | None
    conforme: bool
    statuses: dict[str, str] = Field(description="Estado de cada característica en esa corrida.")


@router.get("/datasets/{name}/history", response_model=list[HistoryOut],
            summary="Historial de un conjunto: estado de cada característica en cada corrida")
def get_dataset_history(request: Request, response: Response, name: NamePath, run: RunQ = None,
                        year: YearQ = None) -> list[dict[str, Any]]:
    st = _state(request)
    with st.store.session() as s:
        r = _run_or_404(s, run, year, response)
        detail = data.dataset_detail(s, r, data.clean(name) or "", st.cfg.scoring.weights)
    if detail is None:
        raise HTTPException(404, f"No existe el conjunto {name!r} en la corrida {r.id}.")
    return list(detail["history"])


@router.get("/results", response_model=Page[ResultOut], summary="Resultados por característica (scores.csv)")
def list_results(request: Request, response: Response, run: RunQ = None, year: YearQ = None, organization: NameQ = None,
                 dataset: NameQ = None, characteristic: Annotated[CharLit | None, Query()] = None,
                 status: Annotated[StatusLit | None, Query()] = None,
                 limit: LimitQ = None, offset: OffsetQ = 0) -> dict[str, Any]:
    lim = _limit(request, limit)
    with _state(request).store.session() as s:
        r = _run_or_404(s, run, year, response)
        items, total = data.results_rows(s, r.id, organization=data.clean(organization), dataset=data.clean(dataset),
                                         characteristic=characteristic, status=status, limit=lim, offset=offset)
    return {"items": items, "total": total, "limit": lim, "offset": offset, "run": r.id}


@router.get("/indicator", response_model=IndicatorOut, summary="Avance en la implementación de datos abiertos")
def get_indicator(request: Request, response: Response, run: RunQ = None, year: YearQ = None) -> dict[str, Any]:
    with _state(request).store.session() as s:
        r = _run_or_404(s, run, year, response)
        return data.indicator(s, r.id)
