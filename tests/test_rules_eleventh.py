"""Adding a characteristic touches its rule module, the registry line and its tests — nothing else.

A child process plays the part of someone who wrote ``rules/descargables.py`` and added it to the registry: it
appends a throwaway rule to ``rules.RULES`` / ``CHARACTERISTICS`` / ``RULES_BY_ID`` before anything else imports
them (exactly what editing the registry line does), gives its legal text in the ``legal_basis`` config, and runs a
real audit of the sample portal (crawl, probe, scoring, exports, HTML reports), then asks the dashboard and its
API. Every output must carry the new characteristic without any other edit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, sys
from pathlib import Path

import rules
from rules._common import make_result
from rules.base import Finding, Rule, Status


def evaluate(ctx, params):
    """Cumple when the dataset has at least one resource with a URL."""
    urls = [r for r in ctx.dataset.get("resources") or [] if r.get("url")]
    if urls:
        return make_result("descargables", Status.PASS, evidence={"resources": len(urls)})
    return make_result("descargables", Status.FAIL, evidence={"resources": 0}, findings=[
        Finding("sin_url", "Ningún recurso tiene dirección de descarga.", "Registre la URL de cada recurso.")])


THROWAWAY = Rule(id="descargables", title_es="Descargables", short_title_es="Des", evaluate=evaluate,
                 description_es="Cumple si al menos un recurso tiene dirección de descarga.")
# the registry line
rules.RULES = (*rules.RULES, THROWAWAY)
rules.CHARACTERISTICS = (*rules.CHARACTERISTICS, THROWAWAY.id)
rules.RULES_BY_ID = {**rules.RULES_BY_ID, THROWAWAY.id: THROWAWAY}

from audit.config import load_config
from audit.legal import DEFAULT_CHARACTERISTICS
from audit.pipeline import run_audit
from audit.sample_portal import SamplePortal
from audit.store import open_store

out = Path(sys.argv[1])
legal = {cid: {"inciso": i, "text": t} for cid, (i, t) in DEFAULT_CHARACTERISTICS.items()}
legal["descargables"] = {"inciso": "k", "text": "Descargables: Texto de prueba de una característica adicional"}
cfg = load_config(None, {
    "output_dir": str(out), "content": {"enabled": False}, "reports": {"pdf": False, "workers": 1},
    "http": {"connect_timeout_s": 3, "read_timeout_s": 5, "total_timeout_s": 15, "retries": 1,
             "backoff_base_s": 0.05, "retry_after_cap_s": 2},
    "legal_basis": {"characteristics": legal},
})
store = open_store(f"sqlite:///{out / 'audit.db'}")
with SamplePortal() as portal:
    outcome = run_audit(cfg, store, portal_url=portal.url)
from fastapi.testclient import TestClient

from audit.web.app import create_app

with TestClient(create_app(cfg, store)) as client:
    listed = client.get("/api/v1/datasets", params={"characteristic": "descargables", "status": "pass"})
    assert "items" in listed.json(), listed.text
    item = listed.json()["items"][0]
    name = item["dataset"]
    in_row = item.get("descargables") == "pass"
    detail = client.get(f"/api/v1/datasets/{name}").text
    page = client.get(f"/conjuntos/{name}").text
print(json.dumps({"status": outcome.status, "year": outcome.year, "weights": dict(cfg.scoring.weights),
                  "api_status": listed.status_code, "api_total": listed.json().get("total"),
                  "detail_has_rule": "descargables" in detail, "in_row": in_row, "page_has_rule": "Descargables" in page}))
'''


def test_an_eleventh_characteristic_needs_only_its_module_and_the_registry_line(tmp_path):
    out = tmp_path / "salida"
    out.mkdir()
    child = subprocess.run([sys.executable, "-c", CHILD, str(out)], capture_output=True, text=True, timeout=600,
                           cwd=ROOT)
    assert child.returncode == 0, child.stderr[-4000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["status"] == "complete"
    assert "descargables" in result["weights"]  # scoring weights derive from the registry
    year = out / str(result["year"])
    scores = (year / "scores.csv").read_text(encoding="utf-8")
    assert "descargables" in scores.splitlines()[0] or "descargables" in scores  # a column or a row per state
    data = json.loads((year / "scores.json").read_text(encoding="utf-8"))
    assert "descargables" in json.dumps(data)
    portal_html = (year / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Descargables" in portal_html and "Texto de prueba de una característica adicional" in portal_html
    assert "las once características" in portal_html and "las diez características" not in portal_html  # from the registry
    org_html = next(p for p in (year / "reports").glob("*.html") if p.name != "index.html").read_text(encoding="utf-8")
    assert "Descargables" in org_html
    # the dashboard and its API filter, show and describe it too
    assert result["api_status"] == 200 and result["api_total"] > 0
    assert result["in_row"] and result["detail_has_rule"] and result["page_has_rule"]
