"""`run_audit.py check`: one dataset of the configured portal, now, without touching the audit database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from audit.check import check_dataset, dataset_ref
from audit.config import AuditConfig
from audit.errors import InputFileError

REPO = Path(__file__).resolve().parents[1]
PORTAL = "https://datos.edomex.gob.mx"


@pytest.mark.parametrize(("target", "name"), [
    ("ingresos-estatales-mensuales", "ingresos-estatales-mensuales"),
    (f"{PORTAL}/dataset/ingresos-estatales-mensuales", "ingresos-estatales-mensuales"),
    (f"{PORTAL}/dataset/ingresos-estatales-mensuales/", "ingresos-estatales-mensuales"),
    (f"{PORTAL}/es/dataset/ingresos-estatales-mensuales?x=1#r", "ingresos-estatales-mensuales"),
    (f"{PORTAL}/dataset/becas-otorgadas/resource/1234-abcd", "becas-otorgadas"),
    (f"{PORTAL}/dataset/edit/becas-otorgadas", "becas-otorgadas"),
    ("http://DATOS.edomex.gob.mx:443/dataset/x1", "x1"),
    (f"{PORTAL}/api/3/action/package_show?id=becas-otorgadas", "becas-otorgadas"),
    ("datos.edomex.gob.mx/dataset/becas-otorgadas", "becas-otorgadas"),
])
def test_dataset_names_and_portal_urls_are_understood(target, name):
    assert dataset_ref(PORTAL, target) == name


@pytest.mark.parametrize("target", [
    "https://otro.invalid/dataset/becas-otorgadas",  # another host
    "https://datos.edomex.gob.mx.invalid/dataset/x",  # a look-alike host
    "https://datos.edomex.gob.mx:8443/dataset/x",  # another port
    f"{PORTAL}/organization/secretaria-de-finanzas",  # not a dataset
    f"{PORTAL}/dataset/",  # no name
    "becas otorgadas; rm -rf /",  # not a name
])
def test_anything_else_is_refused_before_any_request(target):
    with pytest.raises(InputFileError):
        dataset_ref(PORTAL, target)


def test_a_portal_under_a_path_only_accepts_urls_under_it():
    assert dataset_ref("https://x.example.org/ckan", "https://x.example.org/ckan/dataset/a") == "a"
    with pytest.raises(InputFileError, match="no pertenece al portal"):
        dataset_ref("https://x.example.org/ckan", "https://x.example.org/otro/dataset/a")


@pytest.fixture(scope="module")
def portal():
    from audit.sample_portal import SamplePortal

    with SamplePortal() as p:
        yield p


def _cfg(tmp_path: Path, url: str) -> AuditConfig:
    return AuditConfig.model_validate({"portal_url": url, "database_url": f"sqlite:///{tmp_path / 'audit.db'}",
                                       "output_dir": str(tmp_path / "salida"), "http": {"retries": 0}})


def test_a_conforming_and_a_failing_dataset_get_the_audit_statuses(portal, tmp_path):
    from audit.sample_portal import EXPECTED

    cfg = _cfg(tmp_path, portal.url)
    good = check_dataset(cfg, f"{portal.url}/dataset/ingresos-estatales-mensuales")
    assert good.conforme and good.score == 1.0 and len(good.characteristics) == 10
    assert {c.id: c.status for c in good.characteristics} == EXPECTED["ingresos-estatales-mensuales"]

    bad = check_dataset(cfg, "capacitacion-para-el-trabajo")
    statuses = {c.id: c.status for c in bad.characteristics}
    assert not bad.conforme and len(statuses) == 10
    assert {k: statuses[k] for k in EXPECTED["capacitacion-para-el-trabajo"]} == EXPECTED["capacitacion-para-el-trabajo"]
    accesibles = next(c for c in bad.characteristics if c.id == "accesibles")
    assert accesibles.findings[0]["resource"] == "Cursos 2019-2023" and accesibles.findings[0]["remediation_es"]

    # the Spanish table: the ten statuses with findings and what to do
    import io

    from rich.console import Console

    from audit.check import print_check

    buf = io.StringIO()
    print_check(bad, Console(file=buf, width=200))
    text = buf.getvalue()
    assert "Cursos de capacitación para el trabajo" in text and "no conforme" in text and "Las diez características" in text
    assert "Cumple parcialmente" in text and "→ Corrija la URL del recurso" in text and "De libre uso" in text

    with pytest.raises(InputFileError, match="No existe el conjunto «no-existe-este-conjunto»"):
        check_dataset(cfg, "no-existe-este-conjunto")

    # nothing was stored: the audit database was never created, nor the evidence archive
    assert not (tmp_path / "audit.db").exists() and not (tmp_path / "salida").exists()


def _run(args: list[str], tmp_path: Path, portal_url: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(_cfg(tmp_path, portal_url).model_dump(mode="json")), encoding="utf-8")
    import os

    return subprocess.run([sys.executable, str(REPO / "run_audit.py"), "check", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "200"})


def test_check_command_prints_json_and_refuses_other_hosts(portal, tmp_path):
    result = _run(["capacitacion-para-el-trabajo", "--json"], tmp_path, portal.url)
    assert result.returncode == 1  # not conforme: usable as a gate before publishing
    doc = json.loads(result.stdout)
    assert doc["dataset"] == "capacitacion-para-el-trabajo" and doc["stored"] is False and not doc["conforme"]
    assert [c["id"] for c in doc["characteristics"]][:2] == ["accesibles", "integrales"]
    assert len(doc["characteristics"]) == 10
    assert doc["characteristics"][0]["status_es"] == "Cumple parcialmente"

    refused = _run(["https://otro.invalid/dataset/capacitacion-para-el-trabajo"], tmp_path, portal.url)
    assert refused.returncode == 2 and "no pertenece al portal configurado" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "audit.db").exists()


# --- «Revisar un conjunto ahora» in the dashboard (audit/web/checks.py) ----------------------------------------

ADMIN_PASSWORD = "una-clave-larga-de-prueba-2026"


def _csrf(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def test_dashboard_check_runs_in_the_background_is_linkable_and_rate_limited(portal, tmp_path, monkeypatch):
    import time

    from fastapi.testclient import TestClient

    from audit.store import open_store
    from audit.web import checks
    from audit.web.app import create_app

    monkeypatch.setenv("AUDIT_ADMIN_USER", "dgsei")
    monkeypatch.setenv("AUDIT_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setattr(checks, "PER_WINDOW", 2)
    cfg = _cfg(tmp_path, portal.url)
    store = open_store(f"sqlite:///{tmp_path / 'tablero.db'}")
    with TestClient(create_app(cfg, store)) as c:
        assert c.get("/admin/revisar").status_code == 401  # signed-in users only
        r = c.post("/admin/login", data={"user": "dgsei", "password": ADMIN_PASSWORD,
                                         "csrf_token": _csrf(c.get("/admin").text)}, follow_redirects=False)
        assert r.status_code == 303
        form = c.get("/admin/revisar")
        assert form.status_code == 200 and "Revisar un conjunto ahora" in form.text
        token = _csrf(form.text)

        # another host is refused before anything starts; a missing CSRF token is refused
        other = c.post("/admin/revisar", data={"csrf_token": token, "conjunto": "https://otro.invalid/dataset/x"})
        assert other.status_code == 400 and "no pertenece al portal configurado" in other.text
        assert c.post("/admin/revisar", data={"conjunto": "becas-otorgadas"}).status_code == 403

        started = c.post("/admin/revisar", data={"csrf_token": token, "conjunto": "capacitacion-para-el-trabajo"},
                         follow_redirects=False)
        assert started.status_code == 303
        page_url = started.headers["location"]
        # one running check per user
        busy = c.post("/admin/revisar", data={"csrf_token": token, "conjunto": "becas-otorgadas"})
        assert busy.status_code == 429 and "revisión en curso" in busy.text
        running = c.get(page_url).text
        assert 'http-equiv="refresh"' in running or "Las diez características" in running
        deadline = time.monotonic() + 120
        while c.get(page_url + ".json").json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.5)
        doc = c.get(page_url + ".json").json()
        assert doc["status"] == "ok" and doc["result"]["dataset"] == "capacitacion-para-el-trabajo"
        assert doc["result"]["characteristics"][0]["status"] == "partial"
        done = c.get(page_url).text  # the same link now shows the result
        assert "Las diez características" in done and "no conforme" in done and "Cursos 2019-2023" in done

        second = c.post("/admin/revisar", data={"csrf_token": token, "conjunto": "ingresos-estatales-mensuales"},
                        follow_redirects=False)
        assert second.status_code == 303
        deadline = time.monotonic() + 120
        while c.get(second.headers["location"] + ".json").json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.5)
        limited = c.post("/admin/revisar", data={"csrf_token": token, "conjunto": "becas-otorgadas"})
        assert limited.status_code == 429 and "límite de 2 revisiones" in limited.text
        assert c.get("/admin/revisar/" + "x" * 22).status_code == 404
        assert "revisar un conjunto" in c.get("/admin").text  # the admin log names the action
    store.close()
