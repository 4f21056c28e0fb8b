"""The demo's reports as an official document (issue 13): audited end to end on the embedded sample portal, with
reports, then checked with poppler-utils (pdftotext, pdfinfo, pdfdetach, pdftoppm) and the manifest.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from audit.manifest import MANIFEST_NAME, evaluation_folio, verify_manifest

POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdfdetach", "pdftoppm"))
pytestmark = pytest.mark.skipif(not POPPLER, reason="poppler-utils no instalado (apt-get install -y poppler-utils)")

EVALUATOR = {"unit": "Unidad de Evaluación de Prueba", "name": "Mtra. Ana Pérez López",
             "position": "Directora de Datos Abiertos", "oficio": "DGSEI/0123/2027"}
#: codes that must never reach a reader (they stay in scores.csv / scores.json and the glossary annex)
INTERNAL_CODES = ("dns_error", "http_401", "http_403", "html_instead_of_data", "notspecified", "resource_last_modified",
                  "R/P1M", "R/P1Y", "R/P3M", "expect_column", "auth_required", "not_found", "zero_bytes", "scheme_ftp")


def _run(*args: str) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from audit.config import load_config
    from audit.pipeline import run_audit
    from audit.sample_portal import DEMO_COMMITMENTS_CSV, SamplePortal
    from audit.store import open_store

    tmp = tmp_path_factory.mktemp("document")
    cfg = load_config(None, {
        "output_dir": str(tmp / "out"),
        "http": {"connect_timeout_s": 3, "read_timeout_s": 5, "total_timeout_s": 15, "retries": 1,
                 "backoff_base_s": 0.05, "retry_after_cap_s": 2},
        "reports": {"evaluator": EVALUATOR, "workers": 2},
    })
    store = open_store(f"sqlite:///{tmp / 'audit.db'}")
    with SamplePortal() as portal:
        commitments = tmp / "compromisos.csv"
        commitments.write_text(DEMO_COMMITMENTS_CSV, encoding="utf-8")
        outcome = run_audit(cfg, store, portal_url=portal.url, commitments=str(commitments))
        url = portal.url
    year_dir = tmp / "out" / str(outcome.year)
    return outcome, year_dir, url


def _reports(year_dir: Path) -> list[Path]:
    return sorted((year_dir / "reports").glob("*.pdf"))


def test_every_report_states_period_folio_method_legal_basis_and_evaluator(demo):
    outcome, year_dir, url = demo
    folio = evaluation_folio(url, outcome.year, outcome.run_id)
    for pdf in _reports(year_dir):
        text = " ".join(_run("pdftotext", str(pdf), "-").split())
        for phrase in (f"1 de enero al 31 de diciembre de {outcome.year}", "Fecha de la evaluación",
                       "Corte de compromisos", url, folio, "Versión del método", "software ", "reglas ",
                       "configuración ", "Fundamento legal", "fracción VIII", EVALUATOR["unit"], EVALUATOR["name"],
                       EVALUATOR["position"], EVALUATOR["oficio"]):
            assert phrase in text, (pdf.name, phrase)
        # the footer names the evaluating unit on every page, not only the software
        pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf))).group(1))  # type: ignore[union-attr]
        assert text.count(f"{EVALUATOR['unit']} · Folio") >= pages, pdf.name


def test_organization_report_is_self_contained_with_a_methods_annex(demo):
    _outcome, year_dir, _url = demo
    text = " ".join(_run("pdftotext", str(year_dir / "reports" / "secretaria-de-movilidad.pdf"), "-").split())
    annex = text[text.index("Anexo metodológico"):]
    for phrase in ("Qué significa «conforme»", "Umbrales aplicados", "Disponibles para la mayor cantidad de personas",
                   "inciso a)", "proporción mínima de elementos presentes para cumplir: 80 %", "Qué significa «publicado»"):
        assert phrase in annex, phrase
    # first revision of the portal: «conforme» covers nine characteristics, and the cover says why
    assert "«conforme» abarca nueve características" in text
    assert "primera revisión del portal" in text


def test_pdfs_are_pdf_a_3b_with_their_scores_attached(demo):
    _outcome, year_dir, _url = demo
    scores = (year_dir / "scores.csv").read_text(encoding="utf-8")
    for pdf in _reports(year_dir):
        meta = _run("pdfinfo", "-meta", str(pdf))
        assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="B"' in meta, pdf.name
        listing = _run("pdfdetach", "-list", str(pdf))
        assert "1 embedded files" in listing, pdf.name
    out = year_dir.parent / "detached"
    out.mkdir(exist_ok=True)
    _run("pdfdetach", "-saveall", "-o", str(out), str(year_dir / "reports" / "portal.pdf"))
    assert (out / "scores.csv").read_text(encoding="utf-8") == scores
    _run("pdfdetach", "-saveall", "-o", str(out), str(year_dir / "reports" / "secretaria-de-movilidad.pdf"))
    rows = list(csv.DictReader(io.StringIO((out / "scores-secretaria-de-movilidad.csv").read_text(encoding="utf-8"))))
    expected = [r for r in csv.DictReader(io.StringIO(scores)) if r["organization"] == "secretaria-de-movilidad"]
    assert rows and sorted(map(tuple, (r.values() for r in rows))) == sorted(map(tuple, (r.values() for r in expected)))


def test_manifest_lists_every_output_with_its_sha256(demo):
    _outcome, year_dir, _url = demo
    listed = {line.split("  ", 1)[1] for line in (year_dir / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()}
    on_disk = {p.relative_to(year_dir).as_posix() for p in year_dir.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    assert listed == on_disk
    assert {"scores.csv", "scores.json", "reports/portal.pdf", "reports/index.html"} <= listed
    assert verify_manifest(year_dir) == []
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "-c", "--quiet", MANIFEST_NAME], cwd=year_dir, check=True, timeout=60)
    tampered = year_dir / "datasets.csv"
    original = tampered.read_bytes()
    try:
        tampered.write_bytes(original + b"x")
        assert verify_manifest(year_dir) == ["datasets.csv"]
    finally:
        tampered.write_bytes(original)


def test_scores_json_describes_the_run_as_it_finished(demo):
    outcome, year_dir, url = demo
    data = json.loads((year_dir / "scores.json").read_text(encoding="utf-8"))
    assert data["run"]["status"] == "complete"
    assert data["run"]["finished_at"]
    assert data["evaluation"]["folio"] == evaluation_folio(url, outcome.year, outcome.run_id)
    assert data["evaluation"]["config_digest"]
