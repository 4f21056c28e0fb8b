"""Dashboard views and JSON API over a realistic store (two runs, an empty organization, hostile metadata)."""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from audit.config import AuditConfig
from audit.store import open_store
from audit.store.db import Store
from audit.web import create_app
from audit.web.data import CHARACTERISTICS, build_summary
from audit.web.sample import build_sample_store
from reports.format import fmt_pct, fmt_score
from reports.model import build_portal_report

ORG_CSV = (["organization", "title", "datasets", "score", "conformes"] + [f"{c}_pct" for c in CHARACTERISTICS]
           + ["committed", "published", "progress_pct"])
DS_CSV = ["organization", "dataset", "title", "score", "conforme", *CHARACTERISTICS]
SCORES_CSV = ["organization", "dataset", "characteristic", "status", "score", "findings"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Any]]]:
    path = tmp_path_factory.mktemp("web") / "audit.db"
    store = open_store(f"sqlite:///{path}")
    info = build_sample_store(store, organizations=6, datasets=60, runs=2)
    yield store, info
    store.close()


@pytest.fixture(scope="module")
def client(sample: tuple[Store, dict[str, Any]]) -> Iterator[TestClient]:
    store, _ = sample
    cfg = AuditConfig.model_validate({"web": {"page_size": 10}})
    with TestClient(create_app(cfg, store)) as c:
        yield c


# ------------------------------------------------------------------------------------------ HTML views


def test_overview_shows_kpis_chart_and_ranking_of_latest_run(client: TestClient, sample: Any) -> None:
    _, info = sample
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert f"Corrida {info['runs'][-1]}" in html
    assert "conjuntos evaluados" in html and "conjuntos conformes" in html and "avance del portal" in html
    assert "<svg" in html and "Porcentaje de conjuntos que cumplen cada característica" in html
    assert "Secretaría de Finanzas" in html
    assert 'id="ranking-table"' in html
    assert "sin compromisos registrados" in html  # organizations without commitments show no percentage


def _ranking_scores(html: str) -> list[float]:
    body = html.split('id="ranking-table"', 1)[1].split("</tbody>", 1)[0]
    rows = body.split("<tr>")[1:]
    out = []
    for row in rows:
        cells = [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]]  # score, conformes, avance…
        if cells and cells[0] != "—":
            out.append(float(cells[0].replace(",", "")))
    return out


def test_overview_ranking_sorts_by_score_both_ways(client: TestClient) -> None:
    desc = _ranking_scores(client.get("/?sort=score&order=desc").text)
    asc = _ranking_scores(client.get("/?sort=score&order=asc").text)
    assert len(desc) >= 3
    assert desc == sorted(desc, reverse=True)
    assert asc == sorted(asc)
    assert desc[0] != asc[0]


def test_overview_ranking_filters_by_text_and_paginates(client: TestClient) -> None:
    r = client.get("/?q=finanzas")
    assert "Secretaría de Finanzas" in r.text and "secretaria-002" not in r.text
    r = client.get("/?q=zzz-no-existe")
    assert "Ninguna organización coincide" in r.text


def test_year_selector_shows_each_year_run(client: TestClient, sample: Any) -> None:
    _, info = sample
    r = client.get("/?year=2025")
    assert r.status_code == 200 and f"Corrida {info['runs'][0]}" in r.text
    assert '<option value="2026" selected>' in client.get("/").text
    assert client.get("/?year=1999").status_code == 404


def test_organization_page_shows_score_progress_unmatched_trend_and_scorecards(client: TestClient) -> None:
    r = client.get("/organizaciones/secretaria-000")
    assert r.status_code == 200
    html = r.text
    assert "Secretaría de Finanzas" in html
    assert "comprometidos" in html
    assert "Padrón de proveedores (comprometido, no publicado)" in html  # unmatched commitment by name
    assert "Calificación y conjuntos en cada corrida" in html  # trend across runs
    assert "Tarjeta de cada conjunto" in html and "conjunto-00000" in html
    assert "✔" in html or "✘" in html


def test_empty_organization_page_says_no_datasets_and_no_commitments(client: TestClient, sample: Any) -> None:
    _, info = sample
    r = client.get(f"/organizaciones/{info['empty_organization']}")
    assert r.status_code == 200
    assert "Sin conjuntos." in r.text
    assert "sin compromisos registrados" in r.text.lower()


def test_organization_datasets_table_paginates(client: TestClient) -> None:
    r1 = client.get("/organizaciones/secretaria-000")
    assert "Página 1 de 2" in r1.text
    r2 = client.get("/organizaciones/secretaria-000?page=2")
    assert "Página 2 de 2" in r2.text
    names1 = {n for n in CHARS_NAMES(r1.text)}
    names2 = {n for n in CHARS_NAMES(r2.text)}
    assert names1 and names2 and not names1 & names2


def CHARS_NAMES(html: str) -> list[str]:  # noqa: N802 - helper reads like a constant in the asserts
    return [part.split("?", 1)[0] for part in html.split('href="/conjuntos/')[1:]]


def test_dataset_page_shows_statuses_findings_remediation_evidence_review_and_history(client: TestClient) -> None:
    r = client.get("/conjuntos/conjunto-00000")
    assert r.status_code == 200
    html = r.text
    for title in ("Accesibles", "Integrales", "Permanentes", "De libre uso"):
        assert title in html
    assert "Revisión manual" in html and "Evaluadora DGSEI" in html  # the override and its justification
    assert "Resultado automático" in html
    assert "Consulta anónima" in html and "HTTP" in html  # probe outcome per resource
    assert "Resultado del sondeo en cada corrida" in html  # per run
    assert "Contenido: se pudo leer" in html  # content check
    history = html.split("Estado de cada característica en cada corrida", 1)[1].split("</table>", 1)[0]
    assert history.count("<tr><td><a href=") == 2  # history: one row per run, ten statuses each


def test_dataset_page_shows_findings_with_remediation(client: TestClient) -> None:
    found = False
    for i in range(10):
        html = client.get(f"/conjuntos/conjunto-{i:05d}").text
        if "Qué hacer:" in html:
            found = True
            break
    assert found


def test_retired_dataset_is_shown_as_retirado_with_permanentes_fail(client: TestClient, sample: Any) -> None:
    _, info = sample
    html = client.get(f"/conjuntos/{info['retired_dataset']}").text
    assert "retirado" in html
    assert "El conjunto fue retirado del portal." in html


def test_characteristic_page_lists_failing_datasets_with_reasons_by_organization(client: TestClient) -> None:
    r = client.get("/caracteristicas/libre_uso")
    assert r.status_code == 200
    assert "Hallazgo de ejemplo de «De libre uso»." in r.text  # the sample's findings come from the registry
    assert "Por organización" in r.text
    r = client.get("/caracteristicas/libre_uso?organization=secretaria-000&status=fail")
    assert r.status_code == 200
    assert "secretaria-001" not in r.text.split("Conjuntos y motivos", 1)[1].split("<select", 1)[0]
    assert client.get("/caracteristicas/no-existe").status_code == 404


def test_runs_page_lists_history_with_duration_and_errors(client: TestClient, sample: Any) -> None:
    _, info = sample
    r = client.get("/corridas")
    assert r.status_code == 200
    assert "7.5 min" in r.text
    r = client.get(f"/corridas/{info['runs'][0]}")
    assert "Tiempo de espera agotado" in r.text
    assert client.get("/corridas/999999").status_code == 404


def test_unknown_pages_answer_404_in_spanish(client: TestClient) -> None:
    for url in ("/organizaciones/no-existe", "/conjuntos/no-existe", "/no-existe"):
        r = client.get(url)
        assert r.status_code == 404
        assert "No encontrado" in r.text


def test_invalid_parameters_answer_422_not_500(client: TestClient) -> None:
    for url in ("/?page=0", "/?sort=drop", "/?run=abc", "/?run=99999999999999999999", "/corridas?year=99999"):
        assert client.get(url).status_code == 422, url


# ------------------------------------------------------------------------------------------ same numbers as the report


def _kpi(html: str, label: str) -> str:
    section = html.split('class="kpis"', 1)[1].split("</section>", 1)[0]
    for block in section.split('<div class="kpi">')[1:]:
        if label in block:
            return " ".join(re.sub(r"<[^>]+>", " ", block).split())
    raise AssertionError(f"KPI {label!r} not found")


def _char_summary(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.split('class="char-summary">', 1)[1].split("</p>", 1)[0]).split())


@pytest.mark.parametrize("run_index", [0, 1])
def test_overview_numbers_equal_the_annual_report_of_the_same_run(client: TestClient, sample: Any,
                                                                  run_index: int) -> None:
    """evaluated = published + retired and the portal score rounded once, exactly as reports.model computes them
    (the last run of the sample has a retired dataset)."""
    store, info = sample
    run_id = info["runs"][run_index]
    weights = AuditConfig().scoring.weights
    report = build_portal_report(store, run_id, weights=weights).summary
    with store.session() as s:
        summary = build_summary(s, run_id, weights)
    assert summary.evaluated == report.evaluated == report.datasets + report.retired
    assert (summary.listed, summary.retired) == (report.datasets, report.retired)
    assert summary.score == pytest.approx(report.score, abs=1e-12)  # unrounded: no 4-decimal rounding first
    assert summary.conformes == report.conformes
    html = client.get(f"/?run={run_id}").text
    evaluated = _kpi(html, "evaluado")
    assert evaluated.startswith(f"{report.evaluated} conjuntos evaluados")
    if run_index == 1:
        assert report.retired == 1
        assert f"({report.datasets} publicados y 1 retirado del portal)" in evaluated
    else:
        assert report.retired == 0 and f"({report.datasets} publicados)" in evaluated
    assert _kpi(html, "calificación general").startswith(fmt_score(report.score) + " ")
    assert _kpi(html, "conjuntos conformes").startswith(f"{report.conformes} ")
    assert _kpi(html, "organizaciones").startswith(f"{report.organizations} ")


def test_portal_score_is_rounded_once_for_display(tmp_path: Any) -> None:
    """Dataset scores 0.7994, 0.7995, 0.7995: the mean 0.799467 is 79.9 as in the report, not 80.0 (the mean
    first rounded to 0.7995, then to one decimal)."""
    from sqlalchemy import update

    from audit.store.models import DatasetSnapshot, RuleResultRecord

    store = open_store(f"sqlite:///{tmp_path / 'round.db'}")
    try:
        info = build_sample_store(store, organizations=2, datasets=3, runs=1)
        run_id = info["runs"][0]
        with store.session() as s:
            snaps = s.scalars(select(DatasetSnapshot.id).where(DatasetSnapshot.run_id == run_id)
                              .order_by(DatasetSnapshot.id)).all()
            assert len(snaps) == 3
            for snap_id, score in zip(snaps, (0.7994, 0.7995, 0.7995), strict=True):
                s.execute(update(RuleResultRecord).where(RuleResultRecord.dataset_snapshot_id == snap_id)
                          .values(status="partial", score=score))
        weights = AuditConfig().scoring.weights
        report = build_portal_report(store, run_id, weights=weights).summary
        assert report.score == pytest.approx(0.7994667, abs=1e-7) and fmt_score(report.score) == "79.9"
        with TestClient(create_app(AuditConfig(), store)) as c:
            assert _kpi(c.get("/").text, "calificación general").startswith("79.9 ")
    finally:
        store.close()


def test_characteristic_summary_follows_the_organization_filter(client: TestClient, sample: Any) -> None:
    store, info = sample
    run_id = info["runs"][-1]
    portal = _char_summary(client.get(f"/caracteristicas/libre_uso?run={run_id}").text)
    datasets = client.get("/api/v1/datasets", params={"run": run_id, "limit": 1000}).json()["items"]
    assert portal.startswith(f"Todo el portal: {len(datasets)} conjuntos evaluados.")
    org = next(o for o in client.get("/api/v1/organizations", params={"run": run_id}).json()["items"]
               if o["organization"] == "secretaria-000")
    mine = [d for d in datasets if d["organization"] == "secretaria-000"]
    counts = {st: sum(1 for d in mine if d["libre_uso"] == st) for st in ("pass", "partial", "fail", "not_applicable")}
    html = client.get(f"/caracteristicas/libre_uso?run={run_id}&organization=secretaria-000").text
    text = _char_summary(html)
    assert text.startswith("Secretaría de Finanzas") and "secretaria-000" not in text  # the name, not the slug
    assert f": {len(mine)} conjuntos evaluados." in text
    pct = fmt_pct(org['libre_uso_pct']).replace("\xa0", " ")  # the summary's text has its spaces normalised
    assert f"Cumplen {counts['pass']} ({pct} de aquellos a los que aplica)" in text
    assert (f"parcialmente {counts['partial']}; no cumplen {counts['fail']}; "
            f"no aplica {counts['not_applicable']}.") in text
    assert text != portal
    # an organization without datasets: zero everywhere, no percentage
    empty = _char_summary(client.get(f"/caracteristicas/libre_uso?organization={info['empty_organization']}").text)
    assert "0 conjuntos evaluados" in empty and "no aplica a ninguno" in empty


def test_characteristic_page_with_unknown_organization_answers_404_in_spanish(client: TestClient) -> None:
    for url in ("/caracteristicas/libre_uso?organization=zzz", "/caracteristicas/accesibles?organization=zzz&status=pass"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "No encontrado" in r.text and "No existe la organización «zzz»" in r.text
    assert client.get("/caracteristicas/libre_uso?organization=zzz&formato=csv").status_code == 404


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/?year=abc", "Parámetro «year»: «abc» no es un número entero. Se acepta un número entero de 1900 a 2200."),
        ("/?run=99999999999999999999", "Parámetro «run»: «99999999999999999999» es mayor que el máximo"),
        ("/?page=0", "Parámetro «page»: «0» es menor que el mínimo (1). Se acepta un número entero de 1 a 1000000."),
        ("/?sort=name&order=up", "Parámetro «order»: «up» no es un valor admitido. Se acepta uno de estos valores: "
                                 "«asc» o «desc»."),
        ("/caracteristicas/accesibles?status=foo", "Parámetro «status»: «foo» no es un valor admitido."),
        ("/?q=" + "x" * 201, "Parámetro «q»: el texto tiene 201 caracteres y el máximo es 200."),
        ("/corridas/abc", "Dirección «run_id»: «abc» no es un número entero."),
    ],
)
def test_invalid_parameters_are_explained_in_spanish(client: TestClient, url: str, expected: str) -> None:
    r = client.get(url)
    assert r.status_code == 422
    assert "Parámetros inválidos (422)" in r.text
    assert html_lib.escape(expected, quote=False) in r.text
    assert "Input should" not in r.text and "valid integer" not in r.text


def test_api_validation_errors_stay_machine_readable_with_spanish_messages(client: TestClient) -> None:
    r = client.get("/api/v1/datasets?limit=0&conforme=quizas")
    assert r.status_code == 422
    detail = {d["param"]: d for d in r.json()["detail"]}
    assert detail["limit"]["loc"] == ["query", "limit"] and detail["limit"]["type"] == "greater_than_equal"
    assert detail["limit"]["input"] == "0" and detail["limit"]["accepted"] == "un número entero de 1 a 1000"
    assert detail["limit"]["msg"] == ("Parámetro «limit»: «0» es menor que el mínimo (1). "
                                      "Se acepta un número entero de 1 a 1000.")
    assert detail["conforme"]["type"] == "bool_parsing"
    assert "«quizas» no es un valor sí/no" in detail["conforme"]["msg"]
    r = client.get("/api/v1/results?status=bogus")
    (only,) = r.json()["detail"]
    assert only["accepted"] == "uno de estos valores: «pass», «partial», «fail» o «not_applicable»"
    assert "Input should" not in r.text


# ------------------------------------------------------------------------------------------ downloads


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/organizaciones/secretaria-000",
        "/conjuntos/conjunto-00000",
        "/caracteristicas/accesibles",
        "/corridas",
        "/corridas/1",
    ],
)
def test_every_view_downloads_csv_and_json_of_what_it_shows(client: TestClient, url: str) -> None:
    sep = "&" if "?" in url else "?"
    r = client.get(f"{url}{sep}formato=csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(rows) >= 2
    r = client.get(f"{url}{sep}formato=json")
    assert r.status_code == 200
    assert isinstance(r.json(), list) and r.json()


def test_overview_csv_download_uses_contract_columns(client: TestClient) -> None:
    text = client.get("/?formato=csv").text.lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(text)))
    assert header[: len(ORG_CSV)] == ORG_CSV


def test_csv_download_neutralises_formula_injection(client: TestClient) -> None:
    text = client.get("/organizaciones/secretaria-002?formato=csv").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    titles = [r["title"] for r in rows]
    assert any(t.startswith("'=HYPERLINK") for t in titles)
    assert not any(t.startswith("=") for t in titles)


# ------------------------------------------------------------------------------------------ JSON API


def test_api_organizations_use_organizations_csv_field_names(client: TestClient) -> None:
    body = client.get("/api/v1/organizations?limit=100").json()
    assert body["total"] == 6 and body["run"] == 2
    for item in body["items"]:
        assert set(ORG_CSV) <= set(item)
    empty = next(i for i in body["items"] if i["organization"] == "organizacion-sin-datos")
    assert empty["datasets"] == 0 and empty["progress_pct"] is None


def test_api_organizations_sort_filter_and_detail(client: TestClient) -> None:
    items = client.get("/api/v1/organizations?sort=score&order=asc&limit=100").json()["items"]
    scores = [i["score"] for i in items if i["score"] is not None]
    assert scores == sorted(scores)
    assert items[-1]["score"] is None  # no datasets, no score: last
    one = client.get("/api/v1/organizations/secretaria-000").json()
    assert one["title"] == "Secretaría de Finanzas"
    assert client.get("/api/v1/organizations/no-existe").status_code == 404


def test_api_datasets_filter_and_paginate(client: TestClient) -> None:
    page1 = client.get("/api/v1/datasets?organization=secretaria-000&limit=3").json()
    page2 = client.get("/api/v1/datasets?organization=secretaria-000&limit=3&offset=3").json()
    assert page1["total"] == page2["total"] >= 7
    assert len(page1["items"]) == 3
    assert {d["dataset"] for d in page1["items"]}.isdisjoint(d["dataset"] for d in page2["items"])
    for d in page1["items"]:
        assert set(DS_CSV) <= set(d)
    fails = client.get("/api/v1/datasets?characteristic=libre_uso&status=fail&limit=1000").json()["items"]
    assert fails and all(d["libre_uso"] == "fail" for d in fails)
    conformes = client.get("/api/v1/datasets?conforme=true&limit=1000").json()
    assert all(d["conforme"] for d in conformes["items"])


def test_api_dataset_detail_has_results_resources_history(client: TestClient) -> None:
    d = client.get("/api/v1/datasets/conjunto-00001").json()
    assert d["title"].startswith("<script>")  # JSON returns the raw text; HTML views escape it
    assert len(d["results"]) == 10 and len(d["resources"]) == 2 and len(d["history"]) == 2
    assert client.get("/api/v1/datasets/no-existe").status_code == 404


def test_api_results_match_scores_csv_fields_and_filters(client: TestClient) -> None:
    body = client.get("/api/v1/results?dataset=conjunto-00000").json()
    assert body["total"] == 10
    assert set(SCORES_CSV) <= set(body["items"][0])
    reviewed = [i for i in body["items"] if i["manual_review"]]
    assert reviewed and reviewed[0]["characteristic"] == "primarios" and reviewed[0]["status"] == "pass"
    fails = client.get("/api/v1/results?characteristic=accesibles&status=fail&limit=5").json()
    assert all(i["status"] == "fail" and i["findings"][0]["code"] for i in fails["items"])


def test_api_indicator_reports_progress_and_unmatched(client: TestClient) -> None:
    ind = client.get("/api/v1/indicator").json()
    assert ind["committed"] > 0 and 0 < ind["progress_pct"] < 100
    assert any(u["dataset"].startswith("Padrón de proveedores") for u in ind["unmatched"])
    no_comm = [o for o in ind["organizations"] if o["committed"] == 0]
    assert no_comm and all(o["progress_pct"] is None for o in no_comm)


def test_api_runs_and_year_selection(client: TestClient) -> None:
    runs = client.get("/api/v1/runs").json()
    assert runs["total"] == 2 and runs["items"][0]["id"] == 2
    assert runs["items"][0]["duration_s"] == 450.0
    assert client.get("/api/v1/organizations?year=2025").json()["run"] == 1
    assert client.get("/api/v1/runs/1").json()["errors"] == 1
    assert client.get("/api/v1/runs/12345").status_code == 404


def test_api_rejects_bad_parameters_with_422_json(client: TestClient) -> None:
    r = client.get("/api/v1/datasets?limit=0")
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)
    assert client.get("/api/v1/results?status=ok").status_code == 422


def test_openapi_schema_lists_api_and_hides_html_views(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/runs", "/api/v1/organizations", "/api/v1/datasets", "/api/v1/results", "/api/v1/indicator"} <= paths
    assert not any(p.startswith("/admin") for p in paths)
    props = schema["components"]["schemas"]["OrganizationOut"]["properties"]
    assert "accesibles_pct" in props and "progress_pct" in props
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN


def test_dashboard_on_empty_database_explains_what_to_do(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(AuditConfig(), store)) as c:
        r = c.get("/")
        assert r.status_code == 200 and "Todavía no hay auditorías" in r.text
        assert c.get("/api/v1/organizations").status_code == 404
    store.close()


@pytest.mark.postgres
def test_dashboard_and_api_on_postgresql(fresh_postgres_url: str) -> None:
    store = open_store(fresh_postgres_url)
    try:
        build_sample_store(store, organizations=4, datasets=12, runs=2)
        with TestClient(create_app(AuditConfig(), store)) as c:
            assert c.get("/").status_code == 200
            assert c.get("/conjuntos/conjunto-00001").status_code == 200
            assert c.get("/api/v1/results?dataset=conjunto-00000").json()["total"] == 10
            assert c.get("/api/v1/datasets/a%00b").status_code == 404  # NUL byte: no database error
            body = json.loads(c.get("/api/v1/organizations").text)
            assert body["total"] == 4
    finally:
        store.close()


def test_page_cache_serves_finished_runs_and_notices_a_rescored_run(tmp_path: Any) -> None:
    from sqlalchemy import select

    from audit.store.models import AuditRun, OrganizationResult

    store = open_store(f"sqlite:///{tmp_path / 'cache.db'}")
    build_sample_store(store, organizations=3, datasets=6, runs=1)
    app = create_app(AuditConfig(), store)
    with TestClient(app) as c:
        first = c.get("/organizaciones/secretaria-000").text
        again = c.get("/organizaciones/secretaria-000")  # straight from the ASGI layer, no database access
        assert again.text == first and app.state.web.pages.fresh_hits == 1
        assert "frame-ancestors 'none'" in again.headers["content-security-policy"]
        app.state.web.pages.fresh_s = 0  # from now on every request re-checks the run version
        assert c.get("/organizaciones/secretaria-000").text == first
        assert app.state.web.pages.hits == 1
        assert c.get("/organizaciones/secretaria-000?formato=csv").headers["content-type"].startswith("text/csv")
        with store.session() as s:  # the run is re-scored: new title, new finish time
            s.scalar(select(OrganizationResult).where(OrganizationResult.organization_name == "secretaria-000")).title = "Nuevo título"
            run = s.scalar(select(AuditRun))
            run.finished_at = run.finished_at.replace(minute=59)
        assert "Nuevo título" in c.get("/organizaciones/secretaria-000").text
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_localhost_with_one_or_more_workers(tmp_path: Any, workers: int) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    db = tmp_path / "serve.db"
    store = open_store(f"sqlite:///{db}")
    build_sample_store(store, organizations=3, datasets=6, runs=1)
    store.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = ("import sys; from audit.config import AuditConfig; from audit.store import open_store; "
            "from audit.web import serve; "
            "serve(AuditConfig.model_validate({'web': {'workers': int(sys.argv[3])}}), open_store(sys.argv[1]), "
            "'127.0.0.1', int(sys.argv[2]))")
    proc = subprocess.Popen([sys.executable, "-c", code, f"sqlite:///{db}", str(port), str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # worker processes start slowly on a loaded 2-core machine
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve() did not start"
                time.sleep(0.2)
        assert r.status_code == 200 and "Cumplimiento de datos abiertos" in r.text
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "server" not in r.headers  # no version banner
    finally:
        proc.terminate()
        proc.wait(15)
