"""Many portals in one store: audit --all (CKAN, data.json, DCAT-AP Turtle, and one that fails), status and the
comparison of portals."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from audit.comparison import competition_ranks
from audit.config import load_config
from audit.fleet import audit_all
from audit.sample_portal import SamplePortal
from audit.sample_portal.dcat import datajson_catalog, load_datajson, real_data_file, turtle_catalog
from audit.status import status_data
from audit.store import open_store

REPO = Path(__file__).resolve().parents[1]


def test_ties_share_a_rank_and_the_next_rank_skips():
    assert competition_ranks([0.5, 0.7, 0.7, None, 0.9]) == [4, 2, 2, None, 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(real_data_file("ar_datosgobar_data.json") is None, reason="shared/data/real no disponible")
def test_audit_all_audits_every_portal_into_one_store_and_compares_them(tmp_path):
    with SamplePortal() as ckan, SamplePortal(catalog_factory=datajson_catalog(load_datajson()),
                                              ckan_api=False) as ar, \
            SamplePortal(catalog_factory=turtle_catalog, ckan_api=False) as hgo:
        config = {
            "database_url": f"sqlite:///{tmp_path / 'flota.db'}", "output_dir": str(tmp_path / "salida"),
            "content": {"enabled": False}, "reports": {"enabled": False}, "http": {"retries": 0},
            "portals": [
                {"name": "edomex", "url": ckan.url, "title": "Estado de México", "type": "ckan"},
                {"name": "argentina", "url": ar.url + "/data.json", "title": "Datos Argentina"},
                {"name": "hidalgo", "url": hgo.url + "/catalogo.ttl", "type": "dcat"},
                {"name": "caido", "url": f"http://127.0.0.1:{_free_port()}", "title": "Portal caído"},
            ],
        }
        cfg_file = tmp_path / "config.yaml"
        cfg_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        cfg = load_config(cfg_file)
        store = open_store(cfg.database_url)
        # an earlier year, for the trend (Python API), then this year through the command line
        earlier, _ = audit_all(cfg.model_copy(update={"portals": cfg.portals[1:3]}), store, year=2025)
        assert [o.status for o in earlier] == ["complete", "complete"]
        proc = subprocess.run([sys.executable, str(REPO / "run_audit.py"), "audit", "--all", "--year", "2026",
                               "--config", str(cfg_file)], capture_output=True, text=True, timeout=600,
                              cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="200"))
        assert proc.returncode == 3, proc.stdout + proc.stderr  # one portal failed, the others were audited
        assert "Traceback" not in proc.stderr
        assert "No se pudo conectar" in proc.stdout
        status = status_data(store, cfg)
    out = tmp_path / "salida"
    for name in ("edomex", "argentina", "hidalgo"):
        assert (out / name / "2026" / "datasets.csv").is_file()
    assert not (out / "caido").exists()
    rows = list(csv.DictReader((out / "comparacion" / "2026" / "comparacion.csv").open(encoding="utf-8")))
    assert {r["portal"] for r in rows} == {"edomex", "argentina", "hidalgo"}
    by_name = {r["portal"]: r for r in rows}
    assert by_name["edomex"]["datasets"] == "69" and by_name["argentina"]["datasets"] == "70"
    assert sorted(int(r["rank"]) for r in rows)[0] == 1
    data = json.loads((out / "comparacion" / "2026" / "comparacion.json").read_text(encoding="utf-8"))
    trend = {p["portal"]: [t["year"] for t in p["trend"]] for p in data["portals"]}
    assert trend == {"edomex": [2026], "argentina": [2025, 2026], "hidalgo": [2025, 2026]}
    assert by_name["argentina"]["score_change"] != "" and by_name["edomex"]["score_change"] == ""
    html = (out / "comparacion" / "2026" / "comparacion.html").read_text(encoding="utf-8")
    assert "Comparación de portales: evaluación 2026" in html and "Estado de México" in html
    portals = {p["name"]: p for p in status["portals"]}
    assert set(portals) == {"edomex", "argentina", "hidalgo", "caido"}
    assert portals["edomex"]["status"] == "complete" and portals["caido"]["status"] is None
    from io import StringIO

    from rich.console import Console

    from audit.status import print_status

    buf = StringIO()
    print_status(status, Console(file=buf, width=200))
    assert "Portales" in buf.getvalue() and "caido" in buf.getvalue() and "sin corridas" in buf.getvalue()


def test_dashboard_compares_the_portals_and_keeps_stable_portal_urls(tmp_path):
    from fastapi.testclient import TestClient

    from audit.config import AuditConfig
    from audit.web.app import create_app

    with SamplePortal(catalog_factory=turtle_catalog, ckan_api=False) as hgo, SamplePortal() as ckan:
        cfg = AuditConfig.model_validate({
            "database_url": f"sqlite:///{tmp_path / 'f.db'}", "output_dir": str(tmp_path / "salida"),
            "content": {"enabled": False}, "reports": {"enabled": False}, "http": {"retries": 0},
            "portals": [{"name": "hidalgo", "url": hgo.url + "/catalogo.ttl", "title": "Hidalgo <b>"},
                        {"name": "edomex", "url": ckan.url, "title": "Estado de México"}]})
        store = open_store(cfg.database_url)
        outcomes, _ = audit_all(cfg, store, year=2026)
    assert [o.status for o in outcomes] == ["complete", "complete"]
    client = TestClient(create_app(cfg, store))
    page = client.get("/portales")
    assert page.status_code == 200
    assert "Comparación de portales: evaluación 2026" in page.text
    assert "Hidalgo &lt;b&gt;" in page.text and "Hidalgo <b>" not in page.text  # portal strings are escaped
    assert 'href="/portales/edomex"' in page.text
    rows = client.get("/portales?formato=json").json()
    assert sorted(r["portal"] for r in rows) == ["edomex", "hidalgo"]
    hidalgo_run = next(o.run_id for o in outcomes if o.name == "hidalgo")
    moved = client.get("/portales/hidalgo/caracteristicas/libre_uso?q=x", follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"/caracteristicas/libre_uso?run={hidalgo_run}&q=x"
    assert client.get("/portales/hidalgo").status_code == 200  # the overview of that portal's run
    assert client.get("/portales/no-existe", follow_redirects=False).status_code == 404
    assert client.get("/").status_code == 200  # today's single-portal URL still works
