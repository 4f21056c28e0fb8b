"""Download a resource for content validation: streamed, capped, retried politely, SSRF-guarded.

Synchronous on purpose: downloads run inside the content worker processes, one at a time per worker, so the
politeness of the whole stage is bounded by ``content.workers``. Every hop of a redirect chain is checked with
:func:`audit.netguard.check_url_sync` before it is requested.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Collection
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from audit.config import HttpSettings
from audit.netguard import check_url_sync

log = logging.getLogger(__name__)


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
    attempt = 0
    result = Download()
    client = _client(http, allow_hosts=tuple(allow_hosts), max_redirects=max_redirects, verify_tls=verify_tls)
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


_Key = tuple[int, float, float, str, tuple[str, ...], int, bool]
_clients: dict[_Key, httpx.Client] = {}


def _client(http: HttpSettings, *, allow_hosts: tuple[str, ...], max_redirects: int, verify_tls: bool) -> httpx.Client:
    """One client per process and settings: building one loads the CA bundle (≈ 16 ms, a quarter of a typical
    file's whole check) and a kept-alive connection saves a handshake per file. The pid is part of the key so
    a forked worker never shares its parent's sockets."""
    key: _Key = (os.getpid(), http.read_timeout_s, http.connect_timeout_s, http.user_agent, allow_hosts,
                 max_redirects, verify_tls)
    client = _clients.get(key)
    if client is None:
        def guard(request: httpx.Request) -> None:
            reason = check_url_sync(str(request.url), allow_hosts=allow_hosts)
            if reason:
                raise _Refused(reason)

        for old in [k for k in _clients if k[0] != key[0]]:
            del _clients[old]  # inherited from the parent process: never used here
        client = _clients[key] = httpx.Client(
            timeout=httpx.Timeout(http.read_timeout_s, connect=http.connect_timeout_s),
            follow_redirects=True,
            max_redirects=max_redirects,
            verify=verify_tls,
            headers={"User-Agent": http.user_agent, "Accept-Encoding": "identity"},
            event_hooks={"request": [guard]},
        )
    return client


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
