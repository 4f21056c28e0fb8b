"""One HTTP policy: retry decisions, politeness, and the SSRF guard applied when each client connects.

Name resolution is controlled in-process (``socket.getaddrinfo`` is replaced for ``*.invalid`` names), and a
jail on ``socket.socket.connect`` refuses (and records) every connection outside loopback, so these tests never
leave the machine even when the guard under test is broken.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from faultserver import FaultServer

from audit.ckan import CKANClient
from audit.config import load_config
from audit.content.fetch import fetch_bytes_sync
from audit.errors import PortalUnreachable
from audit.httppolicy import HttpPolicy, allow_list, parse_retry_after

PUBLIC = "93.184.216.34"  # a global address: judged public, never actually contacted (see the jail)


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


class Network:
    """Scripted DNS answers for ``*.invalid`` names and a record of every connection attempt."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[str]] = {}  # name → one address per lookup; the last one repeats
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect

        def getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else str(host)
            if name in self.answers:
                self.lookups.append(name)
                script = self.answers[name]
                address = script.pop(0) if len(script) > 1 else script[0]
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]
            return real_getaddrinfo(host, port, *args, **kw)

        def connect(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple):
                self.connects.append((str(address[0]), int(address[1])))
                if not str(address[0]).startswith(("127.", "::1")):
                    raise ConnectionRefusedError(f"test jail: {address[0]} is outside loopback")
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Network:
    return Network(monkeypatch)


def _hits(srv: FaultServer, marker: str) -> int:
    return sum(1 for _m, path, _h in srv.requests if marker in path and not path.startswith("/redirect/"))


# ------------------------------------------------------------------------------------------ content (httpx)


def test_content_download_refuses_dns_rebinding(srv: FaultServer, net: Network) -> None:
    # public when first looked up, loopback afterwards: a client that checks one answer and connects with another
    # reaches the local server; the policy connects only to an address it judged, and judges every lookup
    net.answers["rebind.invalid"] = [PUBLIC, "127.0.0.1"]
    http = load_config(None, {"http": {"retries": 1, "backoff_base_s": 0.01}}).http
    dl = fetch_bytes_sync(f"http://rebind.invalid:{srv.port}/files/ok.csv?rebind", http=http, cap=10_000,
                          allow_hosts=[])
    assert dl.error == "blocked_loopback"
    assert _hits(srv, "rebind") == 0
    assert ("127.0.0.1", srv.port) not in net.connects  # only the judged public address was tried
    assert all(address == PUBLIC for address, _port in net.connects)


def test_content_download_refuses_redirect_to_name_resolving_to_loopback(srv: FaultServer, net: Network) -> None:
    net.answers["inside.invalid"] = ["127.0.0.1"]
    http = load_config(None, {}).http
    target = f"http://inside.invalid:{srv.port}/files/ok.csv?via-redirect"
    dl = fetch_bytes_sync(srv.url(f"/redirect/to?u={quote(target, safe='')}"), http=http, cap=10_000, allow_hosts=["127.0.0.1"])
    assert dl.error == "blocked_loopback"
    assert _hits(srv, "via-redirect") == 0


def test_content_download_connects_to_the_judged_address(srv: FaultServer, net: Network) -> None:
    # an allow-listed name that only our scripted resolver knows: success proves the connection used its answer
    net.answers["portal.invalid"] = ["127.0.0.1"]
    http = load_config(None, {}).http
    dl = fetch_bytes_sync(f"http://portal.invalid:{srv.port}/files/ok.csv?allowed", http=http, cap=10_000,
                          allow_hosts=["portal.invalid"])
    assert dl.ok and dl.data and _hits(srv, "allowed") == 1
    assert net.lookups == ["portal.invalid"]  # resolved once: no separate check lookup


def test_content_download_ignores_environment_proxies(srv: FaultServer, net: Network,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # a proxy from the environment would get its own transport, around the guarded one
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    net.answers["rebind2.invalid"] = [PUBLIC, "127.0.0.1"]
    http = load_config(None, {"http": {"retries": 1, "backoff_base_s": 0.01, "user_agent": "prueba-proxy (a@b.mx)"}}).http
    dl = fetch_bytes_sync(f"http://rebind2.invalid:{srv.port}/files/ok.csv?proxied", http=http, cap=10_000)
    assert dl.error == "blocked_loopback"
    assert ("127.0.0.1", 9) not in net.connects


def test_content_download_reports_unparseable_urls() -> None:
    http = load_config(None, {"http": {"retries": 0}}).http
    assert fetch_bytes_sync("http://[::1", http=http, cap=10).error == "malformed_url"
    assert fetch_bytes_sync("ftp://datos.example/a.csv", http=http, cap=10).error == "blocked_unsupported_scheme"


# ---------------------------------------------------------------------------------------------- prober (aiohttp)


def test_prober_resolver_judges_every_answer(net: Network) -> None:
    # aiohttp connects to what its resolver returned (and caches only that): each answer is judged there
    import asyncio

    from audit.config import HttpSettings
    from audit.httppolicy import UnsafeResolution

    net.answers["rebind3.invalid"] = [PUBLIC, "127.0.0.1"]

    async def go() -> tuple[list[str], str]:
        resolver = HttpPolicy(HttpSettings()).aiohttp_resolver()
        try:
            first = await resolver.resolve("rebind3.invalid", 80)
            with pytest.raises(UnsafeResolution) as info:
                await resolver.resolve("rebind3.invalid", 80)
            return [str(r["host"]) for r in first], info.value.error.reason
        finally:
            await resolver.close()

    assert asyncio.run(go()) == ([PUBLIC], "loopback")
    assert net.connects == []


# --------------------------------------------------------------------------------------- CKAN API (requests)


def test_ckan_client_refuses_redirect_to_loopback_name(srv: FaultServer, net: Network) -> None:
    net.answers["inside.invalid"] = ["127.0.0.1"]
    http = load_config(None, {"http": {"retries": 0}}).http
    target = f"http://inside.invalid:{srv.port}/api/3/action/status_show?ckan-redirect"
    client = CKANClient(srv.url(f"/redirect/to?u={quote(target, safe='')}&x="), http)
    with pytest.raises(PortalUnreachable) as info:
        client.call("status_show")
    assert "no pública" in info.value.message and "loopback" in info.value.message
    assert _hits(srv, "ckan-redirect") == 0


def test_ckan_client_reaches_its_own_host_through_the_policy(net: Network) -> None:
    net.answers["portal.invalid"] = ["127.0.0.1"]
    from audit.sample_portal import SamplePortal

    with SamplePortal() as portal:
        port = portal.url.rsplit(":", 1)[1]
        with CKANClient(f"http://portal.invalid:{port}", load_config(None, {}).http) as client:
            assert "ckan_version" in client.identify()
    assert net.lookups and all(address == "127.0.0.1" for address, _ in net.connects)


def test_api_byte_cap_is_the_policys(net: Network) -> None:
    from audit.errors import PortalResponseError
    from audit.sample_portal import SamplePortal

    with SamplePortal() as portal:
        http = load_config(None, {"http": {"max_response_bytes": 200}}).http
        with CKANClient(portal.url, http) as client, pytest.raises(PortalResponseError) as info:
            client.call("package_search", rows=10)
    assert "200 bytes" in info.value.message


# ------------------------------------------------------------------------------------------- pure decisions


def test_retry_after_is_capped_and_read_as_seconds_or_date() -> None:
    policy = HttpPolicy(load_config(None, {"http": {"retry_after_cap_s": 5, "backoff_base_s": 0.5}}).http)
    assert policy.retry_wait(0, "2") == 2.0
    assert policy.retry_wait(0, "3600") == 5.0
    assert policy.retry_wait(2, None) == 2.0  # 0.5 × 2²
    assert policy.retry_wait(3, "no es fecha") == 4.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert policy.retryable_status(503) and not policy.retryable_status(404) and not policy.retryable_status(None)


def test_politeness_and_allow_list_come_from_config() -> None:
    cfg = load_config(None, {"http": {"per_host_concurrency": 3, "per_host_delay_s": 0.2,
                                      "host_overrides": {"Lento.Example": {"concurrency": 1, "delay_s": 2}}},
                             "probe": {"allow_hosts": ["Interno.Example."]}})
    policy = HttpPolicy.from_config(cfg, portal_url="https://datos.example/")
    assert policy.host_limits("lento.example") == (1, 2.0)
    assert policy.host_limits("otro.example") == (3, 0.2)
    assert policy.max_per_host == 3
    assert policy.allow_hosts == allow_list(cfg, "https://datos.example/") == {"interno.example", "datos.example"}
    assert policy.precheck("ftp", "x.example") == "scheme_ftp"
    assert policy.precheck("http", "10.0.0.1") == "private"
    assert policy.precheck("http", "interno.example") is None
