"""Running behind a reverse proxy (nginx terminating TLS).

The proxy's ``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` are believed only when the TCP
peer is one of ``web.trusted_proxies``; otherwise they are ignored (anyone could send them). When believed, the
request's scheme, client address and Host are rewritten before the app sees them, so ``Secure`` cookies, the
Origin check of the admin forms and the login lockout (per client address) are right.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HOST_RE = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$")


def parse_networks(items: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(i, strict=False) for i in items]


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in n for n in networks)


def _last(value: str) -> str:
    return value.split(",")[-1].strip()


class ForwardedHeadersMiddleware:
    def __init__(self, app: ASGIApp, trusted: Sequence[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    def client_from(self, forwarded_for: str, peer: str) -> str:
        """The rightmost address that is not one of our proxies (clients can prepend anything)."""
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not _trusted(hop, self.networks):
                return hop[:100]
        return hops[0][:100] if hops else peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = (scope.get("client") or ("", 0))[0]
        if scope["type"] != "http" or not self.networks or not _trusted(peer, self.networks):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        scope = dict(scope)
        proto = _last(headers.get("x-forwarded-proto", "")).lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto
        if headers.get("x-forwarded-for"):
            scope["client"] = (self.client_from(headers["x-forwarded-for"], peer), 0)
        host = _last(headers.get("x-forwarded-host", ""))
        if host and HOST_RE.match(host):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"host"] + [
                (b"host", host.encode("latin-1"))]
        await self.app(scope, receive, send)
