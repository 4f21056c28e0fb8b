"""The prober against a real local fault server: every outcome, politeness, caps, the SSRF guard."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faultserver import CSV_UTF8, FaultServer

from audit.config import AuditConfig
from audit.evidence import ProbeEvidence
from audit.probe import Prober, ProbeRequest, fetch_bytes, probe_urls, with_previous


def make_cfg(**http: Any) -> AuditConfig:
    probe = http.pop("probe", {})
    base = {
        "retries": 1,
        "backoff_base_s": 0.01,
        "connect_timeout_s": 2,
        "read_timeout_s": 2,
        "total_timeout_s": 5,
        "retry_after_cap_s": 0.2,
    }
    base.update(http)
    return AuditConfig.model_validate({"http": base, "probe": {"allow_hosts": ["127.0.0.1"], **probe}})


CFG = make_cfg()


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def probe(url: str | None, cfg: AuditConfig = CFG, **req: Any) -> ProbeEvidence:
    async def go() -> ProbeEvidence:
        async with Prober(cfg) as prober:
            return await prober.probe(ProbeRequest(url, **req))

    return asyncio.run(go())


def hits(srv: FaultServer, path_prefix: str) -> list[tuple[str, str, dict[str, str]]]:
    return [r for r in srv.requests if r[1].startswith(path_prefix)]


# ------------------------------------------------------------------------------------------------- outcomes


def test_probe_ok_csv_records_type_encoding_hash_and_headers(srv: FaultServer) -> None:
    ev = probe(srv.url("/files/ok.csv"), declared_format="CSV")
    assert ev.outcome == "ok" and ev.reason == "http_200" and ev.status_code == 200
    assert ev.sniffed_type == "csv" and ev.encoding == "utf-8"
    assert ev.sha256 == hashlib.sha256(CSV_UTF8).hexdigest()
    assert ev.bytes_read == len(CSV_UTF8) and not ev.truncated
    assert ev.content_type == "text/csv; charset=utf-8" and ev.content_length == len(CSV_UTF8)
    assert ev.elapsed_ms is not None and ev.elapsed_ms > 0


def test_probe_sends_user_agent_range_and_no_cookies_and_never_head(srv: FaultServer) -> None:
    probe(srv.url("/files/ok.csv?ua"))
    method, _, headers = hits(srv, "/files/ok.csv?ua")[-1]
    assert method == "GET"
    assert "edomex" in headers["User-Agent"] and "@" in headers["User-Agent"]
    assert headers["Range"] == f"bytes=0-{CFG.probe.sniff_bytes - 1}"
    assert "Cookie" not in headers and "Authorization" not in headers


def test_probe_never_sends_back_cookies(srv: FaultServer) -> None:
    # A host name (aiohttp's default jar would silently ignore cookies set by an IP address).
    cfg = make_cfg(probe={"allow_hosts": ["localhost"]})
    assert probe(f"http://localhost:{srv.port}/setcookie", cfg).outcome == "ok"
    assert "Cookie" not in hits(srv, "/files/ok.csv?after-cookie")[-1][2]


def test_probe_head_hostile_server_is_ok(srv: FaultServer) -> None:
    # The server answers 405 to HEAD (see faultserver); the prober only uses GET.
    assert probe(srv.url("/files/ok.csv?head")).outcome == "ok"
    assert all(m == "GET" for m, _, _ in hits(srv, "/files/ok.csv?head"))


def test_probe_latin1_csv_encoding(srv: FaultServer) -> None:
    ev = probe(srv.url("/files/latin1.csv"))
    assert (ev.outcome, ev.sniffed_type, ev.encoding) == ("ok", "csv", "iso-8859-1")
    assert "delimitador=;" in (ev.sniffed_detail or "")


@pytest.mark.parametrize(
    ("path", "declared", "sniffed"),
    [
        ("/files/report.csv", "CSV", "pdf"),  # PDF declared as CSV
        ("/files/tabla.xlsx", "XLSX", "csv"),  # CSV declared as XLSX
        ("/files/descarga", "XLSX", "xlsx"),  # XLSX without extension
        ("/files/hoja.ods", "ODS", "ods"),
        ("/files/shapes.zip", "SHP", "shapefile-zip"),
        ("/files/mapa.geojson", "GeoJSON", "geojson"),
        ("/files/capa.kml", "KML", "kml"),
        ("/files/catalogo.rdf", "RDF", "rdf"),
        ("/files/data.json", "JSON", "json"),
    ],
)
def test_probe_sniffs_real_type_not_declared(srv: FaultServer, path: str, declared: str, sniffed: str) -> None:
    ev = probe(srv.url(path), declared_format=declared)
    assert ev.outcome == "ok"
    assert ev.sniffed_type == sniffed


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (404, "not_found"),
        (410, "not_found"),
        (401, "auth_required"),
        (403, "client_error"),  # a bare 403: no login form, WWW-Authenticate or sign-up redirect
        (402, "payment_required"),
        (400, "client_error"),
        (500, "server_error"),
        (503, "server_error"),
    ],
)
def test_probe_maps_status_codes(srv: FaultServer, code: int, outcome: str) -> None:
    ev = probe(srv.url(f"/status/{code}"))
    assert (ev.outcome, ev.reason, ev.status_code) == (outcome, f"http_{code}", code)


def test_probe_retries_server_errors_then_gives_up(srv: FaultServer) -> None:
    before = len(hits(srv, "/status/502"))
    ev = probe(srv.url("/status/502"), make_cfg(retries=2))
    assert ev.outcome == "server_error"
    assert len(hits(srv, "/status/502")) - before == 3


def test_probe_empty_file(srv: FaultServer) -> None:
    assert probe(srv.url("/files/vacio.csv")).outcome == "empty"


def test_probe_empty_file_behind_range_416_is_empty(srv: FaultServer) -> None:
    ev = probe(srv.url("/files-range/vacio.csv"))
    assert (ev.outcome, ev.reason) == ("empty", "zero_bytes")


def test_probe_login_form_is_auth_required(srv: FaultServer) -> None:
    ev = probe(srv.url("/login/form"), declared_format="CSV")
    assert (ev.outcome, ev.reason) == ("auth_required", "login_page")


def test_probe_redirect_to_login_is_auth_required(srv: FaultServer) -> None:
    ev = probe(srv.url("/cuenta/datos.csv"), declared_format="CSV")
    assert (ev.outcome, ev.reason) == ("auth_required", "login_redirect")
    assert ev.redirects and "/cuenta/login" in ev.redirects[-1]


def test_probe_redirect_to_login_word_url_serving_data_is_ok(srv: FaultServer) -> None:
    # "registro" is a login word, but Registro Civil publishes real CSV files under such paths.
    ev = probe(srv.url("/redirect/to?u=/files/ok.csv%3Fregistro-civil"), declared_format="CSV")
    assert (ev.outcome, ev.sniffed_type) == ("ok", "csv")


def test_probe_payment_page_is_payment_required(srv: FaultServer) -> None:
    assert probe(srv.url("/pago"), declared_format="CSV").outcome == "payment_required"


def test_probe_landing_page_where_data_was_declared(srv: FaultServer) -> None:
    ev = probe(srv.url("/landing"), declared_format="CSV")
    assert (ev.outcome, ev.sniffed_type) == ("landing_page", "html")
    # "pago de derechos" in the body of an ordinary page is not a payment wall
    assert probe(srv.url("/landing"), declared_format="HTML").outcome == "ok"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://datos.example/a.csv", "scheme_ftp"),
        ("file:///etc/passwd", "scheme_file"),
        ("mailto:datos@example.org", "scheme_mailto"),
        ("", "missing_url"),
        (None, "missing_url"),
        ("datos.csv", "scheme_missing"),
        ("http://", "malformed_url"),
    ],
)
def test_probe_unsupported_or_malformed_urls(url: str | None, reason: str) -> None:
    ev = probe(url)
    assert (ev.outcome, ev.reason) == ("unsupported_scheme", reason)


def test_probe_dns_error_for_invalid_host() -> None:
    assert probe("http://no-existe.invalid/datos.csv").outcome == "dns_error"


def test_probe_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ev = probe(f"http://127.0.0.1:{port}/x.csv")
    assert (ev.outcome, ev.reason) == ("connection_error", "connection_refused")


def test_probe_connection_dropped(srv: FaultServer) -> None:
    assert probe(srv.url("/drop")).outcome == "connection_error"


def test_probe_unbounded_header_is_refused(srv: FaultServer) -> None:
    ev = probe(srv.url("/huge-header"))
    assert (ev.outcome, ev.reason) == ("connection_error", "invalid_http_response")


@pytest.fixture(scope="module")
def tls_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultServer]:
    d: Path = tmp_path_factory.mktemp("tls")
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-keyout", str(d / "k.pem"), "-out", str(d / "c.pem")],
            check=True, capture_output=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"openssl unavailable: {exc}")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(d / "c.pem", d / "k.pem")
    with FaultServer(ssl_context=ctx) as server:
        yield server


def test_probe_self_signed_certificate_is_tls_error(tls_srv: FaultServer) -> None:
    ev = probe(tls_srv.url("/files/ok.csv"))
    assert (ev.outcome, ev.reason) == ("tls_error", "tls_certificate")
    relaxed = make_cfg(probe={"verify_tls": False})
    assert probe(tls_srv.url("/files/ok.csv"), relaxed).outcome == "ok"


# ------------------------------------------------------------------------------------ redirects and guard


def test_probe_follows_redirect_chain_and_records_it(srv: FaultServer) -> None:
    ev = probe(srv.url("/redirect/chain/3"))
    assert ev.outcome == "ok" and ev.sniffed_type == "csv"
    assert len(ev.redirects) == 4 and ev.final_url == srv.url("/files/ok.csv")


def test_probe_detects_redirect_loop(srv: FaultServer) -> None:
    ev = probe(srv.url("/redirect/loop"))
    assert (ev.outcome, ev.reason) == ("server_error", "redirect_loop")
    assert len(hits(srv, "/redirect/loop")) <= 4


def test_probe_stops_after_max_redirects(srv: FaultServer) -> None:
    ev = probe(srv.url("/redirect/chain/50"))
    assert (ev.outcome, ev.reason) == ("server_error", "too_many_redirects")
    assert len(ev.redirects) == CFG.probe.max_redirects + 1


def test_probe_redirect_without_location(srv: FaultServer) -> None:
    assert probe(srv.url("/redirect/nolocation")).reason == "redirect_without_location"


def test_probe_redirect_to_ftp_is_unsupported(srv: FaultServer) -> None:
    ev = probe(srv.url("/redirect/to?u=ftp://datos.example/a.csv"))
    assert (ev.outcome, ev.reason) == ("unsupported_scheme", "scheme_ftp")


def test_probe_blocks_loopback_not_allowlisted(srv: FaultServer) -> None:
    before = len(srv.requests)
    ev = probe(srv.url("/files/ok.csv"), make_cfg(probe={"allow_hosts": []}))
    assert (ev.outcome, ev.reason) == ("blocked_unsafe", "unsafe_loopback")
    assert len(srv.requests) == before  # refused before connecting


def test_probe_blocks_redirect_from_allowed_host_to_loopback_ip(srv: FaultServer) -> None:
    target = f"http://127.0.0.2:{srv.port}/files/ok.csv"
    ev = probe(srv.url(f"/redirect/to?u={target}"))
    assert (ev.outcome, ev.reason) == ("blocked_unsafe", "unsafe_loopback")
    assert ev.redirects == (target,)


def test_probe_blocks_redirect_to_name_resolving_to_loopback(srv: FaultServer) -> None:
    # "localhost" is not allowlisted: the guarded resolver refuses its loopback answer at connection time.
    target = f"http://localhost:{srv.port}/files/ok.csv?via-name"
    ev = probe(srv.url(f"/redirect/to?u={target}"))
    assert (ev.outcome, ev.reason) == ("blocked_unsafe", "unsafe_loopback")
    assert not hits(srv, "/files/ok.csv?via-name")


def test_probe_blocks_ipv4_mapped_loopback() -> None:
    ev = probe("http://[::ffff:127.0.0.1]:9/x.csv")
    assert ev.outcome == "blocked_unsafe"


# ------------------------------------------------------------------------------------ caps and timeouts


def test_probe_stops_at_cap_when_server_ignores_range(srv: FaultServer) -> None:
    cfg = make_cfg(probe={"sniff_bytes": 64 * 1024})
    ev = probe(srv.url("/files/big.csv"), cfg)
    assert ev.outcome == "ok" and ev.truncated
    assert ev.bytes_read == 64 * 1024
    assert ev.sniffed_type == "csv"


def test_probe_range_aware_server_reports_full_size(srv: FaultServer) -> None:
    cfg = make_cfg(probe={"sniff_bytes": 1000})
    ev = probe(srv.url("/files-range/big.csv"), cfg)
    assert ev.status_code == 206 and ev.bytes_read == 1000 and ev.truncated
    assert ev.content_length == len(srv.files["big.csv"][0])


def test_probe_gzip_bomb_is_capped(srv: FaultServer) -> None:
    ev = probe(srv.url("/gzip-bomb"))
    assert ev.bytes_read <= CFG.probe.sniff_bytes
    assert ev.truncated


def test_probe_zip_bomb_file_is_sniffed_without_inflating(srv: FaultServer) -> None:
    cfg = make_cfg(probe={"sniff_bytes": 50 * 1024 * 1024})
    ev = probe(srv.url("/files/zip-bomb.zip"), cfg)
    assert ev.outcome == "ok" and ev.sniffed_type == "zip" and "csv" in (ev.sniffed_detail or "")


def test_probe_xml_bomb_is_not_expanded(srv: FaultServer) -> None:
    ev = probe(srv.url("/files/bomba.xml"))
    assert ev.sniffed_type == "xml" and "rechazado" in (ev.sniffed_detail or "")


def test_probe_slow_drip_hits_total_timeout(srv: FaultServer) -> None:
    cfg = make_cfg(total_timeout_s=1.0, read_timeout_s=5)
    started = time.monotonic()
    ev = probe(srv.url("/slow-drip"), cfg)
    assert ev.outcome == "timeout"
    assert time.monotonic() - started < 3


def test_probe_silent_server_hits_read_timeout(srv: FaultServer) -> None:
    ev = probe(srv.url("/slow-headers"), make_cfg(read_timeout_s=0.3, retries=0))
    assert (ev.outcome, ev.reason) == ("timeout", "read_timeout")


def test_probe_429_storm_honours_retry_after_up_to_cap(srv: FaultServer) -> None:
    cfg = make_cfg(retries=3, retry_after_cap_s=0.2)
    started = time.monotonic()
    ev = probe(srv.url("/retry/3/storm-a?after=30"), cfg)
    elapsed = time.monotonic() - started
    assert ev.outcome == "ok"
    assert len(hits(srv, "/retry/3/storm-a")) == 4
    assert 0.55 <= elapsed < 5  # three waits of min(30, cap=0.2)


def test_probe_429_storm_exhausting_retries_is_client_error(srv: FaultServer) -> None:
    ev = probe(srv.url("/retry/10/storm-b?after=0"), make_cfg(retries=2))
    assert (ev.outcome, ev.reason) == ("client_error", "http_429")
    assert len(hits(srv, "/retry/10/storm-b")) == 3


# ------------------------------------------------------------------------------------ conditional requests


def test_probe_conditional_request_carries_previous_evidence(srv: FaultServer) -> None:
    first = probe(srv.url("/etag.csv"))
    assert first.etag == '"v1"' and first.last_modified is not None
    req = with_previous(ProbeRequest(srv.url("/etag.csv")), first)

    async def go() -> ProbeEvidence:
        async with Prober(CFG) as prober:
            return await prober.probe(req)

    second = asyncio.run(go())
    assert (second.outcome, second.reason, second.not_modified) == ("ok", "not_modified", True)
    assert second.sha256 == first.sha256 and second.sniffed_type == "csv"
    assert hits(srv, "/etag.csv")[-1][2]["If-None-Match"] == '"v1"'
    assert "If-Modified-Since" in hits(srv, "/etag.csv")[-1][2]


# ------------------------------------------------------------------------------------ politeness


def run_many(cfg: AuditConfig, urls: list[str]) -> list[ProbeEvidence]:
    async def go() -> list[ProbeEvidence]:
        return [ev async for _, ev in probe_urls([ProbeRequest(u, key=i) for i, u in enumerate(urls)], cfg)]

    return asyncio.run(go())


def test_probe_urls_never_exceeds_per_host_concurrency() -> None:
    with FaultServer() as server:
        cfg = make_cfg(per_host_concurrency=4, concurrency=50)
        results = run_many(cfg, [server.url(f"/latency?ms=40&i={i}") for i in range(40)])
        assert len(results) == 40 and all(ev.outcome == "ok" for ev in results)
        assert server.max_in_flight["/latency"] == 4


def test_probe_urls_honours_host_override_and_delay() -> None:
    with FaultServer() as server:
        cfg = make_cfg(host_overrides={"127.0.0.1": {"concurrency": 2, "delay_s": 0.05}})
        started = time.monotonic()
        results = run_many(cfg, [server.url(f"/latency?ms=1&i={i}") for i in range(6)])
        assert all(ev.outcome == "ok" for ev in results)
        assert server.max_in_flight["/latency"] <= 2
        assert time.monotonic() - started >= 0.25  # five gaps of 50 ms between request starts


def test_probe_urls_spreads_over_hosts_without_head_of_line_blocking() -> None:
    with FaultServer("127.0.0.2") as a, FaultServer("127.0.0.3") as b:
        cfg = make_cfg(per_host_concurrency=2, concurrency=10, probe={"allow_hosts": ["127.0.0.2", "127.0.0.3"]})
        urls = [a.url(f"/latency?ms=50&i={i}") for i in range(8)] + [b.url(f"/latency?ms=50&i={i}") for i in range(8)]
        started = time.monotonic()
        results = run_many(cfg, urls)
        elapsed = time.monotonic() - started
        assert all(ev.outcome == "ok" for ev in results)
        assert a.max_in_flight["/latency"] == 2 and b.max_in_flight["/latency"] == 2
        assert elapsed < 0.2 * 2.5  # both hosts in parallel: ~4 rounds of 50 ms, not 8


def test_probe_urls_yields_every_request_once(srv: FaultServer) -> None:
    urls = [srv.url("/files/ok.csv"), "ftp://x/y", None, srv.url("/status/404"), "http://no-existe.invalid/a"]

    async def go() -> list[tuple[ProbeRequest, ProbeEvidence]]:
        reqs = [ProbeRequest(u, key=i) for i, u in enumerate(urls)]
        return [item async for item in probe_urls(reqs, CFG)]

    got = {req.key: ev.outcome for req, ev in asyncio.run(go())}
    assert got == {0: "ok", 1: "unsupported_scheme", 2: "unsupported_scheme", 3: "not_found", 4: "dns_error"}


def test_fetch_bytes_returns_whole_file_up_to_cap(srv: FaultServer) -> None:
    data, ev = asyncio.run(fetch_bytes(srv.url("/files/ok.csv"), CFG))
    assert data == CSV_UTF8 and ev.outcome == "ok"
    data, ev = asyncio.run(fetch_bytes(srv.url("/files/big.csv"), CFG, cap=10_000))
    assert len(data) == 10_000 and ev.truncated
    data, ev = asyncio.run(fetch_bytes(srv.url("/files-range/big.csv"), CFG, cap=10_000))
    assert len(data) == 10_000 and ev.truncated and ev.status_code == 206
    data, ev = asyncio.run(fetch_bytes(srv.url("/files-range/ok.csv"), CFG))
    assert data == CSV_UTF8 and not ev.truncated
    data, ev = asyncio.run(fetch_bytes(srv.url("/status/404"), CFG))
    assert data == b"" and ev.outcome == "not_found"
