"""End-to-end in a real browser (Debian's Chromium driven by Playwright): audit the sample portal, serve the
dashboard with uvicorn on a free local port, then sort the ranking, open an organization and a dataset,
download a CSV, log in as admin and upload a commitments file. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "contraseña-navegador-1"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    import uvicorn

    from audit.config import load_config
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.store import open_store
    from audit.web import create_app

    tmp = tmp_path_factory.mktemp("browser")
    # content validation and reports are other stages' business: skip them to keep this test quick
    cfg = load_config(None, {
        "output_dir": str(tmp / "out"),
        "content": {"enabled": False},
        "reports": {"enabled": False},
        "http": {"connect_timeout_s": 2, "read_timeout_s": 2, "total_timeout_s": 10, "retries": 1,
                 "backoff_base_s": 0.05, "retry_after_cap_s": 1},
        "web": {"uploads_dir": str(tmp / "entradas"), "page_size": 10},
    })
    store = open_store(f"sqlite:///{tmp / 'audit.db'}")
    with SamplePortal() as portal:
        outcome = run_audit(cfg, store, portal_url=portal.url)
    assert outcome.status in ("complete", "partial")

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
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield {"url": f"http://127.0.0.1:{port}", "tmp": tmp, "cfg": cfg}
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _scores(page: Any) -> list[float]:
    cells = page.locator("#ranking-table tbody tr td:nth-child(3)").all_inner_texts()
    return [float(c.replace(",", "")) for c in cells if c.strip() not in ("—", "")]


def test_browser_walkthrough_sort_drill_down_download_and_admin_upload(dashboard: dict[str, Any], browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = dashboard["url"]
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="es-MX")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    # overview
    page.goto(base + "/")
    assert "Cumplimiento de datos abiertos" in page.locator("h1").inner_text()
    assert page.locator(".kpi").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

    # sort the ranking: default is score descending; clicking the header flips it
    desc = _scores(page)
    assert desc == sorted(desc, reverse=True) and len(desc) >= 3
    page.click("#ranking-table a.sort[data-sort=score]")
    page.wait_for_url(re.compile(r"order=asc"))
    asc = _scores(page)
    assert asc == sorted(asc) and asc[0] <= desc[-1] + 1e-9
    page.click("#ranking-table a.sort[data-sort=title]")
    page.wait_for_url(re.compile(r"sort=title"))
    page.screenshot(path=str(ARTIFACTS / "dashboard-ranking-sorted.png"), full_page=True)

    # organization
    page.click("#ranking-table tbody tr:first-child td.org a")
    page.wait_for_url(re.compile(r"/organizaciones/"))
    assert page.locator("h2", has_text="Cumplimiento por característica").count() == 1
    assert page.locator("table.scorecard").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-organization.png"), full_page=True)

    # download the organization's datasets as CSV
    with page.expect_download() as info:
        page.click(".downloads a:text('CSV')")
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {"organization", "dataset", "title", "score", "conforme", "accesibles"} <= set(rows[0])

    # dataset
    page.click("table.scorecard tbody tr:first-child td:first-child a")
    page.wait_for_url(re.compile(r"/conjuntos/"))
    assert page.locator("h2", has_text="Las diez características").count() == 1
    assert page.locator("table.results tbody tr").count() == 10
    assert page.locator("h2", has_text="Recursos y evidencia").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-dataset.png"), full_page=True)

    # admin: log in and upload a commitments inventory
    page.goto(base + "/admin")
    page.fill("#user", "dgsei")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("text=Cerrar sesión")
    inventory = dashboard["tmp"] / "compromisos.csv"
    inventory.write_text("organization,dataset,due_date\nSecretaría de Finanzas,Presupuesto de egresos,2026-06-30\n",
                         encoding="utf-8")
    page.set_input_files("#f-compromisos", str(inventory))
    page.click("text=Subir compromisos")
    page.wait_for_selector("p.ok")
    assert "filas válidas" in page.locator("p.ok").first.inner_text()
    assert page.locator("#admin-log tbody tr", has_text="subir compromisos").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-admin-upload.png"), full_page=True)
    saved = Path(dashboard["cfg"].web.uploads_dir) / "compromisos.csv"
    assert saved.read_text(encoding="utf-8").startswith("organization,dataset,due_date")

    # no CSP violation or script error along the way
    assert problems == [], problems
    context.close()


def test_browser_views_work_without_javascript(dashboard: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(dashboard["url"] + "/")
    page.select_option("#year", index=0)
    page.click("form.yearsel button[type=submit]")
    page.wait_for_url(re.compile(r"year="))
    page.click("#ranking-table a.sort[data-sort=conformes]")
    page.wait_for_url(re.compile(r"sort=conformes"))
    page.fill("#q", "finanzas")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=finanzas"))
    assert page.locator("#ranking-table tbody tr").count() >= 1
    assert "Finanzas" in page.locator("#ranking-table").inner_text()
    context.close()


def test_every_page_type_fits_a_390_px_phone(dashboard: dict[str, Any], browser: Any) -> None:
    """No page scrolls sideways at 390 px; wide tables scroll in their own box with a visible cue; the ranking's
    key columns (conformes, avance) are visible without scrolling."""
    base = dashboard["url"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="es-MX")
    page = context.new_page()
    page.goto(base + "/")
    org = page.locator("#ranking-table tbody tr:first-child td.org a").get_attribute("href")
    page.goto(base + str(org))
    ds = page.locator("table.scorecard tbody tr:first-child td:first-child a").get_attribute("href")
    run_link = None
    page.goto(base + "/corridas")
    run_link = page.locator("table.data tbody tr:first-child td:first-child a").get_attribute("href")
    urls = ["/", str(org), str(ds), "/caracteristicas/accesibles", "/caracteristicas/permanentes?status=pass",
            "/corridas", str(run_link), "/admin", "/no-existe", "/?year=abc"]
    widths = {}
    for url in urls:
        page.goto(base + url)
        widths[url] = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        if url == "/":
            page.screenshot(path=str(ARTIFACTS / "dashboard-mobile-overview.png"), full_page=True)
            for name in ("Conformes", "Avance", "Calificación"):
                box = page.locator("#ranking-table thead th", has_text=name).bounding_box()
                assert box is not None and box["x"] + box["width"] <= 390, (name, box)
            assert page.locator(".scroll-cue").first.is_visible()
    # logged in: the admin page with its forms and log
    page.goto(base + "/admin")
    page.fill("#user", "dgsei")
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("text=Cerrar sesión")
    widths["/admin (sesión)"] = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    page.screenshot(path=str(ARTIFACTS / "dashboard-mobile-admin.png"), full_page=True)
    context.close()
    assert all(w <= 390 for w in widths.values()), widths


def test_no_internal_code_reaches_a_dataset_or_characteristic_page(dashboard: dict[str, Any]) -> None:
    """The dashboard words findings as the reports do (reports.wording.plain_es): a liaison reading why a dataset
    fails meets «el dominio no existe», «cada mes», «licencia no especificada», never the codes of scores.csv."""
    import httpx
    from sqlalchemy import select
    from test_reports_document import INTERNAL_CODES

    from audit.store import DatasetSnapshot, open_store
    from rules import CHARACTERISTICS

    store = open_store(f"sqlite:///{dashboard['tmp'] / 'audit.db'}", migrate_schema=False)
    try:
        with store.session() as s:
            names = sorted(set(s.scalars(select(DatasetSnapshot.name))))
    finally:
        store.close()
    assert len(names) >= 60
    pages = [f"/conjuntos/{n}" for n in names] + [f"/caracteristicas/{c}" for c in CHARACTERISTICS]
    found: dict[str, list[str]] = {}
    with httpx.Client(base_url=dashboard["url"], timeout=30) as http:
        for path in pages:
            r = http.get(path)
            assert r.status_code == 200, path
            text = re.sub(r"<[^>]+>", " ", r.text.split("<main", 1)[-1])  # what a reader sees, not link targets
            hits = [c for c in INTERNAL_CODES if c in text]
            if hits:
                found[path] = hits
    assert found == {}
