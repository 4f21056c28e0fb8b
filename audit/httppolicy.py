"""One HTTP policy for every client: timeouts, retries and ``Retry-After``, byte caps, per-host politeness and the
SSRF guard, decided here and applied by each client library through its own hook.

Three libraries stay, each where it measured best (ckanapi/requests for the CKAN API, aiohttp for probing
thousands of URLs, httpx for content downloads in worker processes); what they must agree on lives in
:class:`HttpPolicy`, built once per stage from the config:

- **SSRF guard at connection time.** A name is resolved once, its addresses judged by :mod:`audit.netguard`,
  and the socket is opened to an address that was judged — never resolved again in between — so a DNS answer
  that changes between check and connect (DNS rebinding) cannot reach loopback or the internal network.
  requests/urllib3: :class:`GuardedHTTPAdapter`; httpx/httpcore: :func:`HttpPolicy.httpx_transport`;
  aiohttp: :meth:`HttpPolicy.aiohttp_resolver`. Hosts in the allow-list (the portal's own host and
  ``probe.allow_hosts``) are resolved but not judged.
- **Retries**: which statuses, how many, exponential backoff, and ``Retry-After`` (seconds or HTTP date) honoured
  up to ``http.retry_after_cap_s``.
- **Politeness**: per-host concurrency and delay, with ``http.host_overrides``.
"""

from __future__ import annotations

import functools
import logging
import random
import socket
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from audit.clock import assume_utc
from audit.netguard import (
    SUPPORTED_SCHEMES,
    UnsafeAddressError,
    check_addresses,
    check_ip_literal,
    normalize_host,
    parse_ip,
)

if TYPE_CHECKING:
    import httpx
    import requests

    from audit.config import AuditConfig, HttpSettings

log = logging.getLogger(__name__)


def allow_list(cfg: AuditConfig, portal_url: str | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """Hosts the guard does not judge: ``probe.allow_hosts``, the portal's own host, and ``extra``."""
    hosts = [*cfg.probe.allow_hosts, *extra]
    portal_host = urlsplit(portal_url or cfg.portal_url or "").hostname
    if portal_host:
        hosts.append(portal_host)
    return frozenset(normalize_host(h) for h in hosts if h)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), uncapped; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    when = assume_utc(when)  # "-0000": UTC by RFC 5322
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, eq=False)
class HttpPolicy:
    """What every HTTP client of the auditor must do; see the module docstring."""

    settings: HttpSettings
    allow_hosts: frozenset[str] = frozenset()
    verify_tls: bool = True
    max_redirects: int = 10

    @classmethod
    def from_config(cls, cfg: AuditConfig, *, portal_url: str | None = None, extra_hosts: Iterable[str] = ()) -> HttpPolicy:
        return cls(cfg.http, allow_list(cfg, portal_url, extra_hosts), cfg.probe.verify_tls, cfg.probe.max_redirects)

    @classmethod
    def for_hosts(cls, http: HttpSettings, hosts: Collection[str], *, verify_tls: bool = True,
                  max_redirects: int = 10) -> HttpPolicy:
        return cls(http, frozenset(normalize_host(h) for h in hosts if h), verify_tls, max_redirects)

    def key(self) -> tuple[object, ...]:
        """Hashable identity of what the policy decides (for clients cached per policy)."""
        return (self.settings.model_dump_json(), self.allow_hosts, self.verify_tls, self.max_redirects)

    # ------------------------------------------------------------------------------------------ SSRF guard

    def allows(self, host: str) -> bool:
        """True if ``host`` is allow-listed (its addresses are not judged)."""
        return normalize_host(host) in self.allow_hosts

    def precheck(self, scheme: str, host: str | None) -> str | None:
        """Checks that need no DNS, before a request (and each redirect hop): a reason code, or None.

        ``scheme_<x>``, ``malformed_url``, or an address class (``loopback`` …) for an unsafe IP literal.
        Names are judged when the connection is opened.
        """
        scheme = (scheme or "").lower()
        if scheme not in SUPPORTED_SCHEMES:
            return f"scheme_{scheme or 'missing'}"[:100]
        if not host:
            return "malformed_url"
        if not self.allows(host):
            try:
                check_ip_literal(host)
            except UnsafeAddressError as exc:
                return exc.reason
        return None

    def judge(self, host: str, addresses: list[str]) -> list[str]:
        """``addresses`` (what ``host`` resolved to) if they may be contacted; raise UnsafeAddressError if not."""
        if self.allows(host):
            return addresses
        return check_addresses(host, addresses)

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` (blocking) and judge the answer. ``socket.gaierror`` if it does not resolve."""
        ip = parse_ip(host)
        if ip is not None:
            return self.judge(host, [str(ip)])
        infos = socket.getaddrinfo(normalize_host(host), port, type=socket.SOCK_STREAM)
        return self.judge(host, list(dict.fromkeys(str(info[4][0]) for info in infos)))

    def connect(self, host: str, port: int, timeout: float | None,
                source_address: tuple[str, int] | None = None,
                socket_options: Iterable[tuple[Any, ...]] | None = None) -> socket.socket:
        """A TCP socket to ``host``, opened to an address that was judged (never re-resolved); every address is
        tried in order, like ``socket.create_connection``."""
        last: OSError | None = None
        for address in self.resolve(host, port):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if timeout is not None:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect((address, port))
                return sock
            except OSError as exc:
                sock.close()
                last = exc
        raise last or OSError(f"no address for {host}")

    # ------------------------------------------------------------------------------------------- retries

    @property
    def retries(self) -> int:
        return self.settings.retries

    def retryable_status(self, status: int | None) -> bool:
        return status is not None and status in self.settings.retry_statuses

    def backoff(self, attempt: int, *, jitter: bool = False) -> float:
        """Exponential backoff before retry ``attempt`` (0-based), capped like ``Retry-After``."""
        wait = self.settings.backoff_base_s * (2**attempt)
        if jitter:
            wait *= random.uniform(0.75, 1.25)
        return float(min(wait, self.settings.retry_after_cap_s))

    def retry_after(self, value: str | None) -> float | None:
        """A server's ``Retry-After``, capped at ``http.retry_after_cap_s``; None if it sent none."""
        wait = parse_retry_after(value)
        if wait is None:
            return None
        if wait > self.settings.retry_after_cap_s:
            log.warning("Retry-After=%.0fs exceeds cap; waiting %.0fs", wait, self.settings.retry_after_cap_s)
        return min(wait, self.settings.retry_after_cap_s)

    def retry_wait(self, attempt: int, retry_after: str | None = None, *, jitter: bool = False) -> float:
        """How long to wait before retry ``attempt``: the capped ``Retry-After`` if sent, else the backoff."""
        wait = self.retry_after(retry_after)
        return self.backoff(attempt, jitter=jitter) if wait is None else wait

    def urllib3_retry(self) -> Retry:
        """The same retry rules as urllib3 sees them (for requests, used by the CKAN client)."""
        s = self.settings
        retry = CappedRetry(
            total=s.retries, connect=s.retries, read=s.retries, status=s.retries,
            status_forcelist=s.retry_statuses,
            backoff_factor=s.backoff_base_s,
            backoff_max=s.retry_after_cap_s,
            respect_retry_after_header=True,
            allowed_methods=None,  # CKAN read actions are idempotent; writes are retried by callers deliberately
            raise_on_status=False,
        )
        retry.policy = self
        return retry

    # -------------------------------------------------------------------------------- timeouts and caps

    @property
    def timeouts(self) -> Timeouts:
        """Seconds allowed to connect, between two reads, and for a whole request (each client maps them)."""
        s = self.settings
        return Timeouts(s.connect_timeout_s, s.read_timeout_s, s.total_timeout_s)

    def read_capped(self, response: requests.Response, cap: int | None = None) -> bytes:
        """The body of a streamed requests response; :class:`ResponseTooLarge` past ``cap`` bytes (default
        ``http.max_response_bytes``, the API/catalogue cap). Downloads that keep a truncated prefix instead (probe,
        content) cap their own loops with ``probe.sniff_bytes`` / ``probe.download_cap_bytes``."""
        limit = self.settings.max_response_bytes if cap is None else cap
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_content(64 * 1024):
            total += len(chunk)
            if total > limit:
                response.close()
                raise ResponseTooLarge(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    # ---------------------------------------------------------------------------------------- politeness

    def host_limits(self, host: str) -> tuple[int, float]:
        """(requests in flight, seconds between request starts) for ``host``, with ``http.host_overrides``."""
        s = self.settings
        override = next((o for h, o in s.host_overrides.items() if normalize_host(h) == normalize_host(host)), None)
        limit = (override.concurrency if override else None) or s.per_host_concurrency
        delay = override.delay_s if override and override.delay_s is not None else s.per_host_delay_s
        return limit, delay

    @property
    def max_per_host(self) -> int:
        return max([self.settings.per_host_concurrency,
                    *(o.concurrency or 0 for o in self.settings.host_overrides.values())])

    # ----------------------------------------------------------------------------------- library adapters

    def aiohttp_resolver(self) -> Any:
        """An aiohttp resolver that judges every answer when aiohttp connects (every hop, every new connection).

        aiohttp skips the resolver for IP literals: callers also apply :meth:`precheck` to each hop.
        """
        from aiohttp.abc import AbstractResolver, ResolveResult
        from aiohttp.resolver import ThreadedResolver

        policy = self

        class GuardedResolver(AbstractResolver):
            def __init__(self) -> None:
                self._inner = ThreadedResolver()

            async def resolve(
                self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
            ) -> list[ResolveResult]:
                results = await self._inner.resolve(host, port, family)
                try:
                    policy.judge(host, [str(r["host"]) for r in results])
                except UnsafeAddressError as exc:
                    # an OSError subclass is what aiohttp expects from a resolver; the prober unwraps it
                    raise UnsafeResolution(exc) from exc
                return results

            async def close(self) -> None:
                await self._inner.close()

        return GuardedResolver()

    def httpx_transport(self) -> httpx.HTTPTransport:
        """An httpx transport whose connections are opened by :meth:`connect` (judged address, no re-resolution).

        Give it to an ``httpx.Client(trust_env=False)``: proxies from the environment would get transports of
        their own, around this one (the prober, on aiohttp, ignores them too)."""
        import httpcore
        import httpx

        transport = httpx.HTTPTransport(verify=self.verify_tls)  # trust_env: SSL_CERT_FILE/DIR, as before
        pool = transport._pool
        if not isinstance(pool, httpcore.ConnectionPool):  # pragma: no cover - only without a proxy, as here
            raise TypeError(f"unexpected httpx pool {type(pool).__name__}")
        pool._network_backend = _guarded_backend_class()(self)
        return transport


class Timeouts(NamedTuple):
    connect: float
    read: float
    total: float


class ResponseTooLarge(Exception):
    """A response went past its byte cap (``limit``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class UnsafeResolution(OSError):
    """Raised inside aiohttp's resolver; carries the :class:`UnsafeAddressError`."""

    def __init__(self, error: UnsafeAddressError) -> None:
        super().__init__(str(error))
        self.error = error


class CappedRetry(Retry):
    """urllib3 Retry whose honoured ``Retry-After`` is the policy's (capped)."""

    policy: HttpPolicy | None = None

    def new(self, **kw: Any) -> CappedRetry:
        new = super().new(**kw)
        new.policy = self.policy
        return new  # type: ignore[return-value]

    def get_retry_after(self, response):  # type: ignore[no-untyped-def]
        if self.policy is None:  # pragma: no cover - always set by HttpPolicy.urllib3_retry
            return super().get_retry_after(response)
        return self.policy.retry_after(response.headers.get("Retry-After"))


# ------------------------------------------------------------------------------------------------ httpcore


@functools.cache
def _guarded_backend_class() -> type:
    """httpcore's sync network backend, connecting through :meth:`HttpPolicy.connect` (built on first use:
    importing httpcore is the content stage's cost, not the crawl's)."""
    import httpcore
    from httpcore._backends.sync import SyncStream

    class GuardedSyncBackend(httpcore.SyncBackend):
        def __init__(self, policy: HttpPolicy) -> None:
            self.policy = policy

        def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                        socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
            source = None if local_address is None else (local_address, 0)
            try:
                sock = self.policy.connect(host, port, timeout, source, socket_options)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(str(exc)) from exc
            except UnsafeAddressError:
                raise
            except OSError as exc:  # gaierror included: "Name or service not known" tells a DNS error
                raise httpcore.ConnectError(str(exc)) from exc
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return SyncStream(sock)

    return GuardedSyncBackend


# -------------------------------------------------------------------------------------------- urllib3


def _guarded_connection(base: type[HTTPConnection], policy: HttpPolicy) -> type[HTTPConnection]:
    class Guarded(base):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            # urllib3's "default" timeout is a sentinel, not a number: the socket default (None) then
            timeout = self.timeout if isinstance(self.timeout, int | float) else None
            try:
                sock = policy.connect(self._dns_host, self.port, timeout, self.source_address, self.socket_options)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
            except UnsafeAddressError:
                raise
            except OSError as exc:
                raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
            return sock

    return Guarded


class GuardedHTTPAdapter(HTTPAdapter):
    """A requests adapter with the policy's retries, whose connections go through :meth:`HttpPolicy.connect`.

    An :class:`UnsafeAddressError` is not an urllib3 error: it is never retried and reaches the caller as is.
    """

    def __init__(self, policy: HttpPolicy, **kw: Any) -> None:
        self.policy = policy
        super().__init__(max_retries=policy.urllib3_retry(), **kw)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,),
                         {"ConnectionCls": _guarded_connection(HTTPConnection, self.policy)})
        https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,),
                          {"ConnectionCls": _guarded_connection(HTTPSConnection, self.policy)})
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
