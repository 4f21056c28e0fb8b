"""Signed-in users only: the run's personal-data alerts and the appeal package of a dataset.

Alerts carry masked examples only; the package is always a download (``Content-Disposition: attachment`` and
``nosniff``), never shown inline, and the archived files inside it are bytes the dashboard never opens.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from audit.appeal import build_appeal_package
from audit.errors import AuditError
from audit.privacy import personal_data_alerts
from audit.store.models import AuditRun
from audit.web.admin import _require_user, _st, _user

router = APIRouter(prefix="/admin/evidencia", include_in_schema=False)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _latest_complete_run(st: object) -> AuditRun | None:
    with st.store.session() as s:  # type: ignore[attr-defined]
        return s.scalar(select(AuditRun).where(AuditRun.status == "complete")
                        .order_by(AuditRun.started_at.desc()).limit(1))


@router.get("")
def evidence_home(request: Request) -> Response:
    st = _st(request)
    user = _user(request, st)
    if user is None:
        return st.render(request, "login.html", {"user": None, "csrf_token": "", "message": None,
                                                 "error": "Inicie sesión para ver las alertas y la evidencia.",
                                                 "years": [], "run": None}, status_code=401)
    run = _latest_complete_run(st)
    alerts = personal_data_alerts(st.store, run.id) if run is not None else []
    return st.render(request, "evidence.html", {"user": user, "alerts": alerts, "audit_run": run,
                                                "year": (run.year if run is not None and run.year else date.today().year),
                                                "years": [], "run": None})


@router.get("/paquete")
def appeal_package(request: Request,
                   conjunto: Annotated[str, Query(min_length=1, max_length=300)],
                   anio: Annotated[int, Query(ge=2000, le=2100)]) -> Response:
    st = _st(request)
    _require_user(request, st)
    folder = Path(tempfile.mkdtemp(prefix="apelacion-"))
    target = folder / "paquete.zip"
    try:
        build_appeal_package(st.store, st.cfg, conjunto, anio, target)
    except AuditError as exc:
        target.unlink(missing_ok=True)
        folder.rmdir()
        return st.render(request, "error.html", {"status": 404, "title": "Sin evidencia",
                                                 "message": str(exc), "years": [], "run": None}, status_code=404)
    name = f"evidencia-{_SAFE_NAME.sub('-', conjunto)[:80]}-{anio}.zip"

    def cleanup() -> None:
        target.unlink(missing_ok=True)
        folder.rmdir()

    return FileResponse(target, media_type="application/zip", filename=name, content_disposition_type="attachment",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
                        background=BackgroundTask(cleanup))
