"""Agency suites and data-dictionary checks in the reports ("Validaciones propias de la organización").

The demo end to end (``run_audit.py demo``: the embedded sample portal, the real content stage with Great
Expectations, a SQLite store, HTML and PDF reports), with its example suite plus two suites a user dropped into the
demo's suite folder; and the report model on a populated store on both database backends.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from audit.config import AuditConfig
from audit.sample_portal import (
    DEMO_SUITE,
    DEMO_SUITE_FILE,
    DEMO_SUITE_JSON,
    DEMO_SUITE_ORGANIZATION,
    DEMO_SUITE_RESOURCE,
)
from reports.model import _suite_results, build_organization_report, build_portal_report
from reports.render import render_reports

sys.path.insert(0, str(Path(__file__).parent))
from test_reports import check_html, needs_poppler, pdftext  # noqa: E402
from test_reports_store import open_populated  # noqa: E402

#: passes on the sample file (residuos-solidos-municipales, same organization as the demo suite)
PASSING_SUITE = {
    "name": "Residuos: claves y avance",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "num_contrato"}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "cve_mun", "regex": r"^15\d{3}$"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "avance_pct", "min_value": 0, "max_value": 100}},
    ],
}
PASSING_FILE = "residuos-solidos-municipales__residuos-solidos-por-municipio.json"
#: Secretaría de Salud: a column the file lacks and an expectation type that does not exist (YAML file)
INVALID_FILE = "unidades-medicas__unidades-medicas.yaml"
INVALID_SUITE_YAML = """\
name: unidades-medicas-clues
expectations:
  - type: expect_column_values_to_match_regex
    kwargs: {column: clues, regex: "^MCSSA\\\\d{6}$"}
  - type: expect_column_values_to_not_be_null
    kwargs: {column: camas_censables}
  - type: expect_column_values_to_be_awesome
    kwargs: {column: camas}
"""
pytestmark = pytest.mark.timeout(900)  # the demo fixture audits the sample portal with its reports

SECTION = "Validaciones propias de la organización"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``run_audit.py demo --out <tmp>/demo`` with two extra suites already in ``<out>/suites``."""
    from audit.cli import app

    out = tmp_path_factory.mktemp("suites") / "demo"
    suites = out / "suites"
    suites.mkdir(parents=True)
    (suites / PASSING_FILE).write_text(json.dumps(PASSING_SUITE, ensure_ascii=False), encoding="utf-8")
    (suites / INVALID_FILE).write_text(INVALID_SUITE_YAML, encoding="utf-8")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    finally:  # the CLI installs its own log handler: give pytest's back
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in handlers:
            root.addHandler(h)
        root.setLevel(level)
    assert result.exit_code == 0, result.output + repr(result.exception)
    reports = next(out.glob("[0-9]*/reports"))
    (out / "salida.txt").write_text(result.output, encoding="utf-8")  # what the command printed
    return out, reports


def _section(html: str) -> str:
    start = html.index('<h2 id="validaciones"')
    return html[start: html.index("</section>", start)]


def _row(section: str, needle: str) -> str:
    rows = [r for r in section.split("<tr>") if needle in r]
    assert len(rows) == 1, f"{needle!r} in {len(rows)} rows"
    return rows[0]


def test_demo_writes_its_example_suite_and_keeps_the_users_suites(demo):
    out, _reports = demo
    written = out / "suites" / DEMO_SUITE_FILE
    assert written.read_text(encoding="utf-8") == DEMO_SUITE_JSON
    assert json.loads(DEMO_SUITE_JSON) == DEMO_SUITE and 3 <= len(DEMO_SUITE["expectations"]) <= 4  # type: ignore[arg-type]
    assert (out / "suites" / PASSING_FILE).is_file() and (out / "suites" / INVALID_FILE).is_file()


def test_demo_report_lists_the_failing_expectation_with_its_unexpected_values(demo):
    _out, reports = demo
    html = (reports / f"{DEMO_SUITE_ORGANIZATION}.html").read_text(encoding="utf-8")
    check_html(html)
    section = _section(html)
    failing = _row(section, str(DEMO_SUITE["name"]))
    assert DEMO_SUITE_RESOURCE in failing and "calidad-del-aire-zmvt" in failing
    assert "✘</span> No cumple" in failing and "1 de 4" in failing
    # the expectation in words, never its type name (that is in scores.json)
    assert "Columna «<bdi>estacion</bdi>»: valores fuera de los permitidos" in failing
    assert "expect_column" not in failing
    assert re.search(r"\d+ de 300 valores \(\d+\.\d\u00a0%\)", failing)
    examples = re.findall(r"«<bdi>([^<]*)</bdi>»", failing.split("Ejemplos:", 1)[1])
    # the sample file mixes in three stations of the Valle de México network
    assert set(examples) == {"XAL", "NEZ", "ATI"}
    assert "Sólo estaciones de la red de monitoreo del Valle de Toluca." in failing  # the suite's own note
    passing = _row(section, str(PASSING_SUITE["name"]))
    assert "✔</span> Cumple" in passing and "0 de 3" in passing and "Residuos sólidos por municipio" in passing
    assert "2 resultados, 1 no cumple." in " ".join(section.split())
    # the dataset's data dictionary is not a target of the resource-specific suite
    assert "Diccionario de datos</bdi></td>" not in section


def test_invalid_expectations_and_missing_columns_are_explained(demo):
    _out, reports = demo
    section = _section((reports / "secretaria-de-salud.html").read_text(encoding="utf-8"))
    row = _row(section, "unidades-medicas-clues")
    assert "✘</span> No cumple" in row and "2 de 3" in row
    assert "Columna «<bdi>camas_censables</bdi>»: columna inexistente" in row
    assert "expect_column_values_to_be_awesome" not in row and "inválida" in row
    assert "expect_column_values_to_match_regex" not in row  # it passed: only failures are detailed


def test_organization_without_suites_gets_the_how_to_note(demo):
    _out, reports = demo
    html = (reports / "secretaria-de-finanzas.html").read_text(encoding="utf-8")
    section = " ".join(_section(html).split())
    assert SECTION in section
    assert "No se aplicó ninguna suite propia" in section and "<code>content.suites_dir</code>" in section
    assert "Suites de la organización por recurso" not in section
    assert re.search(r"Diccionario de datos:</strong> \d+ recursos validados", section)


def test_portal_report_counts_agency_suites_per_organization(demo):
    _out, reports = demo
    html = " ".join((reports / "index.html").read_text(encoding="utf-8").split())
    assert "Validaciones propias de las organizaciones" in html
    assert "2 organizaciones aplicaron suites de expectativas propias a sus recursos: 3 suites ejecutadas" in html
    assert "2 no cumplen" in html
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r'<a href="([a-z-]+)\.html"><bdi>[^<]*</bdi></a></th> (<td class="num">.*?)</tr>', html.split(
            "Suites propias por organización", 1)[1])}
    assert set(rows) == {DEMO_SUITE_ORGANIZATION, "secretaria-de-salud"}
    assert re.findall(r'<td class="num">(?:<span[^>]*><span[^>]*>.</span> )?(\d+)', rows[DEMO_SUITE_ORGANIZATION]) == ["2", "2", "1"]
    assert re.findall(r'<td class="num">(?:<span[^>]*><span[^>]*>.</span> )?(\d+)', rows["secretaria-de-salud"]) == ["1", "1", "1"]


@pytest.mark.skipif(not shutil.which("tidy"), reason="HTML Tidy no instalado (apt-get install -y tidy)")
def test_demo_reports_with_suites_pass_html_tidy(demo):
    _out, reports = demo
    for name in (DEMO_SUITE_ORGANIZATION, "secretaria-de-salud", "index"):
        proc = subprocess.run(["tidy", "-errors", "-quiet", "-utf8", str(reports / f"{name}.html")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and not proc.stderr.strip(), f"{name}: {proc.stderr[:500]}"


def _words_beyond_right_margin(pdf: Path) -> list[str]:
    """Words whose box ends past the right page margin (14 mm, minus a little slack): an overflowing table."""
    out = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                         timeout=60).stdout.decode("utf-8", "replace")  # poppler writes emoji as surrogate pairs
    bad = []
    for page in re.finditer(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', out, re.S):
        limit = float(page.group(1)) - 14 * 72 / 25.4 + 2
        bad += [w.group(2) for w in re.finditer(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
                                                 page.group(2)) if float(w.group(1)) > limit]
    return bad


@needs_poppler
def test_demo_pdf_shows_the_section_inside_the_page(demo):
    _out, reports = demo
    pdf = reports / f"{DEMO_SUITE_ORGANIZATION}.pdf"
    text = " ".join(pdftext(pdf).split())
    for phrase in (SECTION, "Suites de la organización por recurso", "Fallidas", "✘ No cumple", "✔ Cumple", "«XAL»",
                   "valores fuera de los", "Residuos sólidos", "0 de 3", "1 de 4"):
        assert phrase in text, phrase
    assert _words_beyond_right_margin(pdf) == []
    assert SECTION in pdftext(reports / "secretaria-de-finanzas.pdf")


# ---------------------------------------------------------------------------------------------- model, both backends


def test_model_reads_suite_results_in_one_query_on_both_backends(db_url):
    # hostile=False: the hostile fixture's very long names exceed PostgreSQL's column sizes (SQLite ignores them)
    built = open_populated(db_url, orgs=5, datasets_per_org=3, years=(2026,), hostile=False)
    run_id = built.runs[2026]
    report = build_organization_report(built.store, run_id, "secretaria-de-finanzas")
    failing, passing = report.agency_suites
    assert (failing.suite, failing.success, failing.expectations, failing.failed) == ("padron-beneficiarios", False, 3, 2)
    assert (passing.suite, passing.success, passing.failed, passing.issues) == ("montos-validos", True, 0, [])
    missing, in_set = failing.issues  # the column the file lacks is said once, as "columna inexistente"
    assert (missing.column, missing.text.split(":")[0]) == ("curp", "columna inexistente")
    assert in_set.column == "cve_ent" and in_set.examples == ["09", "9", "MEX", "Edomex"]  # distinct, in order
    assert "12 de 300 valores (4.0\u00a0%)" in in_set.text and in_set.note == "Sólo registros del Estado de México"
    assert [d.success for d in report.dictionary_checks] == [False, True, True]
    assert "faltan: monto, cve_mun" in report.dictionary_checks[0].issues[0].text
    empty = build_organization_report(built.store, run_id, "secretaria-del-medio-ambiente")
    assert empty.agency_suites == [] and all(d.success for d in empty.dictionary_checks)

    summary = {o.organization: (o.resources, o.suites, o.failed) for o in build_portal_report(built.store, run_id).agency_suites}
    assert summary == {"secretaria-de-finanzas": (2, 2, 1)}

    statements: list[str] = []
    event.listen(built.store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with built.store.session() as s:
        results = _suite_results(s, run_id)
    assert len(statements) == 1
    assert len(results) == 2 + 12  # agency suites + the dictionary check of every dataset's first CSV


def test_hostile_suite_names_and_values_stay_escaped(tmp_path):
    built = open_populated(f"sqlite:///{tmp_path / 'h.db'}", orgs=4, datasets_per_org=2, years=(2026,))
    out = render_reports(built.store, built.runs[2026], tmp_path / "r", cfg=AuditConfig(),
                         organizations=["organo-hostil"], pdf=True, workers=1)
    html, pdf = out.organizations["organo-hostil"]
    text = html.read_text(encoding="utf-8")
    check_html(text)
    section = _section(text)
    assert "<img" not in section and "<script" not in section and "<b>col" not in section
    assert "&lt;img src=x onerror=alert(3)&gt; valor" in section
    assert "&lt;script&gt;alert(&#34;suite&#34;)&lt;/script&gt;" in section
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in section  # the suite's note is text too
    if pdf is not None and shutil.which("pdftotext"):
        text = " ".join(pdftext(pdf).split())
        assert "onerror=alert(3)> valor" in text and "(<script>alert(4)</script>)" in text  # as text (cells wrap)
        assert _words_beyond_right_margin(pdf) == []


def test_the_demo_warns_that_its_reports_name_no_responsible_person(demo):
    """The demo's configuration names no responsible person: the command says so, and how to fix it, since the
    reports then say «sin designar» and are not for signing."""
    out, _reports = demo
    printed = " ".join((out / "salida.txt").read_text(encoding="utf-8").split())
    assert "los informes no nombran a la persona responsable de la evaluación" in printed
    assert "reports.evaluator.name" in printed and "run_audit.py report --run" in printed
