"""A local HTTP server that misbehaves on purpose, for probe/content tests (reusable by other stages).

    with FaultServer() as srv:              # 127.0.0.1, ephemeral port, runs in a background thread
        srv.url("/files/ok.csv")
        srv.max_in_flight["/slow"]          # peak concurrent requests seen per path prefix
        srv.requests                        # [(method, path_qs, headers)] in arrival order

Binding other loopback addresses (``FaultServer(host="127.0.0.2")``) gives distinct "hosts" on one machine.
Routes (all under the root):

    /files/<name>            static bodies from FILES (see below), GET only; HEAD answers 405 (HEAD-hostile)
    /files-range/<name>      same, but honours Range (206)
    /status/<code>           that status with a small body
    /retry/<n>/<key>         429 with Retry-After for the first n requests of <key>, then a CSV
    /redirect/loop           A → B → A …
    /redirect/chain/<n>      n more hops before landing on /files/ok.csv
    /redirect/to?u=<url>     302 to any URL
    /redirect/nolocation     302 without Location
    /slow-drip               200 that sends one byte every 0.2 s, for ever
    /slow-headers            waits 30 s before answering
    /gzip-bomb               Content-Encoding: gzip of ~200 MiB of zeros
    /huge-header             a 64 KiB header line
    /drop                    closes the connection without answering
    /etag.csv                ETag/Last-Modified, 304 on a matching conditional request
    /latency?ms=50           waits, then a small CSV (for concurrency tests)
    /login/form              HTML with a password field        /cuenta/login  same, reached by redirect
    /pago                    HTML payment page (card number)   /landing       an ordinary HTML page
    /setcookie               sets a session cookie and redirects to /files/ok.csv?after-cookie
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import io
import ssl
import threading
import time
import zipfile
from collections import defaultdict
from email.utils import formatdate
from typing import Any

from aiohttp import web

CSV_UTF8 = "municipio,clave,poblacion\nToluca,106,910608\nEcatepec,033,1645352\nNaucalpan,057,834434\n".encode()
CSV_LATIN1 = "municipio;clave;población\nAcolman;002;171507\nTenancingo;088;104677\nSan José del Rincón;124;93878\n".encode(
    "latin-1"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JSON_DOC = b'{"result": [{"municipio": "Toluca", "poblacion": 910608}]}'
GEOJSON = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    b'{"type": "Point", "coordinates": [-99.65, 19.29]}, "properties": {"nombre": "Toluca"}}]}'
)
KML = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark/></kml>'
RDF = (
    b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b"<rdf:Description/></rdf:RDF>"
)
XML_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>'
)
LOGIN_HTML = (
    b"<!DOCTYPE html><html><head><title>Acceso</title></head><body><form method='post' action='/entrar'>"
    b"<input name='usuario'><input type='password' name='clave'><button>Entrar</button></form></body></html>"
)
PAYMENT_HTML = (
    b"<!DOCTYPE html><html><head><title>Tienda de datos - Pago</title></head><body><form>"
    b"<input name='cardnumber'><input name='cvv'></form></body></html>"
)
LANDING_HTML = (
    b"<!DOCTYPE html><html><head><title>Conjunto de datos de poblaci\xc3\xb3n</title></head><body>"
    b"<h1>Poblaci\xc3\xb3n por municipio</h1><p>Consulte la informaci\xc3\xb3n en l\xc3\xadnea, pago de "
    b"derechos en ventanilla.</p><a href='/x'>Ver</a></body></html>"
)


def make_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["municipio", "poblacion"])
    ws.append(["Toluca", 910608])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_ods() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", b"<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


@functools.cache
def _files() -> dict[str, tuple[bytes, str]]:
    xlsx = make_xlsx()
    return {
        "ok.csv": (CSV_UTF8, "text/csv; charset=utf-8"),
        "latin1.csv": (CSV_LATIN1, "text/csv"),
        "report.csv": (PDF, "text/csv"),  # a PDF declared as CSV
        "tabla.xlsx": (CSV_UTF8, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),  # CSV as XLSX
        "descarga": (xlsx, "application/octet-stream"),  # an XLSX without extension
        "libro.xlsx": (xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "data.json": (JSON_DOC, "application/json"),
        "mapa.geojson": (GEOJSON, "application/geo+json"),
        "capa.kml": (KML, "application/vnd.google-earth.kml+xml"),
        "catalogo.rdf": (RDF, "application/rdf+xml"),
        "bomba.xml": (XML_BOMB, "application/xml"),
        "hoja.ods": (make_ods(), "application/vnd.oasis.opendocument.spreadsheet"),
        "shapes.zip": (make_zip({"mun.shp": b"\x00" * 100, "mun.dbf": b"\x00" * 10, "mun.shx": b"x"}), "application/zip"),
        "tablas.zip": (make_zip({"a.csv": CSV_UTF8, "b.csv": CSV_UTF8}), "application/zip"),
        "zip-bomb.zip": (make_zip({"big.csv": b"a,b\n" + b"0" * (20 * 1024 * 1024)}), "application/zip"),
        "vacio.csv": (b"", "text/csv"),
        "big.csv": (b"a,b,c\n" + b"1,2,3\n" * (5 * 1024 * 1024 // 6), "text/csv"),  # 5 MiB
        "page.html": (LANDING_HTML, "text/html; charset=utf-8"),
    }


@functools.cache
def _gzip_bomb() -> bytes:
    return gzip.compress(b"\x00" * (100 * 1024 * 1024), compresslevel=6)


class FaultServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self.counters: dict[str, int] = defaultdict(int)
        self.files = _files()
        self._gzip_bomb: bytes | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> FaultServer:
        self._thread = threading.Thread(target=self._serve, name=f"faultserver-{self.host}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application(middlewares=[self._track])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()
        loop.close()

    @property
    def base(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    # --------------------------------------------------------------------------------------------- handlers

    @web.middleware
    async def _track(self, request: web.Request, handler: Any) -> web.StreamResponse:
        key = "/" + request.path.strip("/").split("/")[0]
        self.requests.append((request.method, request.path_qs, dict(request.headers)))
        self.in_flight[key] += 1
        self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])
        try:
            return await handler(request)
        finally:
            self.in_flight[key] -= 1

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        head = parts[0]
        if request.method == "HEAD":
            return web.Response(status=405, text="HEAD no permitido")
        handler = getattr(self, "_h_" + head.replace("-", "_").replace(".", "_"), None)
        if handler is None:
            return web.Response(status=404, text="no existe")
        return await handler(request, parts[1:])

    async def _h_files(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        name = "/".join(rest)
        if name not in self.files:
            return web.Response(status=404, text="no existe")
        body, ctype = self.files[name]
        return web.Response(body=body, headers={"Content-Type": ctype})  # ignores Range

    async def _h_files_range(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        name = "/".join(rest)
        if name not in self.files:
            return web.Response(status=404)
        body, ctype = self.files[name]
        rng = request.headers.get("Range", "")
        if rng.startswith("bytes=0-"):
            if not body:
                return web.Response(status=416, headers={"Content-Range": "bytes */0"})
            end = min(int(rng.split("-", 1)[1]), len(body) - 1)
            return web.Response(
                status=206,
                body=body[: end + 1],
                headers={"Content-Type": ctype, "Content-Range": f"bytes 0-{end}/{len(body)}"},
            )
        return web.Response(body=body, headers={"Content-Type": ctype})

    async def _h_status(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        return web.Response(status=int(rest[0]), text=f"estado {rest[0]}")

    async def _h_retry(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        n, key = int(rest[0]), rest[1]
        self.counters[key] += 1
        if self.counters[key] <= n:
            return web.Response(status=429, headers={"Retry-After": request.query.get("after", "5")})
        return web.Response(body=CSV_UTF8, headers={"Content-Type": "text/csv"})

    async def _h_redirect(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        kind = rest[0]
        if kind == "loop":
            nxt = "/redirect/loop/b" if rest[1:] != ["b"] else "/redirect/loop"
            raise web.HTTPFound(nxt)
        if kind == "chain":
            n = int(rest[1])
            raise web.HTTPFound(f"/redirect/chain/{n - 1}" if n > 0 else "/files/ok.csv")
        if kind == "to":
            return web.Response(status=302, headers={"Location": request.query["u"]})
        if kind == "nolocation":
            return web.Response(status=302)
        return web.Response(status=404)

    async def _h_slow_drip(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/csv"})
        await resp.prepare(request)
        for _ in range(600):
            await resp.write(b"a")
            await asyncio.sleep(0.2)
        return resp

    async def _h_slow_headers(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(text="tarde")

    async def _h_gzip_bomb(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        if self._gzip_bomb is None:
            self._gzip_bomb = _gzip_bomb()
        return web.Response(
            body=self._gzip_bomb, headers={"Content-Type": "text/csv", "Content-Encoding": "gzip"}
        )

    async def _h_huge_header(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        return web.Response(text="x", headers={"X-Huge": "a" * 65536})

    async def _h_drop(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.05)
        return web.Response(text="nunca llega")

    async def _h_etag_csv(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        etag = '"v1"'
        last_modified = formatdate(1_700_000_000, usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=CSV_UTF8, headers={"Content-Type": "text/csv", "ETag": etag, "Last-Modified": last_modified}
        )

    async def _h_latency(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        await asyncio.sleep(float(request.query.get("ms", "50")) / 1000)
        return web.Response(body=CSV_UTF8, headers={"Content-Type": "text/csv"})

    async def _h_login(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        return web.Response(body=LOGIN_HTML, headers={"Content-Type": "text/html"})

    async def _h_cuenta(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        if rest[:1] == ["login"]:
            return web.Response(body=LOGIN_HTML, headers={"Content-Type": "text/html"})
        raise web.HTTPFound("/cuenta/login?next=/datos.csv")

    async def _h_pago(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        return web.Response(body=PAYMENT_HTML, headers={"Content-Type": "text/html"})

    async def _h_setcookie(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        resp = web.Response(status=302, headers={"Location": "/files/ok.csv?after-cookie"})
        resp.set_cookie("sesion", "secreta", path="/")
        return resp

    async def _h_landing(self, request: web.Request, rest: list[str]) -> web.StreamResponse:
        return web.Response(body=LANDING_HTML, headers={"Content-Type": "text/html; charset=utf-8"})


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
