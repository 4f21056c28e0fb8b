"""Admin area: login, CSRF-protected actions and the audit log of who did what.

Actions: start an audit now (background thread, the configured/known portals only), upload a commitments
inventory or a reviews file (validated completely, then swapped in atomically — never partially applied; used by
the next audit), regenerate the reports of the latest run. Disabled (404 with an explanation) when
``AUDIT_ADMIN_PASSWORD`` is not set.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.formparsers import MultiPartException

from audit.clock import utcnow
from audit.errors import InputFileError
from audit.web import data
from audit.web.jobs import Job
from audit.web.security import CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_S
from audit.web.uploads import UPLOAD_KINDS, validate_upload

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    
    from audit.web.app import WebState

log = logging.getLogger(__name__)
router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries, headers and the CSRF field around the file
DISABLED = ("La administración está deshabilitada: defina las variables de entorno AUDIT_ADMIN_USER y "
            "AUDIT_ADMIN_PASSWORD y reinicie el servicio.")


def _st(request: Request) -> WebState:
    st = request.app.state.web
    if st.admin is None:
        raise HTTPException(404, DISABLED)
    return st


def _client(request: Request) -> str:
    return request.client.host if request.client else "desconocido"


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _user(request: Request, st: WebState) -> str | None:
    """The signed-in user: a valid signed cookie whose server-side session has not ended (logout, expiry)."""
    found = st.signer.read_session_id(request.cookies.get(SESSION_COOKIE))
    if found is None or not found[1]:
        return None
    with st.store.session() as s:
        return found[0] if data.session_active(s, _sid_hash(found[1]), utcnow()) else None


def _require_user(request: Request, st: WebState) -> str:
    user = _user(request, st)
    if user is None:
        raise HTTPException(401, "Inicie sesión como administrador para realizar esta acción.")
    return user


def _origins(request: Request, st: WebState) -> set[str]:
    """Where the admin forms may be posted from: this request's own origin (scheme and Host as resolved behind
    a trusted proxy) and the configured public URL."""
    own = {str(request.base_url).rstrip("/")}
    if st.cfg.web.public_url:
        parts = urlsplit(st.cfg.web.public_url)
        own.add(f"{parts.scheme}://{parts.netloc}")
    return own


def _check_csrf(request: Request, st: WebState, token: str | None) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") not in _origins(request, st):
        raise HTTPException(403, "Solicitud rechazada: origen distinto al del tablero.")
    if not st.signer.check_csrf(request.cookies.get(CSRF_COOKIE), token):
        raise HTTPException(403, "Solicitud rechazada: el token CSRF falta o no es válido. Recargue la página e intente de nuevo.")


def _log(st: WebState, request: Request, user: str, action: str, outcome: str, **detail: Any) -> None:
    with st.store.session() as s:
        data.record_admin_action(s, user=user, action=action, outcome=outcome, detail=detail,
                                 client=_client(request), at=utcnow())
    log.info("admin user=%s action=%s outcome=%s detail=%s", user, action, outcome, detail)


def _page(request: Request, st: WebState, *, user: str | None, message: str | None = None, error: str | None = None,
          status_code: int = 200) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    ctx: dict[str, Any] = {"csrf_token": st.signer.csrf_token(csrf), "user": user, "message": message, "error": error,
                           "years": [], "run": None}
    if user is None:
        resp = st.render(request, "login.html", ctx, status_code=status_code)
    else:
        with st.store.session() as s:
            ctx.update(log_entries=data.admin_log(s), portals=_portals(st, s), job=st.jobs.current,
                       last_job=st.jobs.last, uploads=_upload_status(st))
        resp = st.render(request, "admin.html", ctx, status_code=status_code)
    resp.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/admin",
                    secure=request.url.scheme == "https")
    return resp


def _portals(st: WebState, s: Session) -> list[dict[str, Any]]:
    known = data.portals(s)
    if st.cfg.portal_url and all(p["url"] != st.cfg.portal_url for p in known):
        known.insert(0, {"id": 0, "url": st.cfg.portal_url, "title": st.cfg.portal_title})
    return known


def uploads_dir(st: WebState) -> Path:
    return Path(st.cfg.web.uploads_dir)


def _upload_status(st: WebState) -> list[dict[str, Any]]:
    out = []
    for kind, spec in UPLOAD_KINDS.items():
        path = uploads_dir(st) / spec["filename"]
        out.append({"kind": kind, "label": spec["label"], "present": path.is_file(), "path": str(path)})
    return out


@router.get("")
def admin_home(request: Request) -> Response:
    st = _st(request)
    return _page(request, st, user=_user(request, st))


@router.post("/login")
def login(request: Request, user: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=500)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    st = _st(request)
    _check_csrf(request, st, csrf_token)
    client = _client(request)
    if st.throttle.blocked(client):
        _log(st, request, user or "?", "login", "rejected", reason="demasiados intentos")
        return _page(request, st, user=None, status_code=429,
                     error="Demasiados intentos fallidos. Espere unos minutos e intente de nuevo.")
    assert st.admin is not None  # _st answered 404 when the admin is disabled
    if not st.admin.check(user, password):
        st.throttle.failed(client)
        _log(st, request, user or "?", "login", "rejected", reason="credenciales inválidas")
        return _page(request, st, user=None, status_code=401, error="Usuario o contraseña incorrectos.")
    st.throttle.reset(client)
    sid, now = secrets.token_urlsafe(24), utcnow()
    with st.store.session() as s:
        data.start_session(s, sid_hash=_sid_hash(sid), user=user, now=now, expires=now + timedelta(seconds=SESSION_TTL_S))
    _log(st, request, user, "login", "ok")
    resp = RedirectResponse("/admin", status_code=303)
    resp.set_cookie(SESSION_COOKIE, st.signer.make_session(user, sid=sid), max_age=SESSION_TTL_S, httponly=True,
                    samesite="strict", path="/", secure=request.url.scheme == "https")
    return resp


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    st = _st(request)
    _check_csrf(request, st, csrf_token)
    user = _user(request, st)
    found = st.signer.read_session_id(request.cookies.get(SESSION_COOKIE))
    if found is not None and found[1]:
        with st.store.session() as s:
            data.end_session(s, _sid_hash(found[1]), utcnow())  # the cookie is useless from now on
    if user:
        _log(st, request, user, "logout", "ok")
    resp = RedirectResponse("/admin", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.post("/subir/{kind}")
async def upload(request: Request, kind: str) -> Response:
    """The body is read only after the session, the kind and the declared size are checked (an anonymous
    30 MB post is refused without reading it); the form parser then caps the file part itself."""
    st = _st(request)
    user = await run_in_threadpool(_require_user, request, st)
    if kind not in UPLOAD_KINDS:
        raise HTTPException(404, "Tipo de archivo desconocido.")
    spec = UPLOAD_KINDS[kind]
    declared = request.headers.get("content-length", "")
    too_large = f"El archivo supera el máximo de {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
        _log(st, request, user, f"upload_{kind}", "rejected", reason="demasiado grande")
        return _page(request, st, user=user, status_code=413, error=too_large)
    try:
        form = await request.form(max_files=1, max_fields=5, max_part_size=MAX_UPLOAD_BYTES + 1)
    except (MultiPartException, HTTPException) as exc:
        _log(st, request, user, f"upload_{kind}", "rejected", reason="formulario no válido")
        return _page(request, st, user=user, status_code=400, error=f"El formulario no es válido: {exc}")
    token = form.get("csrf_token")
    _check_csrf(request, st, token if isinstance(token, str) else None)
    archivo = form.get("archivo")
    if not isinstance(archivo, StarletteUploadFile):
        return _page(request, st, user=user, status_code=400, error="Elija un archivo CSV para subir.")
    content = await archivo.read(MAX_UPLOAD_BYTES + 1)
    fname = (archivo.filename or "")[:200]
    if len(content) > MAX_UPLOAD_BYTES:
        _log(st, request, user, f"upload_{kind}", "rejected", file=fname, reason="demasiado grande")
        return _page(request, st, user=user, status_code=413, error=too_large)
    target_dir = uploads_dir(st)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _page(request, st, user=user, status_code=500,
                     error=f"No se puede crear la carpeta de archivos {target_dir}: {exc}")
    # validate a private temporary copy completely; only then swap it in (never partially applied)
    fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".csv", dir=target_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        try:
            count = validate_upload(kind, Path(tmp))
        except InputFileError as exc:
            reason = str(exc).replace(tmp, fname or "archivo")  # name the user's file, not our temporary one
            _log(st, request, user, f"upload_{kind}", "rejected", file=fname, error=reason[:1000])
            return _page(request, st, user=user, status_code=400,
                         error=f"{spec['label']}: el archivo no se aplicó. {reason}")
        os.replace(tmp, target_dir / spec["filename"])
        tmp = ""
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    _log(st, request, user, f"upload_{kind}", "ok", file=fname, rows=count)
    return _page(request, st, user=user,
                 message=f"{spec['label']}: {count} filas válidas guardadas; se aplicarán en la próxima auditoría.")


def _effective_cfg(st: WebState) -> Any:
    """The config for an admin-started audit: the uploaded inventory/reviews, when present, take precedence."""
    cfg = st.cfg.model_copy(deep=True)
    commitments = uploads_dir(st) / UPLOAD_KINDS["compromisos"]["filename"]
    reviews = uploads_dir(st) / UPLOAD_KINDS["revisiones"]["filename"]
    if commitments.is_file():
        cfg.indicator.commitments_file = str(commitments)
    if reviews.is_file():
        cfg.indicator.reviews_file = str(reviews)
    return cfg


def _on_done(st: WebState, request: Request, user: str, action: str) -> Callable[[Job], None]:
    def done(job: Job) -> None:
        _log(st, request, user, action, job.status, message=job.message[:1000])
        st.clear_caches()

    return done


@router.post("/auditar")
def start_audit(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "",
                portal: Annotated[int, Form(ge=0, le=data.MAX_INT)] = 0) -> Response:
    st = _st(request)
    user = _require_user(request, st)
    _check_csrf(request, st, csrf_token)
    with st.store.session() as s:
        known = {p["id"]: p["url"] for p in _portals(st, s)}
    portal_url = known.get(portal)
    if portal_url is None:
        return _page(request, st, user=user, status_code=400, error="Elija un portal de la lista.")
    try:
        from audit.pipeline import run_audit
    except ImportError:
        _log(st, request, user, "audit", "error", portal=portal_url, reason="pipeline no disponible")
        return _page(request, st, user=user, status_code=503,
                     error="La auditoría no está disponible en esta instalación (falta audit.pipeline).")
    cfg = _effective_cfg(st)
    job = st.jobs.start("auditoría", lambda: run_audit(cfg, st.store, portal_url=portal_url, kind="manual"),
                        _on_done(st, request, user, "audit"))
    if job is None:
        return _page(request, st, user=user, status_code=409, error="Ya hay una tarea en curso; espere a que termine.")
    _log(st, request, user, "audit", "started", portal=portal_url)
    return _page(request, st, user=user, status_code=202,
                 message=f"Auditoría de {portal_url} iniciada en segundo plano. Recargue esta página para ver el avance.")


def _report_generator() -> Callable[..., Any] | None:
    """The pipeline's reports stage (``run_stage("report", …)``), forced on even if disabled for audits."""
    try:
        from audit.pipeline import run_stage
    except ImportError:
        return None

    def regenerate(cfg: Any, store: Any, *, run_id: int) -> Any:
        cfg = cfg.model_copy(deep=True)
        cfg.reports.enabled = True
        return run_stage("report", store, run_id, cfg)

    return regenerate


@router.post("/informes")
def regenerate_reports(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    st = _st(request)
    user = _require_user(request, st)
    _check_csrf(request, st, csrf_token)
    with st.store.session() as s:
        run = data.resolve_run(s)
    if run is None:
        return _page(request, st, user=user, status_code=400, error="No hay corridas para generar informes.")
    fn = _report_generator()
    if fn is None:
        _log(st, request, user, "reports", "error", reason="generador no disponible")
        return _page(request, st, user=user, status_code=503,
                     error="La generación de informes no está disponible en esta instalación.")
    run_id = run.id
    job = st.jobs.start("informes", lambda: fn(st.cfg, st.store, run_id=run_id), _on_done(st, request, user, "reports"))
    if job is None:
        return _page(request, st, user=user, status_code=409, error="Ya hay una tarea en curso; espere a que termine.")
    _log(st, request, user, "reports", "started", run=run_id)
    return _page(request, st, user=user, status_code=202,
                 message=f"Generación de informes de la corrida {run_id} iniciada en segundo plano.")

