"""Clear at a glance, in Spanish: each run's files (reports, CSV/JSON) linked from where the run wrote them, the
ranking with state, progress bar and the reports' positions and ties, organization names, explanations for a
characteristic that could not be judged, and no English or internal keys on any page."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.config import AuditConfig
from audit.store import open_store
from audit.store.db import Store
from audit.store.models import AuditRun, OrganizationResult, Probe
from audit.web import create_app
from audit.web.sample import build_sample_store

PASSWORD = "contraseña-vista-1"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Any], Path]]:
    tmp = tmp_path_factory.mktemp("glance")
    store = open_store(f"sqlite:///{tmp / 'audit.db'}")
    info = build_sample_store(store, organizations=5, datasets=30, runs=2)
    last = info["runs"][-1]
    with store.session() as s:
        run = s.get(AuditRun, last)
        assert run is not None
        run.kind = "periodic"
        run.counts = {**(run.counts or {}), "probe_auth_required": 3, "crawl_mode": "full", "probe_ok": 40}
        # a tie: two organizations with exactly the same score share a place, as in the reports
        rows = list(s.query(OrganizationResult).filter(OrganizationResult.run_id == last,
                                                       OrganizationResult.datasets > 0))
        rows[1].score = rows[2].score
        probe = s.query(Probe).filter(Probe.run_id == last).first()
        assert probe is not None
        probe.outcome, probe.reason = "landing_page", "html_instead_of_data"
    yield store, info, tmp
    store.close()


@pytest.fixture(scope="module")
def client(sample: Any) -> Iterator[TestClient]:
    store, _, tmp = sample
    cfg = AuditConfig.model_validate({"output_dir": str(tmp / "otra-carpeta"), "web": {"page_size": 5}})
    with TestClient(create_app(cfg, store)) as c:
        yield c


def _text(page: str) -> str:
    body = page.split("<body>", 1)[-1]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def test_each_run_records_its_output_folder_and_the_pages_link_its_files(sample: Any, tmp_path: Path) -> None:
    """As after the demo: the run writes exports and reports to OUT/<year>; `serve` runs with another output_dir
    (or another working folder) and still finds and serves them."""
    from audit.pipeline import run_stage

    store, info, tmp = sample
    run_id = info["runs"][-1]
    out = tmp / "salida-de-la-corrida"
    cfg = AuditConfig.model_validate({"output_dir": str(out), "reports": {"pdf": False}})
    run_stage("export", store, run_id, cfg, out_dir=out)
    run_stage("report", store, run_id, cfg, out_dir=out)
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None and run.output_dir and Path(run.output_dir).is_dir()
        folder = Path(run.output_dir)
    assert (folder / "scores.csv").is_file() and (folder / "reports" / "index.html").is_file()

    web_cfg = AuditConfig.model_validate({"output_dir": str(tmp_path / "vacia")})
    with TestClient(create_app(web_cfg, store)) as c:
        for url in ("/", "/corridas", f"/corridas/{run_id}", "/organizaciones/secretaria-000"):
            page = c.get(url).text
            assert f"/archivos/{run_id}/informes/index.html" in page, url
            assert f"/archivos/{run_id}/scores.csv" in page and f"/archivos/{run_id}/scores.json" in page, url
        assert f"/archivos/{run_id}/informes/secretaria-000.html" in c.get("/organizaciones/secretaria-000").text
        r = c.get(f"/archivos/{run_id}/scores.csv")
        assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
        r = c.get(f"/archivos/{run_id}/informes/index.html")
        assert r.status_code == 200 and "script-src" not in r.headers["content-security-policy"]
        assert c.get(f"/archivos/{run_id}/informes/..%2F..%2Faudit.db").status_code == 404
        assert c.get(f"/archivos/{run_id}/audit.db").status_code == 404


def test_ranking_positions_and_ties_equal_the_portal_report(client: TestClient, sample: Any) -> None:
    from reports.model import build_portal_report

    store, info, _ = sample
    run_id = info["runs"][-1]
    report = build_portal_report(store, run_id)
    expected = {o.title: o.position for o in report.ranking if o.position is not None}
    assert len(set(expected.values())) < len(expected)  # the fixture has a tie
    page = client.get(f"/?run={run_id}&sort=score&order=desc&formato=json").json()
    shown = {}
    html = ""
    for p in (1, 2):
        html += client.get(f"/?run={run_id}&page={p}").text
    for row in re.findall(r'<td class="num pos">([^<]+)</td>\s*<td class="org"><a [^>]+>([^<]+)</a>', html):
        shown[html_lib.unescape(row[1])] = row[0]
    assert len(page) >= len(expected)
    for title, position in expected.items():
        tied = list(expected.values()).count(position) > 1
        assert shown[title[:90]] == (f"{position}.º (empate)" if tied else f"{position}.º"), title


def test_ranking_shows_state_in_colour_symbol_and_word_and_progress_as_a_bar(client: TestClient) -> None:
    page = client.get("/").text
    ranking = page.split('id="ranking-table"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'class="badge orgst st-(pass|partial|fail)"><span class="sym" aria-hidden="true">[✔◐✘]</span> '
                     r'(cumple|parcial|no cumple)</span>', ranking)
    assert '<progress class="bar small"' in ranking
    assert '<progress class="bar" max="100"' in page.split('id="ranking"', 1)[0]  # the portal progress KPI
    assert "secretaria-00" not in _text(ranking)  # names, not slugs


def test_a_characteristic_that_could_not_be_judged_is_explained(client: TestClient, sample: Any) -> None:
    store, info, _ = sample
    first = info["runs"][0]
    page = client.get(f"/?run={first}").text
    if "no se pudo juzgar" not in page:  # make permanentes not applicable to every dataset of the first run
        from audit.store.models import RuleResultRecord

        with store.session() as s:
            for r in s.query(RuleResultRecord).filter(RuleResultRecord.run_id == first,
                                                      RuleResultRecord.characteristic == "permanentes"):
                r.status = "not_applicable"
        client.app.state.web.clear_caches()  # type: ignore[attr-defined]
        page = client.get(f"/?run={first}").text
    assert "Permanentes —" in _text(page).replace(" —</strong>", " —") or "Permanentes —" in _text(page)
    assert "no se pudo juzgar" in page and "corridas anteriores" in page


FORBIDDEN = ["complete", "periodic", "probe_auth_required", "crawl_mode", "upload_compromisos", "Not Found",
             "Method Not Allowed", "html_instead_of_data", "1 filas", "interrupted", "running", "stage", "rejected",
             "login", "landing_page"]


def test_no_english_or_internal_keys_on_any_page(client: TestClient, sample: Any, monkeypatch: Any) -> None:
    store, info, tmp = sample
    run_id = info["runs"][-1]
    with store.session() as s:
        ds = s.query(Probe).filter(Probe.run_id == run_id, Probe.reason == "html_instead_of_data").first()
        from audit.store.models import DatasetSnapshot, ResourceSnapshot

        res = s.get(ResourceSnapshot, ds.resource_snapshot_id)  # type: ignore[union-attr]
        name = s.get(DatasetSnapshot, res.dataset_snapshot_id).name  # type: ignore[union-attr]
    urls = ["/", "/corridas", f"/corridas/{run_id}", "/organizaciones/secretaria-000", f"/conjuntos/{name}",
            "/caracteristicas/accesibles", "/no-existe", "/corridas?page=999"]
    pages = {u: client.get(u) for u in urls}
    pages["POST /"] = client.post("/")
    assert "página HTML en lugar" in pages[f"/conjuntos/{name}"].text or "se recibió una página HTML" in \
        pages[f"/conjuntos/{name}"].text
    monkeypatch.setenv("AUDIT_ADMIN_USER", "dgsei")
    monkeypatch.setenv("AUDIT_ADMIN_PASSWORD", PASSWORD)
    cfg = AuditConfig.model_validate({"output_dir": str(tmp / "x"), "web": {"uploads_dir": str(tmp / "e")}})
    with TestClient(create_app(cfg, store)) as admin:
        token = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/admin").text).group(1)  # type: ignore[union-attr]
        admin.post("/admin/login", data={"user": "dgsei", "password": "mala", "csrf_token": token})
        admin.post("/admin/login", data={"user": "dgsei", "password": PASSWORD, "csrf_token": token})
        admin.post("/admin/subir/compromisos", data={"csrf_token": token},
                   files={"archivo": ("c.csv", b"organization,dataset,due_date\nx,y,2026-01-01\n", "text/csv")})
        pages["/admin"] = admin.get("/admin")
    assert "subir compromisos" in pages["/admin"].text
    for url, resp in pages.items():
        visible = _text(resp.text)
        for word in FORBIDDEN:
            assert not re.search(rf"\b{re.escape(word)}\b", visible), (url, word)
    assert "1 fila)" in _text(client.get("/corridas?year=2025").text) or "1 fila" in _text(
        client.get("/corridas?year=2025").text)
