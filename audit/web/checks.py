"""«Revisar un conjunto ahora»: the one-dataset check (audit/check.py) from the dashboard, for signed-in users.

``GET /admin/revisar`` shows the form and the user's recent checks; ``POST /admin/revisar`` (CSRF-protected)
starts the check in a background thread and redirects to ``/admin/revisar/<id>``, a linkable page that shows the
progress (it reloads itself while running) and then the ten statuses with findings and what to do
(``/admin/revisar/<id>.json`` for machines). Rate-limited per user (one running check, at most
:data:`PER_WINDOW` started per :data:`WINDOW_S`). Results live in memory (the latest :data:`KEEP`); nothing is
written to the audit database, as with ``run_audit.py check``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from audit.errors import AuditError
from audit.web.admin import _check_csrf, _log, _st, _user
from audit.web.security import CSRF_COOKIE

if TYPE_CHECKING:
    from audit.web.app import WebState

router = APIRouter(prefix="/admin/revisar", include_in_schema=False)
PER_WINDOW = 6
WINDOW_S = 600.0
KEEP = 200
IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


@dataclass
class CheckJob:
    id: str
    user: str
    target: str
    started: float
    step: str = "En cola"
    status: str = "running"  # running | ok | error
    error: str | None = None
    result: Any = None
    finished: float | None = None


@dataclass
class CheckRegistry:
    jobs: OrderedDict[str, CheckJob] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job: CheckJob) -> None:
        with self.lock:
            self.jobs[job.id] = job
            while len(self.jobs) > KEEP:
                self.jobs.popitem(last=False)

    def refusal(self, user: str, now: float) -> str | None:
        """Why ``user`` may not start a check now (Spanish), or None."""
        with self.lock:
            mine = [j for j in self.jobs.values() if j.user == user]
        if any(j.status == "running" for j in mine):
            return "Ya tiene una revisión en curso; espere a que termine."
        recent = [j for j in mine if now - j.started < WINDOW_S]
        if len(recent) >= PER_WINDOW:
            wait = int(WINDOW_S - (now - min(j.started for j in recent))) + 1
            return (f"Alcanzó el límite de {PER_WINDOW} revisiones cada {int(WINDOW_S // 60)} minutos; "
                    f"intente de nuevo en {wait} segundos.")
        return None


def _registry(request: Request) -> CheckRegistry:
    state = request.app.state
    if not hasattr(state, "checks"):
        state.checks = CheckRegistry()
    registry: CheckRegistry = state.checks
    return registry


def _signed_in(request: Request) -> tuple[Any, str]:
    st = _st(request)
    user = _user(request, st)
    if user is None:
        raise HTTPException(401, "Inicie sesión en Administración para revisar un conjunto.")
    return st, user


def _form(request: Request, st: WebState, user: str, *, error: str | None = None, status_code: int = 200,
          target: str = "") -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    with _registry(request).lock:
        mine = [j for j in reversed(_registry(request).jobs.values()) if j.user == user][:20]
    resp = st.render(request, "check.html", {
        "csrf_token": st.signer.csrf_token(csrf), "user": user, "error": error, "jobs": mine, "job": None,
        "target": target, "portal": st.cfg.portal_url, "years": [], "run": None}, status_code=status_code)
    resp.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/admin",
                    secure=request.url.scheme == "https")
    return resp


@router.get("")
def check_form(request: Request) -> Response:
    st, user = _signed_in(request)
    return _form(request, st, user)


@router.post("")
def start_check(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "",
                conjunto: Annotated[str, Form(max_length=1000)] = "") -> Response:
    from audit.check import check_dataset, dataset_ref

    st, user = _signed_in(request)
    _check_csrf(request, st, csrf_token)
    target = conjunto.strip()
    if not st.cfg.portal_url:
        return _form(request, st, user, status_code=503, target=target,
                     error="El tablero no tiene un portal configurado (portal_url).")
    try:
        dataset_ref(st.cfg.portal_url, target)  # refuse other hosts before starting anything
    except AuditError as exc:
        return _form(request, st, user, error=exc.message, status_code=400, target=target)
    registry = _registry(request)
    refusal = registry.refusal(user, time.monotonic())
    if refusal:
        _log(st, request, user, "check", "rejected", target=target, reason=refusal)
        return _form(request, st, user, error=refusal, status_code=429, target=target)
    job = CheckJob(id=secrets.token_urlsafe(16), user=user, target=target, started=time.monotonic())
    registry.add(job)
    cfg = st.cfg

    def step(text: str) -> None:
        job.step = text

    def run() -> None:
        try:
            job.result = check_dataset(cfg, target, progress=step)
            job.status, job.step = "ok", "Terminado"
        except AuditError as exc:
            job.status, job.error = "error", exc.message
        except Exception as exc:  # a bug in one check must not take the dashboard down
            job.status, job.error = "error", f"Error inesperado: {exc.__class__.__name__}"
        finally:
            job.finished = time.monotonic()
            _log(st, request, user, "check", job.status, target=target, job=job.id,
                 **({"error": job.error} if job.error else {}))

    _log(st, request, user, "check", "started", target=target, job=job.id)
    threading.Thread(target=run, name=f"web-check-{job.id[:8]}", daemon=True).start()
    return RedirectResponse(f"/admin/revisar/{job.id}", status_code=303)


def _job(request: Request, job_id: str) -> CheckJob:
    job = _registry(request).jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "Esa revisión no existe o ya no se conserva; inicie otra.")
    return job


@router.get("/{job_id}.json")
def check_json(request: Request, job_id: IdPath) -> Response:
    _signed_in(request)
    job = _job(request, job_id)
    body: dict[str, Any] = {"id": job.id, "target": job.target, "status": job.status, "step": job.step,
                            "error": job.error}
    if job.result is not None:
        body["result"] = job.result.as_json()
    return JSONResponse(body)


@router.get("/{job_id}")
def check_page(request: Request, job_id: IdPath) -> Response:
    st, user = _signed_in(request)
    job = _job(request, job_id)
    return st.render(request, "check.html", {"user": user, "job": job, "jobs": [], "error": None,
                                             "portal": st.cfg.portal_url, "years": [], "run": None})
