"""Crawling a CKAN portal into the store, against the real embedded sample portal over HTTP (no mocks)."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audit.ckan import CKANClient
from audit.config import load_config
from audit.crawl import crawl_portal
from audit.errors import NotCKANError, PortalResponseError, PortalUnreachable
from audit.pipeline import run_audit
from audit.runs import create_run
from audit.store import DatasetSnapshot, OrganizationSnapshot, ResourceSnapshot, RunError, open_store

REPO = Path(__file__).resolve().parents[1]


def _crawl(cfg, db_url, portal_url):
    store = open_store(db_url)
    with CKANClient(portal_url, cfg.http) as client:
        info = client.identify()
        pid = store.get_or_create_portal(portal_url, info.get("site_title"), info.get("ckan_version"))
        run_id = create_run(store, pid, cfg)
        result = crawl_portal(store, run_id, cfg, client=client)
    return store, run_id, result


def _names(store, run_id):
    with store.session() as s:
        return set(s.scalars(select(DatasetSnapshot.name).where(DatasetSnapshot.run_id == run_id)))


def _catalog_names(portal):
    import ckanapi

    ck = ckanapi.RemoteCKAN(portal.url)
    return set(ck.action.package_list())


def test_crawl_stores_every_dataset_organization_group_and_licence(sample_portal, fast_cfg, db_url):
    store, run_id, result = _crawl(fast_cfg, db_url, sample_portal.url)
    assert _names(store, run_id) == _catalog_names(sample_portal)
    assert result.datasets == 69
    assert result.organizations == 18
    assert result.groups == 22
    assert result.licenses > 0
    with store.session() as s:
        n_res = s.scalar(select(func.count()).select_from(ResourceSnapshot).where(ResourceSnapshot.run_id == run_id))
        assert n_res == result.resources > 69
        raw = s.scalar(select(DatasetSnapshot.raw).where(DatasetSnapshot.run_id == run_id).limit(1))
        assert "resources" in raw and "organization" in raw  # raw CKAN JSON kept


def test_organization_without_datasets_is_stored(sample_portal, fast_cfg, sqlite_url):
    store, run_id, _ = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    with store.session() as s:
        orgs = set(s.scalars(select(OrganizationSnapshot.name).where(OrganizationSnapshot.run_id == run_id)))
        with_datasets = set(s.scalars(select(DatasetSnapshot.organization_name).where(DatasetSnapshot.run_id == run_id)))
    assert orgs - with_datasets, "at least one organization has no datasets and must still be stored"


def test_paging_when_count_is_not_a_multiple_of_rows(sample_portal, fast_cfg, sqlite_url):
    cfg = fast_cfg.model_copy(update={"crawl": fast_cfg.crawl.model_copy(update={"page_size": 10})})
    store, run_id, result = _crawl(cfg, sqlite_url, sample_portal.url)
    starts = [int(p.get("start", 0)) for a, p in sample_portal.calls if a == "package_search" and "fl" not in p]
    assert starts == [0, 10, 20, 30, 40, 50, 60]
    assert result.datasets == 69
    assert all(int(p.get("rows", 0)) <= 1000 for a, p in sample_portal.calls if a == "package_search")


def test_dataset_added_and_deleted_between_pages(sample_portal, fast_cfg, sqlite_url):
    cfg = fast_cfg.model_copy(update={"crawl": fast_cfg.crawl.model_copy(update={"page_size": 10})})
    before = sorted(_catalog_names(sample_portal))
    victim = before[0]
    new = {"name": "conjunto-agregado-durante-rastreo", "title": "Agregado durante el rastreo",
           "owner_org": None, "resources": []}

    def mutate(catalog):
        catalog.delete_dataset(victim)
        catalog.add_dataset(dict(new))

    sample_portal.on_call("package_search", nth=3, callback=mutate)
    store, run_id, result = _crawl(cfg, sqlite_url, sample_portal.url)
    names = _names(store, run_id)
    assert names == _catalog_names(sample_portal)
    assert "conjunto-agregado-durante-rastreo" in names
    assert victim not in names
    assert len(names) == 69


def test_429_with_retry_after_is_honoured(sample_portal, fast_cfg, sqlite_url):
    sample_portal.faults.add(action="package_search", status=429, retry_after=1)
    started = time.monotonic()
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert time.monotonic() - started >= 1.0  # waited as told
    assert result.datasets == 69


def test_503_then_success(sample_portal, fast_cfg, sqlite_url):
    sample_portal.faults.add(action="package_search", status=503, times=2)
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert result.datasets == 69
    searches = [a for a, _ in sample_portal.calls if a == "package_search"]
    assert len(searches) >= 3


def test_read_timeout_is_retried_then_succeeds(sample_portal, fast_cfg, sqlite_url):
    sample_portal.faults.add(action="package_search", delay=3.0, times=1)  # read timeout is 2 s
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert result.datasets == 69


def test_persistent_read_timeout_is_a_clear_error(sample_portal, fast_cfg, sqlite_url):
    sample_portal.faults.add(action="package_search", delay=3.0, times=10)
    with pytest.raises(PortalUnreachable, match="no respondió a tiempo"):
        _crawl(fast_cfg, sqlite_url, sample_portal.url)


def test_html_500_page_is_a_clear_error(sample_portal, fast_cfg, sqlite_url):
    sample_portal.faults.add(action="organization_list", html_500=True, times=10)
    with pytest.raises((PortalResponseError, PortalUnreachable)) as err:
        _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert "500" in str(err.value)


def test_malformed_json_once_is_retried(sample_portal, fast_cfg, sqlite_url):
    sample_portal.faults.add(action="package_search", malformed_json=True, times=1)
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert result.datasets == 69


def test_one_dataset_failing_in_fallback_is_recorded_and_crawl_goes_on(sample_portal, fast_cfg, sqlite_url):
    sample_portal.disable_action("package_search")
    victim = sorted(_catalog_names(sample_portal))[5]
    sample_portal.faults.add(action="package_show", malformed_json=True, times=10, match={"id": victim})
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert result.mode == "package_list"
    assert result.datasets == 68
    with store.session() as s:
        errors = s.scalars(select(RunError).where(RunError.run_id == run_id)).all()
    assert [e.subject for e in errors if e.code == "package_show_failed"] == [victim]


def test_fallback_to_package_list_when_search_is_disabled(sample_portal, fast_cfg, sqlite_url):
    sample_portal.disable_action("package_search")
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    assert result.mode == "package_list"
    assert _names(store, run_id) == _catalog_names(sample_portal)


@pytest.fixture
def html_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b"<html><body><h1>Bienvenido</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_non_ckan_url_is_a_clear_error(html_server, fast_cfg):
    with CKANClient(html_server, fast_cfg.http) as client, pytest.raises(NotCKANError, match="No es un portal CKAN"):
        client.identify()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_port_is_a_clear_error(fast_cfg):
    with CKANClient(f"http://127.0.0.1:{_free_port()}", fast_cfg.http) as client:
        with pytest.raises(PortalUnreachable, match="No se pudo conectar"):
            client.identify()


def test_unknown_host_is_a_clear_error(fast_cfg):
    with CKANClient("http://portal-que-no-existe.invalid", fast_cfg.http) as client:
        with pytest.raises(PortalUnreachable):
            client.identify()


def test_cli_unreachable_portal_exits_nonzero_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "run_audit.py"), "crawl", "--portal", f"http://127.0.0.1:{_free_port()}",
         "--db", f"sqlite:///{tmp_path}/a.db"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 3
    assert "No se pudo conectar" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_killed_crawl_resumes_to_the_same_dataset_set(sample_portal, tmp_path):
    """SIGKILL half-way through paging, then --resume: same datasets as an uninterrupted crawl, no duplicates."""
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("crawl:\n  page_size: 5\n  batch_size: 5\nhttp:\n  retries: 1\nreports:\n  enabled: false\n")
    db = tmp_path / "kill.db"
    sample_portal.faults.add(action="package_search", delay=0.25, times=1000)
    cmd = [sys.executable, str(REPO / "run_audit.py"), "crawl", "--portal", sample_portal.url,
           "--db", f"sqlite:///{db}", "--config", str(cfg_file)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    store = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if not db.exists():
                continue
            store = store or open_store(f"sqlite:///{db}", migrate_schema=False)
            try:
                with store.session() as s:
                    n = s.scalar(select(func.count()).select_from(DatasetSnapshot))
            except Exception:
                continue
            if n and n >= 20:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert n and 20 <= n < 69, "the crawl was killed half-way"
    sample_portal.faults.clear()
    resume = subprocess.run(cmd + ["--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert resume.returncode == 0, resume.stderr
    store = open_store(f"sqlite:///{db}")
    with store.session() as s:
        runs = {r for (r,) in s.execute(select(DatasetSnapshot.run_id).distinct())}
        assert len(runs) == 1, "resume continued the same run"
        total = s.scalar(select(func.count()).select_from(DatasetSnapshot))
        names = set(s.scalars(select(DatasetSnapshot.name)))
    assert total == 69  # no duplicates
    assert names == _catalog_names(sample_portal)


def test_crawl_command_through_pipeline_marks_run_partial(sample_portal, fast_cfg, sqlite_url):
    store = open_store(sqlite_url)
    outcome = run_audit(fast_cfg, store, portal_url=sample_portal.url, stages=("crawl",))
    assert outcome.status == "partial"
    assert outcome.counts["datasets"] == 69


def test_config_load_roundtrip_for_tests():
    assert load_config(None, {"http": {"retries": 0}}).http.retries == 0


def test_harvest_sources_and_showcases_are_not_evaluated_as_datasets(sample_portal, fast_cfg, sqlite_url):
    sample_portal.catalog.add_dataset({"name": "cosecha-inegi", "title": "Fuente de cosecha", "type": "harvest",
                                       "resources": []})
    store, run_id, result = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    names = _names(store, run_id)
    assert "cosecha-inegi" not in names
    assert result.datasets == 69


def test_datastore_field_descriptions_are_kept_as_the_data_dictionary(sample_portal, fast_cfg, sqlite_url):
    """CKAN exposes DataStore field descriptions only via datastore_search: the crawl stores them with the
    resource so *integrales* can count them as a data dictionary."""
    from rules.integrales import _datastore_described

    pkg = sample_portal.catalog.add_dataset({
        "name": "padron-con-datastore", "title": "Padrón con DataStore", "owner_org": "secretaria-de-finanzas",
        "resources": [{"id": "res-ds-1", "name": "Padrón", "format": "CSV", "datastore_active": True,
                       "url": f"{sample_portal.url}/files/x.csv"}],
    })
    sample_portal.catalog.datastore["res-ds-1"] = [
        {"id": "clave_municipio", "type": "text", "info": {"label": "Clave", "notes": "Clave INEGI del municipio"}},
    ]
    store, run_id, _ = _crawl(fast_cfg, sqlite_url, sample_portal.url)
    with store.session() as s:
        raw = s.scalar(select(ResourceSnapshot.raw).join(DatasetSnapshot).where(
            DatasetSnapshot.run_id == run_id, DatasetSnapshot.name == pkg["name"]))
    assert [f["id"] for f in raw["datastore_fields"]] == ["clave_municipio"]
    assert _datastore_described(raw)
    calls = [p for a, p in sample_portal.calls if a == "datastore_search"]
    assert len(calls) == 1  # only datastore-active resources cost a call
