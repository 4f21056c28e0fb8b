"""Signed-in users see the run's personal-data alerts (masked) and download appeal packages; nobody else does."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audit.archive import EvidenceArchive
from audit.config import AuditConfig
from audit.store.models import ContentCheck
from audit.web import create_app

sys.path.insert(0, str(Path(__file__).parent))
from test_archive import _store_with_runs  # noqa: E402

PASSWORD = "una-clave-larga-de-prueba-2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, dict[str, str]]]:
    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev")}, "output_dir": str(tmp_path / "out"),
                                      "web": {"uploads_dir": str(tmp_path / "entradas")}})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    with store.session() as s:  # type: ignore[attr-defined]
        check = s.query(ContentCheck).filter_by(sha256=shas["recent"]).one()
        check.details = {"personal_data": [{"column": "curp", "kind": "curp", "count": 12,
                                            "examples": ["GOMA••••••••••••07"]}]}
    monkeypatch.setenv("AUDIT_ADMIN_USER", "dgsei")
    monkeypatch.setenv("AUDIT_ADMIN_PASSWORD", PASSWORD)
    with TestClient(create_app(cfg, store)) as c:  # type: ignore[arg-type]
        yield c, shas


def _login(c: TestClient) -> None:
    token = CSRF_RE.search(c.get("/admin").text).group(1)  # type: ignore[union-attr]
    r = c.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303


def test_alerts_and_packages_need_a_session(client):
    c, _ = client
    assert c.get("/admin/evidencia").status_code == 401
    assert "GOMA" not in c.get("/admin/evidencia").text
    assert c.get("/admin/evidencia/paquete", params={"conjunto": "d", "anio": 2026}).status_code == 401


def test_signed_in_users_see_masked_alerts_and_download_the_package_as_an_attachment(client):
    c, shas = client
    _login(c)
    page = c.get("/admin/evidencia")
    assert page.status_code == 200 and "Posibles datos personales" in page.text
    assert "GOMA••••••••••••07" in page.text and "CURP" in page.text
    r = c.get("/admin/evidencia/paquete", params={"conjunto": "d", "anio": 2026})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["x-content-type-options"] == "nosniff"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert "MANIFEST.sha256" in names
        assert f"archivos/{shas['recent']}.bin" in names
    missing = c.get("/admin/evidencia/paquete", params={"conjunto": "no-existe", "anio": 2026})
    assert missing.status_code == 404 and "no aparece" in missing.text


def test_new_personal_data_alerts_reach_the_change_digest(tmp_path):
    from sqlalchemy import select

    from audit.alerts import digest_html, digest_text, org_digest
    from audit.changes import compute_changes
    from audit.store.models import AuditRun

    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev")}, "output_dir": str(tmp_path / "out")})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    with store.session() as s:  # type: ignore[attr-defined]
        check = s.query(ContentCheck).filter_by(sha256=shas["recent"]).one()
        check.details = {"personal_data": [{"column": "correo", "kind": "email", "count": 3,
                                            "examples": ["a•••@gmail.com"]}]}
        recent = s.scalar(select(AuditRun.id).order_by(AuditRun.started_at.desc()).limit(1))
    changes = compute_changes(store, cfg, recent)
    [org] = [o for o in changes.organizations.values() if o.personal_data]
    digest = org_digest(org, changes, cfg)
    text = digest_text(digest)
    assert "POSIBLES DATOS PERSONALES" in text.upper() and "a•••@gmail.com" in text
    assert "correo electrónico personal" in text
    assert "Posibles datos personales" in digest_html(digest)
