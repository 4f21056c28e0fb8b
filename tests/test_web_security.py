"""Dashboard security: headers, escaping of hostile portal metadata, admin authentication, CSRF, uploads
that are validated completely before being applied, and the admin audit log."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from audit.config import AuditConfig
from audit.store import open_store
from audit.store.db import Store
from audit.store.models import AdminLogEntry
from audit.web import create_app
from audit.web.jobs import JobRunner
from audit.web.sample import build_sample_store
from audit.web.security import Signer

PASSWORD = "c0ntraseña-de-prueba"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path_factory.mktemp('websec') / 'audit.db'}")
    build_sample_store(st, organizations=4, datasets=12, runs=2)
    yield st
    st.close()


@pytest.fixture
def cfg(tmp_path: Path) -> AuditConfig:
    return AuditConfig.model_validate({"web": {"uploads_dir": str(tmp_path / "entradas")},
                                       "output_dir": str(tmp_path / "salida")})


@pytest.fixture
def public(store: Store, cfg: AuditConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("AUDIT_ADMIN_PASSWORD", raising=False)
    with TestClient(create_app(cfg, store)) as c:
        yield c


@pytest.fixture
def admin(store: Store, cfg: AuditConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AUDIT_ADMIN_USER", "dgsei")
    monkeypatch.setenv("AUDIT_ADMIN_PASSWORD", PASSWORD)
    with TestClient(create_app(cfg, store)) as c:
        yield c


def _csrf(client: TestClient) -> str:
    m = CSRF_RE.search(client.get("/admin").text)
    assert m, "the admin page must carry a CSRF token"
    return m.group(1)


def _login(client: TestClient) -> str:
    token = _csrf(client)
    r = client.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    return _csrf(client)


def _log_rows(store: Store) -> list[AdminLogEntry]:
    with store.session() as s:
        return list(s.scalars(select(AdminLogEntry).order_by(AdminLogEntry.id)))


# ------------------------------------------------------------------------------------------ headers, escaping


def test_every_response_has_security_headers_and_csp_without_inline_scripts(public: TestClient) -> None:
    for url in ("/", "/api/v1/runs", "/static/app.css", "/no-existe"):
        h = public.get(url).headers
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"


def test_pages_have_no_inline_scripts_handlers_or_external_assets(public: TestClient) -> None:
    for url in ("/", "/organizaciones/secretaria-000", "/conjuntos/conjunto-00001", "/caracteristicas/accesibles"):
        html = public.get(url).text
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == ['<script src="/static/app.js" defer>']
        assert not re.search(r"<script[^>]*>[^<]", html)  # no inline script bodies
        assert not re.search(r"""(src|href)=["']https?://""", html)  # no CDN or remote asset
        assert " style=" not in html


def test_hostile_metadata_is_escaped_everywhere(public: TestClient) -> None:
    pages = [public.get(u).text for u in ("/", "/organizaciones/secretaria-001", "/conjuntos/conjunto-00001",
                                          "/caracteristicas/accesibles?status=pass")]
    joined = "\n".join(pages)
    assert "<script>alert" not in joined
    assert "onerror=alert" not in joined.replace("onerror=alert(1)&gt;", "")  # only as escaped text
    assert "<img src=x" not in joined and "<svg onload" not in joined
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in pages[2] or "&lt;script&gt;" in pages[2]
    assert "&lt;svg onload=alert(1)&gt;" in pages[1] or "&#34;&gt;&lt;svg onload" in pages[1]


def test_report_files_cannot_be_used_for_path_traversal(public: TestClient, cfg: AuditConfig) -> None:
    base = Path(cfg.output_dir) / "2026" / "reports"
    base.mkdir(parents=True)
    (base / "secretaria-000.html").write_text("<h1>Informe</h1>", encoding="utf-8")
    (Path(cfg.output_dir) / "secreto.txt").write_text("no", encoding="utf-8")
    r = public.get("/informes/2026/secretaria-000.html")
    assert r.status_code == 200 and "Informe" in r.text
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none': no scripts at all
    for bad in ("/informes/2026/..%2Fsecreto.txt", "/informes/2026/.hidden.html", "/informes/2026/x.exe"):
        assert public.get(bad).status_code == 404
    html = public.get("/organizaciones/secretaria-000?year=2026").text
    run_id = public.get("/api/v1/runs?year=2026").json()["items"][0]["id"]
    assert f"/archivos/{run_id}/informes/secretaria-000.html" in html
    assert public.get(f"/archivos/{run_id}/informes/secretaria-000.html").status_code == 200
    for bad in (f"/archivos/{run_id}/..%2Fsecreto.txt", f"/archivos/{run_id}/secreto.txt",
                f"/archivos/{run_id}/informes/..%2F..%2Fsecreto.txt", f"/archivos/{run_id}/informes/.x.html",
                "/archivos/999999/scores.csv"):
        assert public.get(bad).status_code == 404, bad


# ------------------------------------------------------------------------------------------ admin


def test_admin_is_disabled_without_a_password(public: TestClient) -> None:
    r = public.get("/admin")
    assert r.status_code == 404
    assert "AUDIT_ADMIN_PASSWORD" in r.text
    assert public.post("/admin/login", data={"user": "admin", "password": ""}).status_code == 404
    assert public.post("/admin/auditar").status_code == 404
    assert "Administración" not in public.get("/").text.split("<main", 1)[0]


def test_admin_requires_login_for_every_action(admin: TestClient) -> None:
    token = _csrf(admin)
    assert "Contraseña" in admin.get("/admin").text
    for url in ("/admin/auditar", "/admin/informes"):
        assert admin.post(url, data={"csrf_token": token}).status_code == 401
    r = admin.post("/admin/subir/compromisos", data={"csrf_token": token},
                   files={"archivo": ("c.csv", b"organization,dataset,due_date\n", "text/csv")})
    assert r.status_code == 401


def test_admin_login_rejects_wrong_password_and_logs_it(admin: TestClient, store: Store) -> None:
    token = _csrf(admin)
    r = admin.post("/admin/login", data={"user": "dgsei", "password": "mala", "csrf_token": token})
    assert r.status_code == 401 and "incorrectos" in r.text
    assert "audit_session" not in r.cookies
    last = _log_rows(store)[-1]
    assert (last.action, last.outcome, last.user) == ("login", "rejected", "dgsei")


def test_admin_login_without_csrf_token_is_refused(admin: TestClient) -> None:
    admin.get("/admin")
    r = admin.post("/admin/login", data={"user": "dgsei", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    r = admin.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": "forjado"})
    assert r.status_code == 403


def test_admin_actions_need_csrf_even_when_logged_in(admin: TestClient) -> None:
    _login(admin)
    assert admin.post("/admin/informes", data={"csrf_token": "x"}).status_code == 403
    r = admin.post("/admin/informes", data={"csrf_token": _csrf(admin)},
                   headers={"Origin": "http://evil.invalid"})
    assert r.status_code == 403


def test_admin_session_cookie_is_httponly_samesite_and_tamper_proof(admin: TestClient) -> None:
    token = _csrf(admin)
    r = admin.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    signer = Signer(b"k" * 32)
    cookie = signer.make_session("dgsei")
    assert signer.read_session(cookie) == "dgsei"
    raw, mac = cookie.rsplit(".", 1)
    assert signer.read_session(raw[:-2] + "xx." + mac) is None
    assert Signer(b"z" * 32).read_session(cookie) is None
    assert signer.read_session(signer.make_session("dgsei", now=time.time() - 10 * 24 * 3600)) is None


def test_admin_login_is_throttled_after_repeated_failures(admin: TestClient) -> None:
    token = _csrf(admin)
    codes = [admin.post("/admin/login", data={"user": "x", "password": "y", "csrf_token": token}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_admin_upload_valid_commitments_is_saved_and_logged(admin: TestClient, store: Store,
                                                          cfg: AuditConfig) -> None:
    token = _login(admin)
    content = ("organization,dataset,due_date\nSecretaría de Finanzas,Presupuesto de egresos 2026,2026-06-30\n"
               "secretaria-001,conjunto-00001,2026-12-31\n").encode()
    r = admin.post("/admin/subir/compromisos", data={"csrf_token": token},
                   files={"archivo": ("compromisos.csv", content, "text/csv")})
    assert r.status_code == 200, r.text
    assert "2 filas válidas" in r.text
    saved = Path(cfg.web.uploads_dir) / "compromisos.csv"
    assert saved.read_bytes() == content
    last = _log_rows(store)[-1]
    assert (last.user, last.action, last.outcome) == ("dgsei", "upload_compromisos", "ok")
    assert "subir compromisos" in admin.get("/admin").text  # the log is visible to the admin, in Spanish


def test_admin_upload_invalid_file_is_rejected_and_nothing_is_applied(admin: TestClient, store: Store,
                                                                    cfg: AuditConfig) -> None:
    token = _login(admin)
    good = b"organization,dataset,due_date\nsecretaria-000,conjunto-00000,2026-06-30\n"
    assert admin.post("/admin/subir/compromisos", data={"csrf_token": token},
                      files={"archivo": ("c.csv", good, "text/csv")}).status_code == 200
    bad = b"organization,dataset,due_date\nsecretaria-000,conjunto-00000,2026-06-30\nsecretaria-001,x,no-es-fecha\n"
    r = admin.post("/admin/subir/compromisos", data={"csrf_token": token},
                   files={"archivo": ("c.csv", bad, "text/csv")})
    assert r.status_code == 400
    assert "no se aplicó" in r.text and "no-es-fecha" in r.text
    saved_dir = Path(cfg.web.uploads_dir)
    assert (saved_dir / "compromisos.csv").read_bytes() == good  # the previous file is intact
    assert [p.name for p in saved_dir.iterdir()] == ["compromisos.csv"]  # no temporary leftovers
    assert _log_rows(store)[-1].outcome == "rejected"


def test_admin_upload_reviews_with_missing_columns_is_rejected(admin: TestClient) -> None:
    token = _login(admin)
    r = admin.post("/admin/subir/revisiones", data={"csrf_token": token},
                   files={"archivo": ("r.csv", b"dataset,status\nconjunto-00000,pass\n", "text/csv")})
    assert r.status_code == 400
    assert "characteristic" in r.text


def test_admin_upload_too_large_is_rejected(admin: TestClient) -> None:
    token = _login(admin)
    big = b"organization,dataset,due_date\n" + b"a,b,2026-01-01\n" * 400_000
    r = admin.post("/admin/subir/compromisos", data={"csrf_token": token},
                   files={"archivo": ("c.csv", big, "text/csv")})
    assert r.status_code == 413


def test_admin_start_audit_only_for_known_portals_and_logged(admin: TestClient, store: Store) -> None:
    token = _login(admin)
    r = admin.post("/admin/auditar", data={"csrf_token": token, "portal": "999"})
    assert r.status_code == 400 and "Elija un portal" in r.text
    before = len(_log_rows(store))
    r = admin.post("/admin/auditar", data={"csrf_token": token, "portal": "1"})
    # 202 when the pipeline is installed (audit started in the background), 503 with a clear message otherwise
    assert r.status_code in (202, 409, 503)
    assert len(_log_rows(store)) > before
    admin.app.state.web.jobs.wait(60)  # type: ignore[attr-defined]


def test_admin_logout_ends_the_session(admin: TestClient) -> None:
    token = _login(admin)
    assert "Cerrar sesión" in admin.get("/admin").text
    admin.post("/admin/logout", data={"csrf_token": token})
    assert "Contraseña" in admin.get("/admin").text


def test_job_runner_runs_one_job_at_a_time_and_reports_errors() -> None:
    runner = JobRunner()
    done: list[Any] = []
    import threading

    gate = threading.Event()
    assert runner.start("uno", lambda: gate.wait(5), done.append) is not None
    assert runner.start("dos", lambda: None) is None  # busy
    gate.set()
    runner.wait(5)
    assert runner.last is not None and runner.last.status == "ok"

    def boom() -> None:
        raise RuntimeError("falló la tarea")

    runner.start("tres", boom, done.append)
    runner.wait(5)
    assert runner.last.status == "error" and "falló la tarea" in runner.last.message
    assert [j.name for j in done] == ["uno", "tres"]


@pytest.mark.slow
def test_admin_runs_a_real_audit_of_the_sample_portal_then_regenerates_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.config import load_config
    from audit.sample_portal import SamplePortal

    monkeypatch.setenv("AUDIT_ADMIN_USER", "dgsei")
    monkeypatch.setenv("AUDIT_ADMIN_PASSWORD", PASSWORD)
    store = open_store(f"sqlite:///{tmp_path / 'audit.db'}")
    with SamplePortal() as portal:
        cfg = load_config(None, {
            "portal_url": portal.url, "output_dir": str(tmp_path / "out"),
            "content": {"enabled": False}, "reports": {"enabled": False, "pdf": False},
            "http": {"connect_timeout_s": 2, "read_timeout_s": 2, "total_timeout_s": 10, "retries": 1,
                     "backoff_base_s": 0.05, "retry_after_cap_s": 1},
            "web": {"uploads_dir": str(tmp_path / "entradas")},
        })
        app = create_app(cfg, store)
        with TestClient(app) as c:
            token = _login(c)
            r = c.post("/admin/auditar", data={"csrf_token": token, "portal": "0"})  # 0 = the configured portal
            assert r.status_code == 202, r.text
            assert c.post("/admin/informes", data={"csrf_token": token}).status_code in (400, 409)  # busy / no run yet
            app.state.web.jobs.wait(120)
            last = app.state.web.jobs.last
            assert last is not None and last.status == "ok", last
            assert "Secretaría de Finanzas" in c.get("/").text  # the new run is on the dashboard
            r = c.post("/admin/informes", data={"csrf_token": _csrf(c)})
            assert r.status_code == 202, r.text
            app.state.web.jobs.wait(120)
            assert app.state.web.jobs.last.status == "ok", app.state.web.jobs.last
    assert (tmp_path / "out" / "2026" / "reports" / "index.html").is_file() or list((tmp_path / "out").rglob("index.html"))
    actions = [(e.action, e.outcome) for e in _log_rows(store)]
    assert ("audit", "started") in actions and ("audit", "ok") in actions and ("reports", "ok") in actions
    store.close()
