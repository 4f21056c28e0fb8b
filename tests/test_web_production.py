"""The dashboard in production: behind a reverse proxy (trusted forwarded headers only), safe under abuse (unknown
parameters, cache bounded in bytes, uploads refused before their body is read, server-side logout, HEAD, 405 with
Allow) and one Spanish error format with machine-readable codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.config import AuditConfig
from audit.store import open_store
from audit.store.db import Store
from audit.web import create_app
from audit.web.sample import build_sample_store

PASSWORD = "contraseña-producción-1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path_factory.mktemp('prod') / 'audit.db'}")
    build_sample_store(st, organizations=4, datasets=16, runs=2)
    yield st
    st.close()


def _cfg(tmp_path: Path, **web: Any) -> AuditConfig:
    return AuditConfig.model_validate({"output_dir": str(tmp_path / "salida"),
                                       "web": {"uploads_dir": str(tmp_path / "entradas"), **web}})


@pytest.fixture
def admin_app(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AUDIT_ADMIN_USER", "dgsei")
    monkeypatch.setenv("AUDIT_ADMIN_PASSWORD", PASSWORD)
    return lambda **web: create_app(_cfg(tmp_path, **web), store)


def _login(c: TestClient, **headers: str) -> str:
    token = CSRF_RE.search(c.get("/admin").text).group(1)  # type: ignore[union-attr]
    r = c.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
               headers=headers, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["set-cookie"]


# ------------------------------------------------------------------------------------------ reverse proxy

FORWARDED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "tablero.example.gob.mx", "Origin": "https://tablero.example.gob.mx"}


def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(admin_app: Any, store: Store) -> None:
    from sqlalchemy import select

    from audit.store.models import AdminLogEntry

    with TestClient(admin_app(trusted_proxies=["127.0.0.1"]), client=("127.0.0.1", 4000),
                    base_url="http://127.0.0.1:8000") as c:
        cookie = _login(c, **FORWARDED)  # Origin https://tablero… matches the forwarded scheme and host
        assert "secure" in cookie.lower()
    with store.session() as s:
        last = s.scalars(select(AdminLogEntry).order_by(AdminLogEntry.id.desc())).first()
    assert last is not None and last.client == "198.51.100.7"  # the lockout counts the real client

    # the same headers from an untrusted peer (or with no trusted proxy configured) are ignored
    for proxies, peer in (([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.5")):
        with TestClient(admin_app(trusted_proxies=proxies), client=(peer, 4000),
                        base_url="http://127.0.0.1:8000") as c:
            token = CSRF_RE.search(c.get("/admin").text).group(1)  # type: ignore[union-attr]
            r = c.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
                       headers=FORWARDED, follow_redirects=False)
            assert r.status_code == 403 and "origen distinto" in r.text


def test_lockout_counts_each_client_behind_the_proxy(admin_app: Any) -> None:
    with TestClient(admin_app(trusted_proxies=["10.0.0.0/8"]), client=("10.1.2.3", 4000)) as c:
        token = CSRF_RE.search(c.get("/admin").text).group(1)  # type: ignore[union-attr]
        bad = {"user": "x", "password": "y", "csrf_token": token}
        codes = [c.post("/admin/login", data=bad, headers={"X-Forwarded-For": "198.51.100.1"}).status_code
                 for _ in range(11)]
        assert codes[-1] == 429
        # another person behind the same proxy is not locked out
        r = c.post("/admin/login", data=bad, headers={"X-Forwarded-For": "198.51.100.2"})
        assert r.status_code == 401


def test_public_url_is_accepted_as_the_forms_origin(admin_app: Any) -> None:
    with TestClient(admin_app(public_url="https://tablero.example.gob.mx")) as c:
        _login(c, Origin="https://tablero.example.gob.mx")


def test_redirects_never_echo_the_host_header(admin_app: Any) -> None:
    with TestClient(admin_app()) as c:
        for url in ("/corridas/", "/organizaciones/secretaria-000/?run=1", "/api/v1/runs/", "//evil.example/"):
            r = c.get(url, headers={"Host": "evil.example"}, follow_redirects=False)
            location = r.headers.get("location", "")
            assert "evil.example" not in location, (url, location)
            if r.is_redirect:
                assert location.startswith("/") and not location.startswith("//")
        token = CSRF_RE.search(c.get("/admin").text).group(1)  # type: ignore[union-attr]
        r = c.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
                   headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.headers["location"] == "/admin"


def test_invalid_trusted_proxy_is_a_clear_config_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="no es una dirección IP"):
        AuditConfig.model_validate({"web": {"trusted_proxies": ["nginx"]}})


# ------------------------------------------------------------------------------------------ abuse


def test_unknown_parameters_are_dropped_from_pages_links_and_cache(store: Store, tmp_path: Path) -> None:
    app = create_app(_cfg(tmp_path, page_size=2), store)
    junk = "x" * 30_000
    with TestClient(app) as c:
        r = c.get(f"/?basura={junk}&sort=title")
        assert r.status_code == 200
        assert "basura" not in r.text and len(r.text) < 200_000
        for i in range(50):
            assert c.get(f"/organizaciones/secretaria-000?junk{i}={junk}").status_code == 200
        pages = app.state.web.pages
        assert len(pages._items) <= 3  # every junk URL shares the entry of its clean URL


def test_page_cache_is_bounded_in_bytes(store: Store, tmp_path: Path) -> None:
    app = create_app(_cfg(tmp_path, page_cache_mb=1), store)
    with TestClient(app) as c:
        for i in range(120):  # distinct valid searches: each a separate page
            assert c.get(f"/?q=s{i}{'z' * 150}").status_code == 200
        pages = app.state.web.pages
        assert pages.bytes <= 1024 * 1024
        assert pages.bytes == sum(len(item[1]) for item in pages._items.values())


def test_api_unknown_parameter_is_422_naming_it(store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(_cfg(tmp_path), store)) as c:
        r = c.get("/api/v1/datasets?estado=fail")
        assert r.status_code == 422
        body = r.json()
        assert body["error"]["code"] == "unknown_parameter" and "«estado»" in body["error"]["message"]
        assert body["detail"][0]["param"] == "estado"
        ok = c.get("/api/v1/datasets?status=fail&characteristic=accesibles&limit=1000").json()
        assert ok["total"] >= 1 and all(d["accesibles"] == "fail" for d in ok["items"])


class BodyCounter:
    """ASGI wrapper counting the request body bytes the app actually read."""

    def __init__(self, app: Any) -> None:
        self.app, self.read = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting() -> Any:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counting, send)


def test_unauthenticated_upload_is_refused_before_its_body_is_read(admin_app: Any) -> None:
    wrapped = BodyCounter(admin_app())
    with TestClient(wrapped) as c:
        big = b"organization,dataset,due_date\n" + b"a,b,2026-01-01\n" * 2_000_000  # 30 MB
        r = c.post("/admin/subir/compromisos", files={"archivo": ("c.csv", big, "text/csv")})
        assert r.status_code == 401 and "Inicie sesión" in r.text
        assert wrapped.read < 100_000


def test_logout_ends_the_session_on_the_server(admin_app: Any) -> None:
    with TestClient(admin_app()) as c:
        _login(c)
        stolen = c.cookies.get("audit_session")
        token = CSRF_RE.search(c.get("/admin").text).group(1)  # type: ignore[union-attr]
        c.post("/admin/logout", data={"csrf_token": token})
        c.cookies.set("audit_session", stolen or "", path="/")  # replay the old cookie
        assert "Contraseña" in c.get("/admin").text
        r = c.post("/admin/informes", data={"csrf_token": token})
        assert r.status_code == 401


def test_head_works_wherever_get_does_and_405_has_allow(store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(_cfg(tmp_path), store)) as c:
        for url in ("/", "/corridas", "/healthz", "/api/v1/runs", "/organizaciones/secretaria-000",
                    "/static/app.css", "/openapi.json"):
            get, head = c.get(url), c.head(url)
            assert head.status_code == get.status_code == 200, url
            assert head.content == b"" and head.headers.get("content-type") == get.headers.get("content-type")
        r = c.post("/")
        assert r.status_code == 405 and "GET" in r.headers["allow"] and "HEAD" in r.headers["allow"]
        assert "Method Not Allowed" not in r.text and "Método no permitido" in r.text
        r = c.delete("/api/v1/runs")
        assert r.status_code == 405 and "GET" in r.headers["allow"]
        assert r.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("url,status,code", [
    ("/api/v1/no-existe", 404, "not_found"),
    ("/api/v1/runs/999999", 404, "not_found"),
    ("/api/v1/runs?year=abc", 422, "invalid_parameter"),
    ("/api/v1/runs?zzz=1", 422, "unknown_parameter"),
])
def test_one_error_format_in_spanish_with_a_code(store: Store, tmp_path: Path, url: str, status: int,
                                                 code: str) -> None:
    with TestClient(create_app(_cfg(tmp_path), store)) as c:
        r = c.get(url)
        assert r.status_code == status
        body = r.json()
        assert set(body) == {"error", "detail"}
        assert body["error"]["code"] == code and body["error"]["status"] == status
        assert "Not Found" not in r.text and body["error"]["message"]
        html = c.get("/no-existe")
        assert html.status_code == 404 and "Not Found" not in html.text and "No encontrado" in html.text


# ------------------------------------------------------------------------------------------ API for other systems


def test_api_filters_match_the_ui(store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(_cfg(tmp_path), store)) as c:
        every = c.get("/api/v1/datasets?limit=1000").json()["items"]
        fails = c.get("/api/v1/datasets?status=fail&characteristic=accesibles&limit=1000").json()
        assert fails["total"] == sum(1 for d in every if d["accesibles"] == "fail") > 0
        both = c.get("/api/v1/datasets?status=fail_partial&characteristic=libre_uso&limit=1000").json()
        assert both["total"] == sum(1 for d in every if d["libre_uso"] in ("fail", "partial"))
        anywhere = c.get("/api/v1/datasets?status=fail&limit=1000").json()
        assert anywhere["total"] == sum(1 for d in every if "fail" in d.values())
        # the same numbers as the characteristic page with the same filter
        page = c.get("/caracteristicas/accesibles?status=fail").text
        assert f"no cumplen {fails['total']};" in page


def test_etag_and_cache_control_follow_the_run_and_conditional_get_answers_304(store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(_cfg(tmp_path), store)) as c:
        for url in ("/", "/organizaciones/secretaria-000", "/api/v1/organizations", "/api/v1/datasets?run=1",
                    "/corridas"):
            first = c.get(url)
            tag = first.headers["etag"]
            assert tag and "cache-control" in first.headers, url
            again = c.get(url, headers={"If-None-Match": tag})
            assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag, url
            assert c.get(url, headers={"If-None-Match": 'W/"otro"'}).status_code == 200
        assert c.get("/api/v1/datasets?run=1").headers["cache-control"] == "public, max-age=3600"  # named run
        assert c.get("/api/v1/datasets").headers["cache-control"] == "public, max-age=60"  # "the newest run"
        assert c.get("/?run=1").headers["etag"] != c.get("/?run=2").headers["etag"]
        assert "etag" not in c.get("/admin").headers
        assert c.get("/healthz").headers["cache-control"] == "no-store"
        assert c.get("/corridas").headers["cache-control"] == "no-cache"


def test_read_only_cors_for_configured_origins(store: Store, tmp_path: Path) -> None:
    app = create_app(_cfg(tmp_path, cors_origins=["https://datos.edomex.gob.mx"]), store)
    with TestClient(app) as c:
        ok = c.get("/api/v1/runs", headers={"Origin": "https://datos.edomex.gob.mx"})
        assert ok.headers["access-control-allow-origin"] == "https://datos.edomex.gob.mx"
        assert "Origin" in ok.headers["vary"]
        other = c.get("/api/v1/runs", headers={"Origin": "https://evil.invalid"})
        assert "access-control-allow-origin" not in other.headers
        pre = c.options("/api/v1/datasets", headers={"Origin": "https://datos.edomex.gob.mx",
                                                     "Access-Control-Request-Method": "GET"})
        assert pre.status_code == 204 and pre.headers["access-control-allow-methods"] == "GET, HEAD"
        assert "access-control-allow-credentials" not in pre.headers
        assert "access-control-allow-origin" not in c.get("/", headers={"Origin": "https://datos.edomex.gob.mx"}).headers
        refused = c.options("/api/v1/datasets", headers={"Origin": "https://evil.invalid",
                                                         "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in refused.headers


def test_dataset_history_across_runs_in_api_and_page(store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(_cfg(tmp_path), store)) as c:
        history = c.get("/api/v1/datasets/conjunto-00000/history").json()
        assert [h["run"] for h in history] == [1, 2]
        assert all(len(h["statuses"]) == 10 for h in history)
        page = c.get("/conjuntos/conjunto-00000").text
        table = page.split("Estado de cada característica en cada corrida", 1)[1].split("</table>", 1)[0]
        assert table.count("Corrida 1") == 1 and table.count("Corrida 2") == 1
        assert table.count('class="st st-') == 20
        assert c.get("/api/v1/datasets/no-existe/history").json()["error"]["code"] == "not_found"


# ------------------------------------------------------------------------------------------ badges


def test_badges_are_valid_escaped_cacheable_svg_with_a_link_target(store: Store, tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    app = create_app(_cfg(tmp_path, public_url="https://tablero.example.gob.mx"), store)
    with TestClient(app) as c:
        every = c.get("/api/v1/datasets?limit=1000").json()["items"]
        hostile = next(d for d in every if "<" in (d["title"] or ""))
        for url, target in ((f"/insignias/conjuntos/{hostile['dataset']}.svg", f"/conjuntos/{hostile['dataset']}"),
                            ("/insignias/organizaciones/secretaria-001.svg", "/organizaciones/secretaria-001")):
            r = c.get(url)
            assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
            assert "max-age" in r.headers["cache-control"] and r.headers["etag"]
            assert c.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
            root = ET.fromstring(r.text)  # well-formed: every portal string escaped
            assert "<script" not in r.text and "onload" not in r.text.replace("&lt;svg onload", "")
            link = root.find("{http://www.w3.org/2000/svg}a")
            assert link is not None and link.get("href") == "https://tablero.example.gob.mx" + target
        text = c.get(f"/insignias/conjuntos/{hostile['dataset']}.svg").text
        assert "calificación" in text and text.count("<rect") >= 12  # ten statuses drawn, with symbols
        assert "parcial" in c.get("/insignias/organizaciones/secretaria-000.svg").text or \
            "cumple" in c.get("/insignias/organizaciones/secretaria-000.svg").text
        missing = c.get("/insignias/conjuntos/no-existe.svg")
        assert missing.status_code == 200 and "sin evaluar" in missing.text
        assert c.get("/insignias/conjuntos/no-existe.png").status_code == 200  # never a broken <img>
    with TestClient(create_app(_cfg(tmp_path), store)) as c:  # without public_url: relative, never the Host
        r = c.get("/insignias/organizaciones/secretaria-000.svg", headers={"Host": "evil.example"})
        assert "evil.example" not in r.text and 'href="/organizaciones/secretaria-000"' in r.text


def test_dashboard_doc_shows_the_ckan_badge_snippet() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "dashboard.md").read_text(encoding="utf-8")
    assert "/insignias/conjuntos/{{ pkg.name }}.svg" in doc and "/insignias/organizaciones/" in doc


def test_an_unexpected_failure_is_a_spanish_500_not_a_traceback(store: Store, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.web import data

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("boom: secret detail")

    monkeypatch.setattr(data, "list_runs", broken)
    with TestClient(create_app(_cfg(tmp_path), store), raise_server_exceptions=False) as c:
        r = c.get("/api/v1/runs")
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
        page = c.get("/corridas")
        assert page.status_code == 500 and "error interno" in page.text
        assert "boom" not in page.text + r.text and "Traceback" not in page.text
