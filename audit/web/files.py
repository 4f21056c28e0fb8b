"""The official files of a run (reports HTML/PDF, CSV/JSON exports), linked from the dashboard and served
read-only from the folder the run recorded (``audit_run.output_dir``, else ``output_dir/<year>``).

Only names from a fixed list (or an organization's report, named by ``reports.render.org_file``) are served, and
the resolved path must sit directly in the run's folder: no traversal, no other files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from audit.store.models import AuditRun
from audit.web.data import MAX_INT, resolve_run

if TYPE_CHECKING:
    from audit.config import AuditConfig

router = APIRouter(include_in_schema=False)

REPORT_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(html|pdf)$")
#: the run's data files (the output contract), served as downloads
DATA_FILES = {
    "organizations.csv": "Resultados por organización (CSV)",
    "datasets.csv": "Resultados por conjunto (CSV)",
    "scores.csv": "Resultado por conjunto y característica (CSV)",
    "scores.json": "Resultados completos (JSON)",
}
PORTAL_REPORTS = {"index.html": "Informe del portal (HTML)", "portal.pdf": "Informe del portal (PDF)"}
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
NOT_FOUND = "Archivo no encontrado: genérelo con «run_audit.py report» (informes) o «run_audit.py export»."


def run_folder(cfg: AuditConfig, run: Any) -> Path | None:
    if getattr(run, "output_dir", None):
        return Path(run.output_dir)
    if run is None or run.year is None:
        return None
    return Path(cfg.output_dir) / str(run.year)


def org_stem(name: str) -> str:
    try:
        from reports.render import org_file
    except ImportError:  # pragma: no cover - the reports package is part of the project
        return name
    return org_file(name)


def _link(run_id: int, sub: str, fname: str, label: str, kind: str) -> dict[str, str]:
    prefix = f"/archivos/{run_id}/" + ("informes/" if sub == "reports" else "")
    return {"href": prefix + fname, "label": label, "kind": kind, "file": fname}


def run_files(cfg: AuditConfig, run: Any, organization: str | None = None) -> list[dict[str, str]]:
    """Links to the files that exist for ``run``: the portal reports and data files, or one organization's
    report (HTML/PDF) followed by the portal's data files."""
    base = run_folder(cfg, run)
    if base is None or not base.is_dir():
        return []
    out: list[dict[str, str]] = []
    if organization is not None:
        stem = org_stem(organization)
        for ext, label in (("pdf", "Informe de la organización (PDF)"), ("html", "Informe de la organización (HTML)")):
            if (base / "reports" / f"{stem}.{ext}").is_file():
                out.append(_link(run.id, "reports", f"{stem}.{ext}", label, "report"))
    for fname, label in PORTAL_REPORTS.items():
        if (base / "reports" / fname).is_file():
            out.append(_link(run.id, "reports", fname, label, "report"))
    for fname, label in DATA_FILES.items():
        if (base / fname).is_file():
            out.append(_link(run.id, "", fname, label, "data"))
    return out


def _serve(path: Path, fname: str) -> Response:
    if fname in DATA_FILES:  # data: always a download
        media = "application/json" if fname.endswith(".json") else "text/csv; charset=utf-8"
        return FileResponse(path, media_type=media, filename=fname, content_disposition_type="attachment")
    media = "application/pdf" if fname.endswith(".pdf") else "text/html; charset=utf-8"
    resp = FileResponse(path, media_type=media)
    # the HTML report is self-contained with inline CSS: allow only that, still no scripts
    resp.headers["Content-Security-Policy"] = REPORT_CSP
    return resp


def _checked(base: Path | None, sub: str, fname: str) -> Path:
    if base is None:
        raise HTTPException(404, NOT_FOUND)
    folder = (base / sub).resolve() if sub else base.resolve()
    path = (folder / fname).resolve()
    if path.parent != folder or not path.is_file():
        raise HTTPException(404, NOT_FOUND)
    return path


RunId = Annotated[int, PathParam(ge=1, le=MAX_INT)]
FileName = Annotated[str, PathParam(min_length=1, max_length=220)]


@router.get("/archivos/{run_id}/{filename}")
def data_file(request: Request, run_id: RunId, filename: FileName) -> Response:
    st = request.app.state.web
    if filename not in DATA_FILES:
        raise HTTPException(404, NOT_FOUND)
    with st.store.session() as s:
        run = s.get(AuditRun, run_id)
        base = run_folder(st.cfg, run) if run is not None else None
    return _serve(_checked(base, "", filename), filename)


@router.get("/archivos/{run_id}/informes/{filename}")
def report_file(request: Request, run_id: RunId, filename: FileName) -> Response:
    st = request.app.state.web
    if not REPORT_FILE.match(filename):
        raise HTTPException(404, NOT_FOUND)
    with st.store.session() as s:
        run = s.get(AuditRun, run_id)
        base = run_folder(st.cfg, run) if run is not None else None
    return _serve(_checked(base, "reports", filename), filename)


def year_report(request: Request, year: int, filename: str) -> Response:
    """``/informes/<year>/<file>`` (older links): the report of the year's newest run with results."""
    st = request.app.state.web
    if not REPORT_FILE.match(filename):
        raise HTTPException(404, "Informe no encontrado.")
    with st.store.session() as s:
        run = resolve_run(s, year=year)
        base = run_folder(st.cfg, run) if run is not None else Path(st.cfg.output_dir) / str(year)
    return _serve(_checked(base, "reports", filename), filename)
