"""Download a resource for content validation: streamed, capped, retried politely, SSRF-guarded.

Synchronous on purpose: downloads run inside the content worker processes, one at a time per worker, so the
politeness of the whole stage is bounded by ``content.workers``. Every hop of a redirect chain is checked with
:func:`audit.netguard.check_url_sync` before it is requested.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from audit.config import HttpSettings

log = logging.getLogger(__name__)

try:  # the prober's guard (shared policy); a local fallback keeps this module usable alone
    from audit.netguard import check_url_sync
except ImportError:  # pragma: no cover - only while the prober is being built
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    def check_url_sync(url: str, *, allow_hosts: Collection[str]) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "unsupported_scheme"
        if parts.hostname.lower() in {h.lower() for h in allow_hosts}:
            return None
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 80)
        except OSError:
            return None
        for info in infos:
            ip = ipaddress.ip_address(info[4][0])
            if not ip.is_global:
                return "private"
        return None


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Download:
    data: bytes = b""
    status_code: int | None = None
    final_url: str | None = None
    truncated: bool = False
    error: str | None = None  # reason code: blocked_<reason>, timeout, connection_error, http_<code>, too_slow
    sha256: str | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _retry_after(value: str | None, cap: float) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(float(value), cap))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, min(when.timestamp() - time.time(), cap))
    except (TypeError, ValueError, OverflowError):
        return None


def fetch_bytes_sync(
    url: str,
    *,
    http: HttpSettings,
    cap: int,
    allow_hosts: Collection[str] = (),
    max_redirects: int = 10,
    verify_tls: bool = True,
) -> Download:
    """GET ``url`` and return at most ``cap`` bytes. Never raises for network problems: see ``Download.error``."""
    started = time.monotonic()
    timeout = httpx.Timeout(http.read_timeout_s, connect=http.connect_timeout_s)

    def guard(request: httpx.Request) -> None:
        reason = check_url_sync(str(request.url), allow_hosts=allow_hosts)
        if reason:
            raise _Refused(reason)

    attempt = 0
    result = Download()
    with httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=max_redirects,
        verify=verify_tls,
        headers={"User-Agent": http.user_agent, "Accept-Encoding": "identity"},
        event_hooks={"request": [guard]},
    ) as client:
        while True:
            result = _fetch_once(client, url, cap=cap, deadline=started + http.total_timeout_s)
            retryable = result.error in ("timeout", "connection_error") or (
                result.status_code is not None and result.status_code in http.retry_statuses
            )
            if not retryable or attempt >= http.retries:
                break
            wait = _retry_after(getattr(result, "_retry_after", None), http.retry_after_cap_s)
            if wait is None:
                wait = http.backoff_base_s * (2**attempt)
            if time.monotonic() + wait > started + http.total_timeout_s:
                break
            attempt += 1
            log.debug("content fetch retry url=%s attempt=%d wait=%.2f", url, attempt, wait)
            time.sleep(wait)
    result.elapsed_ms = (time.monotonic() - started) * 1000
    return result


def _fetch_once(client: httpx.Client, url: str, *, cap: int, deadline: float) -> Download:
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    try:
        with client.stream("GET", url) as resp:
            dl = Download(status_code=resp.status_code, final_url=str(resp.url))
            if resp.status_code >= 400:
                dl.error = f"http_{resp.status_code}"
                dl._retry_after = resp.headers.get("Retry-After")  # type: ignore[attr-defined]
                return dl
            for chunk in resp.iter_raw():
                if size + len(chunk) > cap:
                    chunk = chunk[: cap - size]
                    dl.truncated = True
                chunks.append(chunk)
                digest.update(chunk)
                size += len(chunk)
                if dl.truncated:
                    break
                if time.monotonic() > deadline:
                    dl.error = "too_slow"
                    break
    except _Refused as exc:
        return Download(error=f"blocked_{exc.reason}", final_url=url)
    except httpx.TimeoutException:
        return Download(error="timeout", final_url=url)
    except httpx.TooManyRedirects:
        return Download(error="redirect_loop", final_url=url)
    except httpx.ConnectError as exc:
        return Download(error="dns_error" if "Name or service" in str(exc) else "connection_error", final_url=url)
    except (httpx.HTTPError, OSError):
        return Download(error="connection_error", final_url=url)
    dl.data = b"".join(chunks)
    dl.sha256 = digest.hexdigest()
    return dl
