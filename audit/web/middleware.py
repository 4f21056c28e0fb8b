"""Request hygiene before the app sees a request (pure ASGI, cheap).

- ``HeadMiddleware``: ``HEAD`` is answered as ``GET`` without the body, wherever ``GET`` works (monitoring).
- ``SlashMiddleware``: ``/corridas/`` → ``/corridas`` with a *relative* redirect (Starlette's own builds an
  absolute URL from the Host header, which a client controls).
- ``QueryAllowlistMiddleware``: only the query parameters a route declares reach it (and the page cache's
  key). In ``/api/`` an unknown parameter is a 422 naming it; in the HTML views it is dropped, so links built
  from the current URL never carry it and a flood of distinct junk URLs all share one cache entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit.web.errors import json_error_bytes

MAX_QUERY_BYTES = 4096


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class SlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/" or not path.endswith("/"):
            await self.app(scope, receive, send)
            return
        target = "/" + path.strip("/")
        if target.startswith("//"):  # never a protocol-relative URL to another host
            target = "/"
        query = scope.get("query_string", b"")
        location = target.encode("utf-8") + (b"?" + query if query else b"")
        await send({"type": "http.response.start", "status": 308,
                    "headers": [(b"location", location), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


class QueryAllowlistMiddleware:
    def __init__(self, app: ASGIApp, routes: Sequence[Any]) -> None:
        self.app = app
        # (path regex, declared query names) of every route; a FastAPI route knows its own parameters
        self.routes = [(r.path_regex, frozenset(p.alias or p.name for p in r.dependant.query_params))
                       for r in routes if getattr(r, "dependant", None) is not None]

    def allowed(self, scope: Scope) -> frozenset[str] | None:
        """Query parameter names the matching route declares; None when no route matches (404 follows)."""
        path = scope.get("path", "")
        for regex, names in self.routes:
            if regex.match(path):
                return names
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("query_string", b"")
        if scope["type"] != "http" or not raw:
            await self.app(scope, receive, send)
            return
        allowed = self.allowed(scope)
        if allowed is None:
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl(raw[:MAX_QUERY_BYTES * 4].decode("latin-1"), keep_blank_values=True)
        unknown = sorted({k for k, _ in pairs if k not in allowed})
        if scope.get("path", "").startswith("/api/") and (unknown or len(raw) > MAX_QUERY_BYTES):
            names = ", ".join(f"«{u[:40]}»" for u in unknown[:5]) or "(demasiado larga)"
            accepted = ", ".join(sorted(allowed)) or "ninguno"
            problems = [{"loc": ["query", u], "type": "unknown_parameter", "param": u[:40], "input": None,
                         "msg": f"Parámetro «{u[:40]}»: no existe en esta dirección.",
                         "accepted": accepted} for u in unknown[:20]]
            body = json_error_bytes(422, "unknown_parameter",
                                    f"Parámetro desconocido: {names}. Se aceptan: {accepted}.", problems)
            await send({"type": "http.response.start", "status": 422, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        known = {k: v for k, v in pairs if k in allowed}  # the last value wins, as FastAPI reads it
        query = urlencode(sorted(known.items())).encode("latin-1", "replace")
        await self.app({**scope, "query_string": query}, receive, send)


class ConditionalGetMiddleware:
    """``ETag`` (a hash of the body: a finished run's pages and API answers never change, so the tag is stable
    for the run they show) and ``Cache-Control`` on every HTML/JSON answer to GET; ``If-None-Match`` with the
    same tag answers 304 without a body. Views may set their own ``Cache-Control`` (by the run's state)."""

    def __init__(self, app: ASGIApp, default_cache: str = "public, max-age=60") -> None:
        self.app = app
        self.default_cache = default_cache.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or path.startswith(("/admin", "/static")):
            await self.app(scope, receive, send)
            return
        wanted = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"if-none-match"), "")
        start: Message | None = None

        async def send_tagged(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if message["status"] == 200 and content_type.startswith((b"text/html", b"application/json",
                                                                         b"image/svg+xml")):
                    start = message  # held until the body is known
                    return
                await send(message)
                return
            if start is None:
                await send(message)
                return
            held, start = start, None
            if message.get("more_body"):  # streamed: no tag
                await send(held)
                await send(message)
                return
            body = message.get("body", b"")
            tag = b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
            headers = [(k, v) for k, v in held.get("headers", []) if k != b"etag"]
            if not any(k == b"cache-control" for k, _ in headers):
                headers.append((b"cache-control", self.default_cache))
            headers.append((b"etag", tag))
            if wanted and tag.decode() in [t.strip() for t in wanted.split(",")] or wanted.strip() == "*":
                keep = [(k, v) for k, v in headers if k in (b"etag", b"cache-control", b"vary")]
                await send({**held, "status": 304, "headers": keep})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**held, "headers": headers})
            await send(message)

        await self.app(scope, receive, send_tagged)
