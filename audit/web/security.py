"""Security pieces of the dashboard: response headers, admin credentials, signed sessions and CSRF tokens.

Admin is enabled only when ``AUDIT_ADMIN_PASSWORD`` is set (there is no default password); the user name is
``AUDIT_ADMIN_USER`` (default ``admin``). A session is an HMAC-signed cookie (``user|expiry``) with
``HttpOnly; SameSite=Strict``; forms carry a CSRF token that is the HMAC of a random per-browser cookie
(signed double-submit), so a cross-site form post can neither read nor forge it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from audit.web.app import WebState

SESSION_COOKIE = "audit_session"
CSRF_COOKIE = "audit_csrf"
SESSION_TTL_S = 8 * 3600

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware): adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        admin = scope.get("path", "").startswith("/admin")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self._headers if k not in present]
                if admin:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class AdminCredentials:
    user: str
    password: str

    @classmethod
    def from_env(cls) -> AdminCredentials | None:
        password = os.environ.get("AUDIT_ADMIN_PASSWORD") or ""
        if not password:
            return None
        return cls(user=os.environ.get("AUDIT_ADMIN_USER") or "admin", password=password)

    def check(self, user: str, password: str) -> bool:
        ok_user = hmac.compare_digest(user.encode(), self.user.encode())
        ok_pass = hmac.compare_digest(password.encode(), self.password.encode())
        return ok_user and ok_pass


class Signer:
    """HMAC-SHA256 over short strings; the key comes from AUDIT_SECRET_KEY or is random per process."""

    def __init__(self, key: bytes | None = None) -> None:
        env = os.environ.get("AUDIT_SECRET_KEY")
        self.key = key or (env.encode() if env else secrets.token_bytes(32))

    def sign(self, value: str) -> str:
        mac = hmac.new(self.key, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def make_session(self, user: str, now: float | None = None, sid: str = "") -> str:
        """``user|expiry|sid`` signed; ``sid`` names the server-side session record (ended at logout)."""
        expiry = int((now or time.time()) + SESSION_TTL_S)
        body = f"{user}|{expiry}|{sid}"
        raw = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{raw}.{self.sign(body)}"

    def read_session_id(self, cookie: str | None, now: float | None = None) -> tuple[str, str] | None:
        """``(user, sid)`` of a valid, unexpired cookie, else None."""
        if not cookie or "." not in cookie or len(cookie) > 1000:
            return None
        raw, mac = cookie.rsplit(".", 1)
        try:
            body = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(mac, self.sign(body)):
            return None
        parts = body.rsplit("|", 2)
        if len(parts) != 3:
            return None
        user, expiry, sid = parts
        if not expiry.isdigit() or int(expiry) < (now or time.time()):
            return None
        return user, sid

    def read_session(self, cookie: str | None, now: float | None = None) -> str | None:
        found = self.read_session_id(cookie, now)
        return found[0] if found else None

    def csrf_token(self, csrf_cookie: str) -> str:
        return self.sign("csrf|" + csrf_cookie)

    def check_csrf(self, csrf_cookie: str | None, token: str | None) -> bool:
        if not csrf_cookie or not token:
            return False
        return hmac.compare_digest(self.csrf_token(csrf_cookie), token)


class LoginThrottle:
    """At most ``limit`` failed logins per client in ``window_s`` (slows password guessing)."""

    def __init__(self, limit: int = 10, window_s: float = 300.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._fails: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._fails.get(client, []) if now - t < self.window_s]
            self._fails[client] = recent
            return len(recent) >= self.limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._fails.setdefault(client, []).append(time.monotonic())

    def reset(self, client: str) -> None:
        with self._lock:
            self._fails.pop(client, None)


class PageCacheMiddleware:
    """Serves a recently validated cached page (see ``PageCache.fresh``) without entering the framework or the
    database: the cheap path for the most-read views under load."""

    def __init__(self, app: ASGIApp, state: WebState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET":
            from audit.web.pages import cache_url

            url = cache_url(scope.get("path", ""), scope.get("query_string", b"").decode("latin-1"))
            body = self.state.pages.fresh(url) if url is not None else None
            if body is not None:
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class CorsMiddleware:
    """Read-only CORS for ``/api/v1/*``: GET/HEAD from the configured origins (``web.cors_origins``) may be read
    by other sites' scripts; nothing else is allowed cross-origin (no credentials, no writes)."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = {o.rstrip("/") for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        origin = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"origin"), None)
        allowed = origin is not None and origin.rstrip("/") in self.origins
        method = scope.get("method")
        if method == "OPTIONS" and allowed:  # preflight
            await send({"type": "http.response.start", "status": 204, "headers": [
                (b"access-control-allow-origin", origin.encode("latin-1")),  # type: ignore[union-attr]
                (b"access-control-allow-methods", b"GET, HEAD"),
                (b"access-control-allow-headers", b"If-None-Match"),
                (b"access-control-max-age", b"86400"), (b"vary", b"Origin"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        cors = allowed and method in ("GET", "HEAD")

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + [(b"vary", b"Origin")]
                if cors:
                    headers += [(b"access-control-allow-origin", origin.encode("latin-1")),  # type: ignore[union-attr]
                                (b"access-control-expose-headers", b"ETag")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)
