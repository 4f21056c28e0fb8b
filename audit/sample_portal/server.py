"""The sample CKAN portal server: aiohttp in a background thread with its own event loop.

``SamplePortal`` is what tests, the demo and the benchmarks use::

    with SamplePortal() as portal:
        ckanapi.RemoteCKAN(portal.url).action.package_search(rows=10)
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from aiohttp import BodyPartReader, web

from audit.sample_portal import files as F
from audit.sample_portal.actions import ACTIONS, WRITE_ACTIONS
from audit.sample_portal.catalog import ActionError, Catalog, RawJSON
from audit.sample_portal.edomex import build_edomex_catalog

log = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=utf-8"
SLOW_SECONDS = 1.5  # the slow resource finishes in about this long


# --------------------------------------------------------------------------------------------------- faults
@dataclass
class Fault:
    action: str | None
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    html_500: bool = False
    malformed_json: bool = False
    match: dict[str, str] = field(default_factory=dict)
    times: int = 1

    def applies(self, action: str, params: dict[str, Any]) -> bool:
        if self.times <= 0 or (self.action is not None and self.action != action):
            return False
        return all(str(params.get(k)) == str(v) for k, v in self.match.items())


class Faults:
    """Injected misbehaviour of API actions, consumed in the order added."""

    def __init__(self) -> None:
        self._items: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, action: str | None = None, *, status: int | None = None, retry_after: float | None = None,
            delay: float = 0.0, html_500: bool = False, malformed_json: bool = False,
            match: dict[str, Any] | None = None, times: int = 1) -> Fault:
        fault = Fault(action, status, retry_after, delay, html_500, malformed_json,
                      {k: str(v) for k, v in (match or {}).items()}, times)
        with self._lock:
            self._items.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def take(self, action: str, params: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self._items:
                if fault.applies(action, params):
                    fault.times -= 1
                    return fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for f in self._items if f.times > 0)


@dataclass
class _Hook:
    action: str
    nth: int
    callback: Callable[[Catalog], Any]
    done: bool = False


# --------------------------------------------------------------------------------------------------- pages
def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"</head><body><header><h1>Portal de Datos Abiertos del Estado de México</h1></header><main>{body}</main>"
            "</body></html>")


LOGIN_FORM = ('<h2>Iniciar sesión</h2><form method="post" action="/user/login"><label>Usuario <input type="text" '
              'name="login"></label><label>Contraseña <input type="password" name="password"></label>'
              '<button type="submit">Entrar</button></form>')

PAYMENT_PAGE = ("<h2>Pago de derechos</h2><p>Para descargar este archivo realice el pago correspondiente.</p>"
                '<form method="post" action="/pagos/checkout"><label>Número de tarjeta <input name="tarjeta">'
                '</label><button type="submit">Pagar $350.00</button></form>')

LANDING_PAGE = ("<h2>{title}</h2><p>Consulte la información de este conjunto en el visor geográfico del portal.</p>"
                '<p><a href="/">Volver al inicio</a> · <a href="/dataset">Ver todos los conjuntos</a></p>'
                '<div id="visor" class="mapa"></div>')


# --------------------------------------------------------------------------------------------------- portal
class SamplePortal:
    """A CKAN 2.10-compatible portal on 127.0.0.1 serving the Estado de México catalogue (or a synthetic one)."""

    def __init__(self, *, synthetic: int | None = None, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None, now: datetime | None = None,
                 catalog_factory: Callable[[str, datetime], Catalog] | None = None, ckan_api: bool = True) -> None:
        """``catalog_factory(base_url, now)`` serves another catalogue; ``ckan_api=False`` serves only files (a
        DCAT portal's ``data.json`` or RDF pages are files of its catalogue, at any path)."""
        self.host = host
        self.catalog_factory = catalog_factory
        self.ckan_api = ckan_api
        self.port = port
        self.synthetic = synthetic
        self.token = token or "sample-" + secrets.token_hex(16)
        self.now = now
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults = Faults()
        self.disabled: set[str] = set()
        self._hooks: list[_Hook] = []
        self._counts: dict[str, int] = {}
        self._state_lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._sock: socket.socket | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle
    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise RuntimeError("SamplePortal no iniciado: use start() o 'with SamplePortal() as portal'.")
        return self._catalog

    def start(self) -> SamplePortal:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(512)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.url = f"http://{self.host}:{self.port}"
        now = self.now or datetime.now(UTC)
        if self.catalog_factory is not None:
            self._catalog = self.catalog_factory(self.url, now)
        elif self.synthetic is not None:
            from audit.sample_portal.synthetic import SyntheticCatalog

            self._catalog = SyntheticCatalog(self.synthetic, base_url=self.url, now=now)
        else:
            self._catalog = build_edomex_catalog(self.url, now)
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, args=(ready, errors), name="sample-portal", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        log.info("Portal de muestra en %s", self.url)
        return self

    def _serve(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
            loop.run_until_complete(self._runner.setup())
            assert self._sock is not None
            site = web.SockSite(self._runner, self._sock, shutdown_timeout=0.5)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            errors.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> SamplePortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls
    def on_call(self, action: str, nth: int, callback: Callable[[Catalog], Any]) -> None:
        """Run ``callback(catalog)`` before answering the ``nth`` call (1-based) of ``action``."""
        with self._state_lock:
            self._hooks.append(_Hook(action, nth, callback))

    def disable_action(self, name: str) -> None:
        self.disabled.add(name)

    def enable_action(self, name: str) -> None:
        self.disabled.discard(name)

    def calls_of(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.calls if a == action]

    # ------------------------------------------------------------------ app
    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        if not self.ckan_api:
            app.router.add_get("/{path:.*}", self._file)
            return app
        for prefix in ("/api/3/action/", "/api/action/"):
            app.router.add_route("GET", prefix + "{action}", self._api)
            app.router.add_route("POST", prefix + "{action}", self._api)
        app.router.add_get("/api/3", self._api_version)
        app.router.add_get("/api", self._api_version)
        app.router.add_get("/files/synthetic/{n:\\d+}.csv", self._synthetic_file)
        app.router.add_get("/files/{path:.+}", self._file)
        app.router.add_get("/dataset/{pid}/resource/{rid}/download/{fname}", self._file)
        app.router.add_get("/faults/{kind}/{rest:.*}", self._fault)
        app.router.add_route("*", "/user/login", self._login_page)
        app.router.add_route("*", "/pagos/{rest:.*}", self._payment_page)
        app.router.add_get("/", self._home)
        return app

    async def _api_version(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"version": 3 if request.path.startswith("/api/3") else 1})

    def _authorized(self, request: web.Request) -> bool | None:
        """True with the right token, False with a wrong one, None without any."""
        given = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key")
        if not given:
            return None
        given = given.strip()
        if given.lower().startswith("bearer "):
            given = given[7:].strip()
        return secrets.compare_digest(given, self.token)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST":
            return params
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = await part.read(decode=False)
                    params[part.name] = {"filename": part.filename, "data": bytes(data),
                                         "content_type": part.headers.get("Content-Type")}
                else:
                    params[part.name] = await part.text()
            return params
        if ctype == "application/x-www-form-urlencoded":
            params.update(dict(await request.post()))
            return params
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise ActionError(400, "Bad request - JSON Error", f"Error decoding JSON data. {exc}") from None
            if not isinstance(body, dict):
                raise ActionError(400, "Bad request - JSON Error",
                                  "Request data JSON decoded to a non-dict value") from None
            params.update(body)
        return params

    def _envelope(self, action: str, **rest: Any) -> dict[str, Any]:
        return {"help": f"{self.url}/api/3/action/help_show?name={action}", **rest}

    def _error(self, action: str, exc: ActionError) -> web.Response:
        body = self._envelope(action, success=False, error=exc.error_dict())
        return web.Response(status=exc.status, text=json.dumps(body), content_type="application/json",
                            charset="utf-8")

    async def _api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["action"]
        try:
            params = await self._params(request)
        except ActionError as exc:
            return self._error(name, exc)
        logged = {k: ("<archivo>" if isinstance(v, dict) and "data" in v else v) for k, v in params.items()}
        self.calls.append((name, logged))
        with self._state_lock:
            n = self._counts[name] = self._counts.get(name, 0) + 1
            hooks = [h for h in self._hooks if h.action == name and h.nth == n and not h.done]
            for h in hooks:
                h.done = True
        for h in hooks:
            h.callback(self.catalog)

        fault = self.faults.take(name, params)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.html_500:
                return web.Response(status=500, text=_page("Error interno del servidor",
                                                           "<h2>500 Internal Server Error</h2><p>El servidor "
                                                           "encontró un error.</p>"), content_type="text/html")
            if fault.malformed_json:
                full = json.dumps(self._envelope(name, success=True, result={"id": "x", "name": "truncado"}))
                return web.Response(status=200, text=full[: len(full) // 2], content_type="application/json")
            if fault.status is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after) if float(fault.retry_after).is_integer()
                                                 else fault.retry_after)
                if fault.status == 429:
                    return web.Response(status=429, headers=headers, text=_page(
                        "Demasiadas solicitudes", "<h2>429 Too Many Requests</h2>"), content_type="text/html")
                if fault.status >= 500:
                    return web.Response(status=fault.status, headers=headers, text=_page(
                        "Servicio no disponible", f"<h2>{fault.status} Service Unavailable</h2>"),
                        content_type="text/html")
                return web.Response(status=fault.status, headers=headers, content_type="application/json",
                                    text=json.dumps(self._envelope(name, success=False, error={
                                        "__type": "Error", "message": f"HTTP {fault.status}"})))

        handler = ACTIONS.get(name)
        if handler is None or name in self.disabled:
            return self._error(name, ActionError(400, f"Bad request - Action name not known: {name}"))
        auth = self._authorized(request)
        if name in WRITE_ACTIONS:
            if auth is None:
                return self._error(name, ActionError(401, "Authorization Error",
                                                     "Access denied: Action requires an authenticated user"))
            if auth is False:
                return self._error(name, ActionError(403, "Authorization Error",
                                                     "Access denied: invalid API token"))
        try:
            with self.catalog.lock:
                result = handler(self, params, bool(auth))
        except ActionError as exc:
            return self._error(name, exc)
        except Exception as exc:  # noqa: BLE001 - a bug here must still answer like CKAN
            log.exception("Error en la acción %s", name)
            return self._error(name, ActionError(500, "Internal Server Error", str(exc)))
        if isinstance(result, RawJSON):
            body = f'{{"help": {json.dumps(self._envelope(name)["help"])}, "success": true, "result": {result}}}'
        else:
            body = json.dumps(self._envelope(name, success=True, result=result), ensure_ascii=False)
        return web.Response(body=body.encode("utf-8"), content_type="application/json", charset="utf-8")

    # ------------------------------------------------------------------ files
    async def _file(self, request: web.Request) -> web.StreamResponse:
        served = self.catalog.files.get(request.path_qs) or self.catalog.files.get(request.path)  # ?page=2
        if served is None:
            return web.Response(status=404, text=_page("No encontrado", "<h2>404 No encontrado</h2>"),
                                content_type="text/html")
        # building a file (openpyxl, large CSV) must not stall the event loop for everyone else
        data = served.body if served.body is not None else await asyncio.get_running_loop().run_in_executor(
            None, served.data)
        if served.regenerate:
            data = _regenerated_csv(data)
        etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'  # noqa: S324 - an ETag, not security
        headers = {"ETag": etag}
        if served.stamp_now:
            headers["Last-Modified"] = format_datetime(datetime.now(UTC), usegmt=True)
        elif served.last_modified is not None:
            headers["Last-Modified"] = format_datetime(served.last_modified.astimezone(UTC), usegmt=True)
        if request.headers.get("If-None-Match") == etag or _not_modified_since(request, served.last_modified):
            return web.Response(status=304, headers=headers)
        if served.filename and request.path.startswith("/dataset/"):
            headers["Content-Disposition"] = f'attachment; filename="{served.filename}"'
        return web.Response(body=data, headers=headers, content_type=served.content_type.split(";")[0],
                            charset=_charset(served.content_type))

    async def _synthetic_file(self, request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        # synthetic files never change: a stable validator lets later runs use conditional requests
        headers = {"ETag": f'"sintetico-{n}"', "Last-Modified": format_datetime(
            self.catalog.now.astimezone(UTC).replace(microsecond=0) - timedelta(days=30), usegmt=True)}
        if request.headers.get("If-None-Match") == headers["ETag"]:
            return web.Response(status=304, headers=headers)
        resp = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8", **headers})
        await resp.prepare(request)
        try:
            for chunk in F.synthetic_csv_chunks(n):
                await resp.write(chunk)
            await resp.write_eof()
        except ConnectionResetError:  # the prober reads only the first bytes and hangs up: not a server error
            pass
        return resp

    async def _fault(self, request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        rest = request.match_info["rest"]
        page = lambda title, body: _page(title, body)  # noqa: E731
        if kind == "not-found":
            return web.Response(status=404, text=page("Página no encontrada", "<h2>404</h2><p>El recurso no existe."
                                                      "</p>"), content_type="text/html")
        if kind == "gone":
            return web.Response(status=410, text=page("Recurso retirado", "<h2>410</h2><p>El recurso fue retirado."
                                                      "</p>"), content_type="text/html")
        if kind == "server-error":
            return web.Response(status=500, text=page("Error interno", "<h2>500 Internal Server Error</h2>"),
                                content_type="text/html")
        if kind == "unauthorized":
            return web.Response(status=401, text=page("No autorizado", "<h2>401</h2>"), content_type="text/html",
                                headers={"WWW-Authenticate": 'Basic realm="Datos Edomex"'})
        if kind == "forbidden":  # a bare 403: no login form, no WWW-Authenticate, no redirect to a sign-up page
            return web.Response(status=403, text=page("Prohibido", "<h2>403 Forbidden</h2>"), content_type="text/html")
        if kind == "forbidden-login":
            return web.Response(status=403, text=page("Iniciar sesión", LOGIN_FORM), content_type="text/html")
        if kind == "login-redirect":
            raise web.HTTPFound(f"/user/login?came_from=/{rest}")
        if kind == "payment-required":
            return web.Response(status=402, text=page("Pago requerido", PAYMENT_PAGE), content_type="text/html")
        if kind == "landing-page":
            title = rest.rsplit("/", 1)[0].replace("-", " ").capitalize()
            return web.Response(text=page(title, LANDING_PAGE.format(title=html.escape(title))),
                                content_type="text/html")
        if kind == "empty":
            return web.Response(body=b"", content_type="text/csv")
        if kind == "redirect-chain":
            steps, _, target = rest.partition("/")
            left = int(steps) if steps.isdigit() else 0
            if left <= 0:
                raise web.HTTPMovedPermanently("/" + target)
            cls = (web.HTTPFound, web.HTTPMovedPermanently, web.HTTPTemporaryRedirect)[left % 3]
            raise cls(f"/faults/redirect-chain/{left - 1}/{target}")
        if kind == "slow":
            served = self.catalog.files.get("/" + rest)
            if served is None:
                raise web.HTTPNotFound()
            data = await asyncio.get_running_loop().run_in_executor(None, served.data)
            resp = web.StreamResponse(headers={"Content-Type": served.content_type,
                                               "Content-Length": str(len(data))})
            await resp.prepare(request)
            parts = 6
            step = max(1, len(data) // parts + 1)
            for start in range(0, len(data), step):
                await asyncio.sleep(SLOW_SECONDS / parts)
                await resp.write(data[start: start + step])
            await resp.write_eof()
            return resp
        raise web.HTTPNotFound()

    async def _login_page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text=_page("Iniciar sesión", LOGIN_FORM), content_type="text/html")

    async def _payment_page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text=_page("Pago en línea", PAYMENT_PAGE), content_type="text/html")

    async def _home(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text=_page(self.catalog.site_title, "<p>Bienvenido al portal de datos abiertos.</p>"),
                            content_type="text/html")


def _regenerated_csv(data: bytes) -> bytes:
    """The same records with a «generado» column holding the moment of this request: what a portal that exports
    its database on every download serves (the bytes differ on every request, the data do not)."""
    stamp = datetime.now(UTC).isoformat(timespec="microseconds").encode()
    eol = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    lines = data.rstrip(b"\r\n").split(eol)
    return eol.join([lines[0] + b",generado", *(line + b"," + stamp for line in lines[1:])]) + eol


def _charset(content_type: str) -> str | None:
    if "charset=" in content_type:
        return content_type.split("charset=", 1)[1].strip()
    return None


def _not_modified_since(request: web.Request, modified: datetime | None) -> bool:
    since = request.headers.get("If-Modified-Since")
    if not since or modified is None or request.headers.get("If-None-Match"):
        return False
    try:
        return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
