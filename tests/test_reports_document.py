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
from datetime import date
from pathlib import Path

import pytest

from audit.manifest import MANIFEST_NAME, evaluation_folio, verify_manifest
from reports.format import fmt_date

POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdfdetach", "pdftoppm"))
# a whole audit of the sample portal with its reports: minutes on a loaded 2-core machine
pytestmark = [pytest.mark.skipif(not POPPLER, reason="poppler-utils no instalado (apt-get install -y poppler-utils)"),
              pytest.mark.timeout(900)]

#: a unit name as long as DGSEI's, so that the page footer has to wrap
EVALUATOR = {"unit": "Unidad de Evaluación de Prueba de la Dirección General del Sistema Estatal de Informática",
             "name": "Mtra. Ana Pérez López",
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


def _review_day(year_dir: Path, run_id: int) -> date:
    """The day the demo read the portal, in Mexico City (the run's start)."""
    from zoneinfo import ZoneInfo

    from audit.clock import assume_utc
    from audit.store import AuditRun, open_store

    store = open_store(f"sqlite:///{year_dir.parent.parent / 'audit.db'}", migrate_schema=False)
    try:
        with store.session() as s:
            run = s.get(AuditRun, run_id)
            assert run is not None
            return assume_utc(run.started_at).astimezone(ZoneInfo("America/Mexico_City")).date()
    finally:
        store.close()


def test_every_report_states_period_folio_method_legal_basis_and_evaluator(demo):
    outcome, year_dir, url = demo
    folio = evaluation_folio(url, outcome.year, outcome.run_id)
    # the demo reads the portal during the year it evaluates: the period ends that day, not on 31 December
    cutoff = date(outcome.year, 12, 31)
    review = _review_day(year_dir, outcome.run_id)
    period = f"1 de enero al {fmt_date(min(review, cutoff))}" + (
        f" (hasta la revisión del portal; el año se cierra el {fmt_date(cutoff)})" if review < cutoff else "")
    for pdf in _reports(year_dir):
        text = " ".join(_run("pdftotext", str(pdf), "-").split())
        for phrase in (period, "Fecha de la evaluación",
                       "Corte de compromisos", url, folio, "Versión del método", "software ", "reglas ",
                       "configuración ", "Fundamento legal", "fracción VIII", EVALUATOR["unit"], EVALUATOR["name"],
                       EVALUATOR["position"], EVALUATOR["oficio"]):
            assert phrase in text, (pdf.name, phrase)
        # the footer names the evaluating unit on every page, not only the software, and the folio first: a long
        # unit name wraps, the identifier is never broken across lines («DA-2026-0001-» / «E81335»)
        pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf))).group(1))  # type: ignore[union-attr]
        assert text.count(f"Folio {folio} · {EVALUATOR['unit']}") >= pages, pdf.name
        for number, page in enumerate(_run("pdftotext", "-layout", str(pdf), "-").split("\f")[:pages], 1):
            assert f"Folio {folio}" in page, (pdf.name, number)


def test_the_running_header_never_starts_a_line_with_its_separator(demo):
    """The header gives the evaluation and the kind of document («Evaluación anual de datos abiertos 2026» /
    «Informe de la organización») on two lines of their own: a wrap never leaves the «·» that joins them on the
    cover at the start of a line, nor splits the year from its evaluation."""
    outcome, year_dir, _url = demo
    for pdf in _reports(year_dir):
        pages = _run("pdftotext", "-layout", str(pdf), "-").split("\f")[1:-1]  # the cover has no header
        assert pages, pdf.name
        for number, page in enumerate(pages, 2):
            head = [line.strip() for line in page.splitlines() if line.strip()][:3]
            assert any("Evaluación anual de datos abiertos" in line for line in head), (pdf.name, number, head)
            starts = ("·", str(outcome.year), "la organización")
            assert not any(line.startswith(starts) for line in head), (pdf.name, number, head)
            assert any(line.endswith(("Informe de la organización", "Informe del portal")) for line in head), head


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
    # the same dates as the reports' cover: the period ends on the review day when that came before the cut-off
    review, cutoff = _review_day(year_dir, outcome.run_id), date(outcome.year, 12, 31)
    assert {k: data["evaluation"][k] for k in ("period_start", "period_end", "review_date", "commitments_cutoff")} == {
        "period_start": f"{outcome.year}-01-01", "period_end": min(review, cutoff).isoformat(),
        "review_date": review.isoformat(), "commitments_cutoff": cutoff.isoformat()}


def _body_text(pdf: Path) -> str:
    """The report's text up to the glossary annex (the only place where codes may appear)."""
    text = _run("pdftotext", str(pdf), "-")
    return text.split("Glosario de códigos", 1)[0]


def test_no_internal_code_reaches_a_reader_outside_the_glossary(demo):
    _outcome, year_dir, _url = demo
    rows = list(csv.DictReader(io.StringIO((year_dir / "scores.csv").read_text(encoding="utf-8"))))
    # every reason code the run wrote (those with an underscore: single words may be plain Spanish), plus the
    # probe reasons and vocabularies a reader must never meet
    codes = {c for r in rows for c in r["findings"].split(";") if "_" in c} | set(INTERNAL_CODES)
    codes |= {"not_applicable", "formatos_abiertos", "legibles_por_maquinas", "last_update_source", "age_days"}
    for path in [*_reports(year_dir), *sorted((year_dir / "reports").glob("*.html"))]:
        if path.suffix == ".pdf":
            text = _body_text(path)
        else:
            html = path.read_text(encoding="utf-8").split('id="glosario"', 1)[0]
            html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
            text = re.sub(r"<[^>]+>", " ", html)
        found = sorted(c for c in codes if re.search(rf"(?<![\w/.-]){re.escape(c)}(?![\w/.-])", text))
        assert not found, (path.name, found)
        assert not re.search(r"\bhttp_\d{3}\b|\bR/P\d|\bexpect_[a-z_]+", text), path.name
    glossary = _run("pdftotext", str(year_dir / "reports" / "secretaria-de-movilidad.pdf"), "-").split(
        "Glosario de códigos", 1)[1]
    assert "not_applicable" in glossary and "formatos_abiertos" in glossary


def test_every_failing_state_has_an_action_naming_dataset_and_resource(demo):
    _outcome, year_dir, _url = demo
    rows = list(csv.DictReader(io.StringIO((year_dir / "scores.csv").read_text(encoding="utf-8"))))
    datasets = {d["dataset"]: d["title"] for d in csv.DictReader(
        io.StringIO((year_dir / "datasets.csv").read_text(encoding="utf-8")))}
    failing = [r for r in rows if r["organization"] == "secretaria-de-movilidad" and r["status"] in ("fail", "partial")]
    text = " ".join(_run("pdftotext", str(year_dir / "reports" / "secretaria-de-movilidad.pdf"), "-").split())
    actions = text.split("Acciones prioritarias", 2)[-1].split("Validaciones propias", 1)[0]
    # Movilidad's 11 actions name at most 3 datasets each: the list is complete and no annex repeats it
    assert "La lista está completa" in actions and "Anexo de acciones" not in text
    for r in failing:  # every failing dataset is named in the complete action list
        assert datasets[r["dataset"]][:40] in actions, r
    assert f"abarcan los {len(failing)} estados" in text
    # one action per root cause: the 401 resource is one action for the three characteristics it fails
    assert actions.count("Licencias expedidas") == 1
    assert "Corrige Accesibles, No discriminatorios, Legibles por máquinas" in actions
    # the first action names its dataset and what it fixes
    first = text.split("Primera acción:", 1)[1][:400]
    assert re.search(r"En «[^»]+».*; corrige [A-Z]", first), first
    # a failing resource says where it is and since when it fails
    assert "unauthorized/licencias-de-conducir" in actions and "Identificador en el portal" in actions
    assert re.search(r"Falla desde el \d+ de \w+ de \d{4}, en 1 de 1 revisión", actions)


def test_findings_are_grouped_by_file_with_its_facts_once(demo):
    _outcome, year_dir, _url = demo
    text = " ".join(_run("pdftotext", str(year_dir / "reports" / "secretaria-de-movilidad.pdf"), "-").split())
    article = text.split("Aforos vehiculares en carreteras estatales aforos-vehiculares", 1)[1]
    findings = article.split("Hallazgos y cómo corregirlos", 1)[1].split("No aplica:", 1)[0]
    # the unreachable file fails two characteristics: its address, identifier and history are written once, above both
    head = "Recurso «Aforos (servidor estatal)» Dirección: http://datos.edomex.invalid/movilidad/aforos.csv."
    assert findings.count("datos.edomex.invalid/movilidad/aforos.csv") == 1 and head in findings
    block = findings.split(head, 1)[1].split("Recurso «Aforos (FTP)»", 1)[0]
    assert "Falla desde el" in block and "Accesibles: ✘ No cumple" in block and "Legibles por máquinas: ✘" in block
    # findings about the dataset itself follow under their own heading, not under a file
    general = findings.split("El conjunto en general (no un archivo en particular)", 1)[1]
    assert "Integrales: ✘ No cumple No se declara la página de acceso" in general and "Dirección:" not in general


def test_each_dataset_scorecard_lists_the_ten_characteristics_once_by_outcome_failing_first(demo):
    from rules import RULES

    _outcome, year_dir, _url = demo
    titles = {r.id: r.title_es for r in RULES}
    words = {"fail": "✘ No cumple:", "partial": "◐ Cumple parcialmente:", "pass": "✔ Cumple:",
             "not_applicable": "– No aplica:"}
    data = json.loads((year_dir / "scores.json").read_text(encoding="utf-8"))
    datasets = [d for d in data["datasets"] if d["organization"] == "secretaria-de-movilidad"]
    assert len({r["status"] for d in datasets for r in d["results"]}) >= 3  # the report shows several outcomes
    text = " ".join(_run("pdftotext", str(year_dir / "reports" / "secretaria-de-movilidad.pdf"), "-").split())
    for d in datasets:
        assert len(d["results"]) == len(titles)  # so «expected» names all ten
        article = text.split(f"{d['dataset']} · ", 1)[1].split("Base de la evaluación", 1)[0]  # its meta line
        expected = " ".join(
            f"{words[status]} " + ", ".join(titles[r["characteristic"]] for r in d["results"] if r["status"] == status)
            for status in ("fail", "partial", "pass", "not_applicable")
            if any(r["status"] == status for r in d["results"]))
        assert expected in article, (d["dataset"], expected)


def test_advisory_findings_on_passing_characteristics_are_recommendations(demo):
    from reports.render import org_file
    from reports.wording import plain_es

    _outcome, year_dir, _url = demo
    data = json.loads((year_dir / "scores.json").read_text(encoding="utf-8"))
    advice = [(d["organization"], f["remediation_es"]) for d in data["datasets"] for r in d["results"]
              if r["status"] == "pass" for f in r["findings"] if f.get("remediation_es")]
    assert advice, "the sample portal has advisory findings on passing characteristics"
    for org, remediation in advice[:5]:
        text = " ".join(_run("pdftotext", str(year_dir / "reports" / f"{org_file(org)}.pdf"), "-").split())
        recs = text.split("Recomendaciones", 1)[1]
        assert " ".join(plain_es(remediation).split())[:40] in recs, (org, remediation)


def test_first_evaluation_says_so_once_and_ranks_with_ties(demo):
    _outcome, year_dir, _url = demo
    org = " ".join(_run("pdftotext", str(year_dir / "reports" / "secretaria-de-movilidad.pdf"), "-").split())
    assert org.count("no hay evaluaciones anteriores") == 1
    portal = " ".join(_run("pdftotext", str(year_dir / "reports" / "portal.pdf"), "-").split())
    assert "organizaciones, 17 con conjuntos publicados" in portal  # the key figure under «18»
    # the summary's text says it once, and its sentences keep their spaces (before: «…de 18 organizaciones.
    # 18 organizaciones, 17 con conjuntos publicados.29 de 69…»)
    assert re.search(r"de 18 organizaciones \(17 con conjuntos publicados\)\. \d+ de 69 conjuntos evaluados cumplen",
                     portal)


def _body_lines_per_page(pdf: Path) -> list[int]:
    """Lines of each page that are not the running header/footer (lines on at least half of the pages, and the
    «Página N de M» counter)."""
    pages = _run("pdftotext", "-layout", str(pdf), "-").split("\f")
    pages = [[ln.strip() for ln in p.splitlines() if ln.strip()] for p in pages if p.strip()]
    seen: dict[str, int] = {}
    for lines in pages:
        for ln in set(lines):
            seen[ln] = seen.get(ln, 0) + 1
    running = {ln for ln, n in seen.items() if n >= max(2, len(pages) / 2)}
    return [sum(1 for ln in lines if ln not in running and not re.fullmatch(r"Página \d+ de \d+", ln))
            for lines in pages]


def test_no_report_ends_on_a_near_empty_page(demo):
    _outcome, year_dir, _url = demo
    thin = {}
    for pdf in _reports(year_dir):
        counts = _body_lines_per_page(pdf)
        if len(counts) > 1 and min(counts) < 5:
            thin[pdf.name] = counts
    # the signature never stands alone on the last page: it takes the glossary's last entries with it
    assert thin == {}, thin


def test_every_fact_behind_a_verdict_has_spanish_wording(demo):
    """«Base de la evaluación» and the methods annex never show a key the reader cannot understand: every evidence
    key the demo's rules stored has a label (or is deliberately left out), every integrales item and vocabulary
    value has its wording, and every threshold of every rule has a Spanish label."""
    import sqlite3

    from reports.evidence import ITEM_LABELS, LABELS, SKIP, VALUES
    from reports.wording import PARAMS_ES
    from rules import RULES

    _outcome, year_dir, _url = demo
    con = sqlite3.connect(year_dir.parent.parent / "audit.db")
    unlabelled, unknown_items, unknown_values = set(), set(), set()
    for (raw,) in con.execute("SELECT evidence FROM rule_result WHERE evidence IS NOT NULL"):
        evidence = json.loads(raw) if isinstance(raw, str) else raw
        for key, value in (evidence or {}).items():
            if key not in LABELS and key not in SKIP:
                unlabelled.add(key)
            if key == "items":
                unknown_items |= set(value) - set(ITEM_LABELS)
            if key in VALUES and isinstance(value, str) and value not in VALUES[key]:
                unknown_values.add(f"{key}={value}")
    con.close()
    assert (unlabelled, unknown_items, unknown_values) == (set(), set(), set())
    scalar = (bool, int, float)
    missing = {f"{rule.id}.{name}" for rule in RULES if rule.params_model is not None
               for name, info in rule.params_model.model_fields.items()
               if isinstance(info.default, scalar) and name not in PARAMS_ES}
    assert missing == set()


def _gray_of_bar(tmp: Path, value: float) -> float:
    """Mean gray level (0 black – 255 white) of the non-white pixels of a one-bar chart printed in grayscale."""
    from PIL import Image

    from reports import charts
    from reports.pdf import html_to_pdf

    chart = charts.hbar_chart(["Conjunto"], [value], title="t", alt="a")
    pdf = tmp / f"bar-{value:.0f}.pdf"
    # the bar alone (no legend, no label): crop to the bar's row at the chart's left edge
    html_to_pdf(f'<html lang="es"><title>t</title><body><img style="width:16cm" src="{chart.data_url}"></body></html>', pdf)
    _run("pdftoppm", "-gray", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp / f"bar-{value:.0f}"))
    img = Image.open(next(tmp.glob(f"bar-{value:.0f}*.pgm")))
    pixels = [p for p in img.getdata() if p < 245]
    return sum(pixels) / len(pixels)


def test_chart_bands_stay_distinct_in_grayscale(tmp_path):
    high, mid, low = (_gray_of_bar(tmp_path, v) for v in (95, 75, 45))
    # dark solid / hatched medium / pale cross-hatched: distinguishable without colour
    assert high + 30 < mid < low - 30, (high, mid, low)


def test_chart_alt_text_carries_the_values_and_the_legend_explains_the_bands():
    from reports import charts

    chart = charts.characteristic_chart(["Accesibles", "Integrales"], [33.3, 100.0], reference=[80.0, 90.0])
    assert "Accesibles: 33.3\u00a0%" in chart.alt and "Integrales: 100.0\u00a0%" in chart.alt
    assert "80 o más (alto)" in chart.svg and "de 50 a menos de 80 (medio)" in chart.svg and "menos de 50" in chart.svg
    assert "escala de 0 a 100" in chart.svg


def test_no_sentence_is_glued_to_the_next(demo):
    """A Jinja block tag at the end of a template line eats its line break (trim_blocks), so «…publicados.» and
    the next sentence can meet without a space («publicados.29 de 69»). No report of the demo may have one."""
    _outcome, year_dir, _url = demo
    glued = re.compile(r"\S*[a-záéíóúñ)»%]\.[A-ZÁÉÍÓÚÑ«¿0-9]\S*")
    found = {}
    for pdf in _reports(year_dir):
        text = " ".join(_run("pdftotext", str(pdf), "-").split())
        hits = [m.group(0) for m in glued.finditer(text) if not re.search(r"://|\.(csv|json|xlsx?|pdf)\b|\d\.\d", m.group(0))]
        if hits:
            found[pdf.name] = hits[:3]
    assert found == {}
