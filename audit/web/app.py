"""Application factory: ``create_app(cfg, store)`` and ``serve(cfg, store, host, port)``.

Layout: ``pages.py`` (HTML views, each also downloadable as CSV/JSON), ``api.py`` (``/api/v1``), ``admin.py``
(login, CSRF-protected actions, audit log), ``data.py`` (queries), ``security.py`` (headers, sessions, CSRF).
Swagger/ReDoc pages are disabled because they load scripts from CDNs; the schema stays at ``/openapi.json``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

import rules
from audit.config import AuditConfig
from audit.errors import AuditError
from audit.results.cache import ResultsCache
from audit.store import open_store
from audit.store.db import Store
from audit.web.cache import PageCache, TTLMemo
from audit.web.data import characteristic_titles
from audit.web.errors import ERROR_TITLES, error_body, spanish_detail, spanish_errors, spanish_message
from audit.web.format import install_web_filters
from audit.web.jobs import JobRunner
from audit.web.labels import install_label_filters
from audit.web.middleware import (
    ConditionalGetMiddleware,
    HeadMiddleware,
    QueryAllowlistMiddleware,
    SlashMiddleware,
)
from audit.web.proxy import ForwardedHeadersMiddleware
from audit.web.security import (
    AdminCredentials,
    CorsMiddleware,
    LoginThrottle,
    PageCacheMiddleware,
    SecurityHeadersMiddleware,
    Signer,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
REPORTS_TEMPLATES = HERE.parent.parent / "reports" / "templates"


@dataclass
class WebState:
    cfg: AuditConfig
    store: Store
    env: Environment
    admin: AdminCredentials | None
    signer: Signer = field(default_factory=Signer)
    cache: ResultsCache = field(default_factory=ResultsCache)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    jobs: JobRunner = field(default_factory=JobRunner)
    titles: dict[str, str] = field(default_factory=characteristic_titles)
    pages: PageCache = field(default_factory=lambda: PageCache(0))
    memo: TTLMemo = field(default_factory=TTLMemo)

    def clear_caches(self) -> None:
        self.cache.clear()
        self.pages.clear()
        self.memo.clear()

    def render(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        ctx = {"request": request, "titles": self.titles, "admin_enabled": self.admin is not None, **context}
        return HTMLResponse(self.env.get_template(name).render(ctx), status_code=status_code)


def make_env() -> Environment:
    """One Jinja2 environment, autoescaped; the reports' partials (``_scorecard.html`` …) are reachable too."""
    loaders = [FileSystemLoader(str(HERE / "templates"))]
    if REPORTS_TEMPLATES.is_dir():
        loaders.append(FileSystemLoader(str(REPORTS_TEMPLATES)))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True, default_for_string=True))
    install_web_filters(env)
    install_label_filters(env)
    return env


def create_app(cfg: AuditConfig, store: Store) -> FastAPI:
    from audit.web import admin, api, badges, checks, evidence, feeds, files, fleet, pages

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync views run in anyio's thread pool (40 threads by default). Under load, 40 threads sharing the GIL
        # all progress slowly; a few threads serve requests closer to first-come first-served (lower p95).
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = cfg.web.threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Auditor de Datos Abiertos — API",
        version="1.0",
        description=f"Resultados de la evaluación de las {rules.count_es()} características de los datos abiertos "
        f"({cfg.legal_basis.citation()}). Los nombres de campos coinciden con los archivos CSV publicados.",
        docs_url=None,
        redoc_url=None,
    )
    env = make_env()
    env.globals["legal_basis"] = cfg.legal_basis
    env.globals["count_es"] = rules.count_es
    state = WebState(cfg=cfg, store=store, env=env, admin=AdminCredentials.from_env(),
                     pages=PageCache(cfg.web.page_cache_entries, max_bytes=cfg.web.page_cache_mb * 1024 * 1024))
    app.state.web = state
    if state.admin is None:
        log.info("admin disabled: AUDIT_ADMIN_PASSWORD is not set")
    app.router.redirect_slashes = False  # SlashMiddleware redirects relatively (never to the Host header)
    # added innermost first: Security(Forwarded(Head(Slash(Query(Conditional(Cors(PageCache(app))))))))
    app.add_middleware(PageCacheMiddleware, state=state)  # inner: cached pages still get the security headers
    app.add_middleware(CorsMiddleware, origins=cfg.web.cors_origins)
    app.add_middleware(ConditionalGetMiddleware)  # ETag/304 for cached pages too
    app.add_middleware(QueryAllowlistMiddleware,
                       routes=[*api.router.routes, *feeds.router.routes, *checks.router.routes, *fleet.router.routes,
                               *pages.router.routes, *badges.router.routes, *files.router.routes,
                               *evidence.router.routes, *admin.router.routes])
    app.add_middleware(SlashMiddleware)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(ForwardedHeadersMiddleware, trusted=cfg.web.trusted_proxies)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(feeds.router)  # Atom feeds of the change digests (audit/web/feeds.py)
    app.include_router(checks.router)  # «Revisar un conjunto ahora» (audit/web/checks.py)
    app.include_router(fleet.router)  # /portales: comparison of a fleet of portals (audit/web/fleet.py)
    app.include_router(pages.router)
    app.include_router(badges.router)
    app.include_router(files.router)
    app.include_router(evidence.router)  # alerts and appeal packages for signed-in users
    app.include_router(admin.router)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/healthz"

    def error(request: Request, status: int, message: str, problems: list[dict[str, Any]] | None = None,
              headers: dict[str, str] | None = None) -> Response:
        if wants_json(request):
            return JSONResponse(error_body(status, message, problems), status_code=status, headers=headers)
        resp = state.render(request, "error.html", {"status": status, "title": ERROR_TITLES.get(status, "Error"),
                                                    "message": message}, status_code=status)
        resp.headers.update(headers or {})
        return resp

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        allow = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
        if "GET" in allow and "HEAD" not in allow:  # HeadMiddleware answers HEAD wherever GET works
            headers["Allow"] = ", ".join([*allow, "HEAD"])
        message = spanish_detail(exc.status_code, exc.detail, request.method, headers.get("Allow", ""))
        return error(request, exc.status_code, message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = spanish_errors(request, exc.errors())  # Spanish: parameter, what was wrong, what is accepted
        return error(request, 422, spanish_message(problems), problems)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        # never a traceback or Starlette's English «Internal Server Error»: the same format, in Spanish
        log.exception("dashboard failure on %s", request.url.path)
        return error(request, 500, "Ocurrió un error interno del tablero; quedó registrado. Intente de nuevo "
                                   "más tarde.")

    @app.exception_handler(AuditError)
    async def audit_error(request: Request, exc: AuditError) -> Response:
        log.error("dashboard error on %s: %s", request.url.path, exc)
        return error(request, 503, str(exc))

    return app


ENV_CONFIG = "AUDIT_WEB_CONFIG_JSON"
ENV_DB = "AUDIT_WEB_DATABASE_URL"


def app_from_env() -> FastAPI:
    """uvicorn factory for multi-process serving: each worker opens its own store from the environment."""
    import os

    cfg = AuditConfig.model_validate_json(os.environ[ENV_CONFIG])
    return create_app(cfg, open_store(os.environ[ENV_DB], migrate_schema=False))


def serve(cfg: AuditConfig, store: Store, host: str | None = None, port: int | None = None) -> None:
    """Run the dashboard with uvicorn (blocking) — for ``run_audit.py serve``.

    With ``web.workers`` > 1, uvicorn starts that many processes (each with its own caches); they share the
    session/CSRF signing key through ``AUDIT_SECRET_KEY`` (generated here when unset)."""
    import os
    import secrets

    import uvicorn

    host, port = host or cfg.web.host, port or cfg.web.port
    # proxy_headers=False: uvicorn would trust X-Forwarded-* from 127.0.0.1 by default; the app decides instead,
    # from web.trusted_proxies only (audit/web/proxy.py)
    if cfg.web.workers <= 1:
        uvicorn.run(create_app(cfg, store), host=host, port=port, log_level="info", proxy_headers=False,
                    server_header=False)
        return
    os.environ.setdefault("AUDIT_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ[ENV_CONFIG] = cfg.model_dump_json()
    os.environ[ENV_DB] = store.engine.url.render_as_string(hide_password=False)
    store.close()
    import socket

    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("audit.web.app:app_from_env", factory=True, host=host, port=port,
                            workers=cfg.web.workers, log_level="info", proxy_headers=False, server_header=False)
    sock = config.bind_socket()
    # uvicorn creates this socket with proto 0, so asyncio never sets TCP_NODELAY on accepted connections and
    # small responses stall ~40 ms (Nagle + delayed ACK); set on the listener, Linux copies it to each accept().
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()
