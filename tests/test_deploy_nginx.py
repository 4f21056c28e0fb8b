"""The documented production setup, for real: Debian's nginx terminates TLS (a self-signed certificate made here)
in front of the dashboard served by uvicorn, using the server block of docs/deployment.md; an admin logs in
through it. nginx comes from scripts/test.sh (EXTRA_APT); the test skips only when nginx is not installed."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
PASSWORD = "contraseña-nginx-1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

pytestmark = [pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def documented_server_block() -> str:
    """The first ``server { … }`` of the ```nginx block in docs/deployment.md (the TLS one)."""
    text = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    block = text.split("```nginx", 1)[1].split("```", 1)[0]
    first = block.strip().split("\n\nserver {", 1)[0]
    assert first.startswith("server {") and "ssl_certificate" in first
    return first


def _certificate(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "tablero.crt", tmp / "tablero.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if NGINX is None:
        pytest.skip("nginx is not installed: apt-get install -y nginx-light (scripts/test.sh does)")
    import uvicorn

    from audit.config import AuditConfig
    from audit.store import open_store
    from audit.web import create_app
    from audit.web.sample import build_sample_store

    tmp = tmp_path_factory.mktemp("nginx")
    store = open_store(f"sqlite:///{tmp / 'audit.db'}")
    build_sample_store(store, organizations=3, datasets=12, runs=1)
    tls_port, app_port = _free_port(), _free_port()
    cfg = AuditConfig.model_validate({"output_dir": str(tmp / "salida"), "web": {
        "trusted_proxies": ["127.0.0.1"], "public_url": f"https://127.0.0.1:{tls_port}",
        "uploads_dir": str(tmp / "entradas")}})
    saved = {k: os.environ.get(k) for k in ("AUDIT_ADMIN_USER", "AUDIT_ADMIN_PASSWORD")}
    os.environ["AUDIT_ADMIN_USER"], os.environ["AUDIT_ADMIN_PASSWORD"] = "dgsei", PASSWORD
    try:
        app = create_app(cfg, store)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    # proxy_headers=False as `serve` runs it: the app itself decides which forwarded headers to believe
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=app_port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    cert, key = _certificate(tmp)
    block = (documented_server_block()
             .replace("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;")
             .replace("/etc/ssl/certs/tablero.crt", str(cert))
             .replace("/etc/ssl/private/tablero.key", str(key))
             .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{app_port}"))
    user = "user root root;\n" if os.geteuid() == 0 else ""  # as root, workers must still read the temp dirs
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log {tmp}/access.log;\n client_body_temp_path {tmp}/body;\n"
        f" proxy_temp_path {tmp}/proxy;\n fastcgi_temp_path {tmp}/fcgi;\n uwsgi_temp_path {tmp}/uwsgi;\n"
        f" scgi_temp_path {tmp}/scgi;\n{block}\n}}\n", encoding="utf-8")
    proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{tls_port}"
    deadline = time.monotonic() + 20
    up, last = False, ""
    while time.monotonic() < deadline and not up:
        if proc.poll() is not None:
            pytest.fail("nginx exited: " + proc.stdout.read().decode(errors="replace") if proc.stdout else "")
        try:
            up = httpx.get(base + "/healthz", verify=str(cert), timeout=2).status_code == 200
        except httpx.HTTPError as exc:
            last = repr(exc)
            time.sleep(0.1)
    assert up, f"nginx + dashboard did not answer ({last}): " + (tmp / "error.log").read_text(errors="replace")
    yield {"base": base, "cert": str(cert), "store": store}
    proc.terminate()
    proc.wait(10)
    server.should_exit = True
    thread.join(10)
    store.close()


def test_admin_logs_in_through_nginx_tls_with_secure_cookie_and_real_client(behind_nginx: dict[str, Any]) -> None:
    from sqlalchemy import select

    from audit.store.models import AdminLogEntry

    base = behind_nginx["base"]
    with httpx.Client(base_url=base, verify=behind_nginx["cert"], timeout=10) as c:
        page = c.get("/admin")
        assert page.status_code == 200 and "Contraseña" in page.text
        assert "secure" in page.headers["set-cookie"].lower()  # the CSRF cookie knows it is HTTPS
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        # what a browser sends: Origin https://localhost:PORT; plus a forged X-Forwarded-For nginx must replace
        r = c.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
                   headers={"Origin": base, "X-Forwarded-For": "203.0.113.66"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/admin"  # relative: never built from a Host header
        cookie = r.headers["set-cookie"].lower()
        assert "audit_session=" in cookie and "secure" in cookie and "httponly" in cookie
        home = c.get("/admin")
        assert "Cerrar sesión" in home.text
        # a redirect through the proxy with a hostile Host header stays relative
        r = c.get("/corridas/", headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.headers.get("location", "").startswith("/corridas") or r.status_code in (400, 404)
        assert c.head("/").status_code == 200
    with behind_nginx["store"].session() as s:
        entry = s.scalars(select(AdminLogEntry).where(AdminLogEntry.action == "login")
                          .order_by(AdminLogEntry.id.desc())).first()
    assert entry is not None and entry.outcome == "ok"
    assert entry.client == "127.0.0.1"  # nginx's $remote_addr, not the forged header
