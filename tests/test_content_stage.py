"""The content stage end to end: real files served by a local HTTP server, a real SQLite store."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from sqlalchemy import func, select

from audit.config import load_config
from audit.content.fetch import fetch_bytes_sync
from audit.content.stage import content_evidence_for_run, run_content_stage
from audit.store.db import open_store, utcnow
from audit.store.models import (
    AuditRun,
    ContentCheck,
    DatasetSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RunError,
)


class FileServer:
    """Serves ``files`` (path → bytes) on 127.0.0.1 and counts the requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        self.fail_first: dict[str, int] = {}  # path → how many 503s to answer before the file
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.hits[self.path] += 1
                self.server_ua = self.headers.get("User-Agent")
                server.last_user_agent = self.headers.get("User-Agent")
                if server.fail_first.get(self.path, 0) > 0:
                    server.fail_first[self.path] -= 1
                    self.send_response(503)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.last_user_agent: str | None = None
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def files() -> Iterator[FileServer]:
    srv = FileServer()
    yield srv
    srv.close()


@pytest.fixture
def cfg(tmp_path):  # type: ignore[no-untyped-def]
    suites = tmp_path / "suites"
    suites.mkdir()
    return load_config(None, {
        "http": {"connect_timeout_s": 2, "read_timeout_s": 2, "total_timeout_s": 10, "retries": 2,
                 "backoff_base_s": 0.01, "retry_after_cap_s": 1},
        "probe": {"allow_hosts": ["127.0.0.1"]},
        "content": {"workers": 1, "suites_dir": str(suites)},
    })


def _csv(n: int = 30, total: bool = False, empty_col: bool = False) -> bytes:
    rows = [f"2024-{i % 12 + 1:02d}-01,15,{i % 125 + 1:03d},Municipio {i},{i}" + ("," if empty_col else "") for i in range(n)]
    if total:
        rows.append(",,,Total,999" + ("," if empty_col else ""))
    header = "fecha,cve_ent,cve_mun,municipio,monto" + (",vacia" if empty_col else "")
    return ("\n".join([header, *rows]) + "\n").encode()


def _xlsx() -> bytes:
    bio = io.BytesIO()
    with pd.ExcelWriter(bio, engine="openpyxl") as xw:
        pd.DataFrame({"folio": ["A1", "A2"], "monto": [1.0, 2.0]}).to_excel(xw, sheet_name="Datos", index=False)
        pd.DataFrame({"nota": ["x"]}).to_excel(xw, sheet_name="Notas", index=False)
    return bio.getvalue()


DICTIONARY = "Campo,Tipo,Descripción\nfecha,fecha,Fecha\ncve_ent,texto,Entidad\nmonto,numérico,Monto\n".encode()

#: (dataset, resource name, path, sniffed type, probe outcome)
RESOURCES = [
    ("padron", "Padrón 2024", "/files/padron.csv", "csv", "ok"),
    ("padron", "Diccionario de datos", "/files/diccionario.csv", "csv", "ok"),
    ("padron", "Padrón con totales", "/files/totales.csv", "csv", "ok"),
    ("obras", "Obras", "/files/obras.xlsx", "xlsx", "ok"),
    ("obras", "Obras rotas", "/files/rotas.xlsx", "xlsx", "ok"),
    ("obras", "Informe", "/files/informe.pdf", "pdf", "ok"),
    ("obras", "Perdido", "/files/perdido.csv", "csv", "not_found"),
    ("geo", "Puntos", "/files/puntos.geojson", "geojson", "ok"),
    ("geo", "Vacía", "/files/vacia.csv", "csv", "ok"),
]


def _serve_all(srv: FileServer) -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"cvegeo": "15106", "fecha": "2024-01-01"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}
    ]}
    srv.files.update({
        "/files/padron.csv": _csv(),
        "/files/diccionario.csv": DICTIONARY,
        "/files/totales.csv": _csv(total=True),
        "/files/obras.xlsx": _xlsx(),
        "/files/rotas.xlsx": _xlsx()[:300],
        "/files/informe.pdf": b"%PDF-1.4",
        "/files/puntos.geojson": json.dumps(fc).encode(),
        "/files/vacia.csv": _csv(empty_col=True),
    })


def _make_run(store, srv: FileServer, *, probe_sha: bool = True, truncated: bool = False,  # type: ignore[no-untyped-def]
              validators: bool = False) -> int:  # type: ignore[no-untyped-def]
    """A crawled + probed run over RESOURCES (probe sha256 = hash of the served bytes, as the prober does)."""
    import hashlib

    with store.session() as s:
        portal = s.scalar(select(Portal).where(Portal.url == srv.url))
        if portal is None:
            portal = Portal(url=srv.url, title="t", created_at=utcnow())
            s.add(portal)
            s.flush()
        run = AuditRun(portal_id=portal.id, started_at=utcnow(), status="running")
        s.add(run)
        s.flush()
        datasets: dict[str, DatasetSnapshot] = {}
        for pos, (ds, name, path, sniffed, outcome) in enumerate(RESOURCES):
            if ds not in datasets:
                datasets[ds] = DatasetSnapshot(run_id=run.id, ckan_id=f"id-{ds}", name=ds, title=ds, raw={})
                s.add(datasets[ds])
                s.flush()
            res = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=datasets[ds].id, ckan_id=f"r-{pos}", position=pos,
                                   name=name, url=srv.url + path, raw={})
            s.add(res)
            s.flush()
            body = srv.files.get(path, b"")
            s.add(Probe(run_id=run.id, resource_snapshot_id=res.id, outcome=outcome, sniffed_type=sniffed,
                        final_url=srv.url + path, sha256=hashlib.sha256(body).hexdigest() if probe_sha else None, truncated=truncated,
                        content_length=len(body) if validators else None,
                        last_modified=datetime(2024, 5, 1, tzinfo=UTC) if validators else None,
                        checked_at=utcnow()))
        return run.id


def _by_name(store, run_id: int) -> dict[str, ContentCheck]:  # type: ignore[no-untyped-def]
    with store.session() as s:
        rows = s.execute(select(ResourceSnapshot.name, ContentCheck).join(
            ContentCheck, ContentCheck.resource_snapshot_id == ResourceSnapshot.id).where(ContentCheck.run_id == run_id)).all()
        return {name: check for name, check in rows}


def test_stage_validates_every_reachable_tabular_resource(files, cfg, sqlite_url, tmp_path):
    _serve_all(files)
    (tmp_path / "suites" / "geo.json").write_text(json.dumps({"name": "geo-agencia", "expectations": [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "cvegeo", "regex": r"^09"}}]}))
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    counts = run_content_stage(store, run_id, cfg)
    assert counts["candidates"] == 7 and counts["checked"] == 7 and counts["reused"] == 0
    checks = _by_name(store, run_id)
    assert set(checks) == {"Padrón 2024", "Diccionario de datos", "Padrón con totales", "Obras", "Obras rotas",
                           "Puntos", "Vacía"}  # not the PDF, not the 404
    assert checks["Padrón 2024"].parsed_ok and checks["Padrón 2024"].rows == 30
    assert checks["Padrón 2024"].details["dictionary_conformance"] is True  # fields of the dataset's dictionary
    assert checks["Padrón con totales"].details["summary_rows"] == 1
    assert checks["Obras"].details["sheet_names"] == ["Datos", "Notas"]
    assert checks["Obras rotas"].parsed_ok is False and "broken_workbook" in checks["Obras rotas"].details["problems"]
    assert checks["Vacía"].details["empty_columns"] == ["vacia"]
    assert checks["Puntos"].details["agency_success"] is False
    assert checks["Diccionario de datos"].details["dictionary_fields"][0] == {"name": "fecha", "type": "date"}
    assert files.last_user_agent == cfg.http.user_agent

    evidence = content_evidence_for_run(store, run_id)
    with store.session() as s:
        rid = s.scalar(select(ResourceSnapshot.id).where(ResourceSnapshot.run_id == run_id, ResourceSnapshot.name == "Padrón con totales"))
    ev = evidence[rid]
    assert ev.summary_rows == 1 and "summary_rows" in ev.problems and isinstance(ev.problems, tuple)
    assert ev.expectations["suites"][0]["name"] == "builtin"


def test_a_dataset_suite_runs_on_its_data_files_not_on_its_dictionary(files, cfg, sqlite_url, tmp_path):
    _serve_all(files)
    suite = {"name": "padron-agencia", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "monto"}}]}
    (tmp_path / "suites" / "padron.json").write_text(json.dumps(suite))
    (tmp_path / "suites" / "padron__diccionario-de-datos.json").write_text(json.dumps(
        {"name": "diccionario-agencia", "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "Campo"}}]}))
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    run_content_stage(store, run_id, cfg)
    checks = _by_name(store, run_id)

    def agency(name: str) -> list[str]:
        return [x["name"] for x in checks[name].expectations["suites"] if x["source"] == "agency"]

    assert agency("Padrón 2024") == ["padron-agencia"] and checks["Padrón 2024"].details["agency_success"] is True
    assert agency("Padrón con totales") == ["padron-agencia"]
    assert agency("Diccionario de datos") == ["diccionario-agencia"]  # only the suite that names it


def test_unchanged_files_are_not_revalidated_on_second_run(files, cfg, db_url):
    _serve_all(files)
    store = open_store(db_url)
    first = _make_run(store, files)
    run_content_stage(store, first, cfg)
    hits_after_first = sum(files.hits.values())
    # the padrón changes between runs; everything else stays the same
    files.files["/files/padron.csv"] = _csv(n=31)
    second = _make_run(store, files)
    counts = run_content_stage(store, second, cfg)
    assert counts["reused"] == 6 and counts["checked"] == 1
    assert sum(files.hits.values()) - hits_after_first == 1  # only the changed file was downloaded
    checks = _by_name(store, second)
    assert checks["Padrón 2024"].reused is False and checks["Padrón 2024"].rows == 31
    assert checks["Padrón con totales"].reused is True
    assert checks["Padrón con totales"].details["summary_rows"] == 1
    assert checks["Padrón con totales"].details["reused_from_run"] == first


def test_same_bytes_without_probe_hash_reuse_after_download(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_content_stage(store, _make_run(store, files, probe_sha=False), cfg)
    second = _make_run(store, files, probe_sha=False)
    counts = run_content_stage(store, second, cfg)
    assert counts["reused"] == 7 and counts["checked"] == 0


def test_truncated_probe_hash_is_not_trusted_for_reuse(files, cfg, sqlite_url):
    # the prober hashes only its first MiB: a change further down must still be seen
    _serve_all(files)
    store = open_store(sqlite_url)
    run_content_stage(store, _make_run(store, files, truncated=True), cfg)
    before = sum(files.hits.values())
    counts = run_content_stage(store, _make_run(store, files, truncated=True), cfg)
    assert sum(files.hits.values()) - before == 7  # downloaded again …
    assert counts["reused"] == 7 and counts["checked"] == 0  # … but same bytes, so not revalidated


def test_truncated_probe_hash_with_same_last_modified_and_length_is_reused(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_content_stage(store, _make_run(store, files, truncated=True, validators=True), cfg)
    before = sum(files.hits.values())
    counts = run_content_stage(store, _make_run(store, files, truncated=True, validators=True), cfg)
    assert sum(files.hits.values()) == before and counts["reused"] == 7


def test_changed_agency_suite_forces_revalidation(files, cfg, sqlite_url, tmp_path):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_content_stage(store, _make_run(store, files), cfg)
    (tmp_path / "suites" / "obras.yaml").write_text("name: nueva\nexpectations: []\n")
    counts = run_content_stage(store, _make_run(store, files), cfg)
    assert counts["checked"] == 2 and counts["reused"] == 5  # the two obras workbooks


def test_resume_skips_resources_already_checked(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    run_content_stage(store, run_id, cfg)
    counts = run_content_stage(store, run_id, cfg)
    assert counts["already_done"] == 7 and counts["checked"] == 0
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ContentCheck).where(ContentCheck.run_id == run_id)) == 7


def test_resume_false_revalidates_the_run(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    run_content_stage(store, run_id, cfg)
    counts = run_content_stage(store, run_id, cfg, resume=False)
    assert counts["checked"] == 7 and counts["already_done"] == 0


def test_failed_download_is_retried_next_run_not_reused(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    first = _make_run(store, files)
    body = files.files.pop("/files/padron.csv")
    run_content_stage(store, first, cfg)
    files.files["/files/padron.csv"] = body
    counts = run_content_stage(store, _make_run(store, files), cfg)
    assert counts["checked"] == 1 and counts["reused"] == 6


def test_stage_with_process_pool(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    pooled = cfg.model_copy(update={"content": cfg.content.model_copy(update={"workers": 2})})
    counts = run_content_stage(store, run_id, pooled)
    assert counts["checked"] == 7 and counts["parsed_ok"] == 6 and counts["failed"] == 1
    assert _by_name(store, run_id)["Padrón 2024"].details["dictionary_conformance"] is True


def test_download_failure_is_recorded_not_raised(files, cfg, sqlite_url):
    _serve_all(files)
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    del files.files["/files/padron.csv"]  # gone between probe and content check
    counts = run_content_stage(store, run_id, cfg)
    assert counts["download_failed"] == 1
    check = _by_name(store, run_id)["Padrón 2024"]
    assert check.parsed_ok is False and "download_failed" in check.details["problems"]
    with store.session() as s:
        assert s.scalar(select(RunError.code).where(RunError.run_id == run_id)) == "download_failed"


def test_malformed_suite_file_is_a_run_error(files, cfg, sqlite_url, tmp_path):
    _serve_all(files)
    (tmp_path / "suites" / "padron.json").write_text("{roto")
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    counts = run_content_stage(store, run_id, cfg)
    assert counts["suite_errors"] >= 1 and counts["checked"] == 7
    with store.session() as s:
        assert "suite_invalid" in set(s.scalars(select(RunError.code).where(RunError.run_id == run_id)))


# --------------------------------------------------------------------------- the downloader


def test_fetch_respects_byte_cap(files, cfg):
    files.files["/big.csv"] = b"a,b\n" + b"1,2\n" * 10_000
    dl = fetch_bytes_sync(files.url + "/big.csv", http=cfg.http, cap=1000, allow_hosts=["127.0.0.1"])
    assert dl.ok and dl.truncated and len(dl.data) == 1000


def test_fetch_retries_503_honouring_retry_after(files, cfg):
    files.files["/flaky.csv"] = b"a\n1\n"
    files.fail_first["/flaky.csv"] = 2
    dl = fetch_bytes_sync(files.url + "/flaky.csv", http=cfg.http, cap=10_000, allow_hosts=["127.0.0.1"])
    assert dl.ok and dl.data == b"a\n1\n" and files.hits["/flaky.csv"] == 3


def test_fetch_gives_up_after_retries(files, cfg):
    files.files["/down.csv"] = b"a\n"
    files.fail_first["/down.csv"] = 10
    dl = fetch_bytes_sync(files.url + "/down.csv", http=cfg.http, cap=10_000, allow_hosts=["127.0.0.1"])
    assert dl.error == "http_503" and files.hits["/down.csv"] == 1 + cfg.http.retries


def test_fetch_refuses_loopback_unless_allowed(files, cfg):
    files.files["/x.csv"] = b"a\n"
    dl = fetch_bytes_sync(files.url + "/x.csv", http=cfg.http, cap=100, allow_hosts=[])
    assert dl.error is not None and dl.error.startswith("blocked_") and files.hits["/x.csv"] == 0


def test_fetch_refuses_private_address_without_connecting(cfg):
    dl = fetch_bytes_sync("http://10.1.2.3/datos.csv", http=cfg.http, cap=100, allow_hosts=["127.0.0.1"])
    assert dl.error is not None and dl.error.startswith("blocked_")


def test_fetch_unknown_host(cfg):
    dl = fetch_bytes_sync("http://no-existe.invalid/datos.csv", http=cfg.http.model_copy(update={"retries": 0}),
                          cap=100, allow_hosts=[])
    assert dl.error in ("dns_error", "connection_error")


def test_json_safe_replaces_nan_and_numpy_scalars():
    import numpy as np

    from audit.content.stage import _json_safe

    assert _json_safe({"a": float("nan"), "b": [np.int64(3), np.float64("inf")], "c": (1, "x")}) == {
        "a": None, "b": [3, None], "c": [1, "x"]}


def test_worker_crash_on_one_file_is_recorded_and_others_complete(files, cfg, sqlite_url, monkeypatch):
    import os

    import audit.content.stage as stage_mod

    real = stage_mod.check_bytes

    def crashing(data, *args, **kwargs):  # type: ignore[no-untyped-def]
        if b"BOOM" in data:
            os._exit(1)  # what a segfault or the OOM killer does to a worker
        return real(data, *args, **kwargs)

    monkeypatch.setattr(stage_mod, "check_bytes", crashing)  # inherited by the forked workers
    _serve_all(files)
    files.files["/files/totales.csv"] = b"a,b\nBOOM,1\n"
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    pooled = cfg.model_copy(update={"content": cfg.content.model_copy(update={"workers": 2})})
    counts = run_content_stage(store, run_id, pooled)
    assert counts["checked"] == 7
    checks = _by_name(store, run_id)
    assert checks["Padrón con totales"].details["problems"] == ["worker_crashed"]
    assert checks["Padrón 2024"].parsed_ok and checks["Obras"].parsed_ok and checks["Puntos"].parsed_ok


def test_a_worker_stuck_where_no_alarm_reaches_is_killed_and_the_stage_goes_on(files, cfg, sqlite_url, monkeypatch):
    """A check stuck in a C call never runs the per-file alarm's handler; the parent's watchdog kills the worker."""
    import os
    import signal
    import time

    import audit.content.stage as stage_mod

    real = stage_mod.check_bytes

    def stuck(data, *args, **kwargs):  # type: ignore[no-untyped-def]
        if b"HANG" in data:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # like C code: the handler never runs
            time.sleep(600)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(stage_mod, "check_bytes", stuck)  # inherited by the forked workers
    _serve_all(files)
    files.files["/files/totales.csv"] = b"a,b\nHANG,1\n"
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    quick = cfg.model_copy(update={
        "http": cfg.http.model_copy(update={"total_timeout_s": 1.0, "read_timeout_s": 1.0}),
        "content": cfg.content.model_copy(update={"workers": 2, "file_timeout_s": 1.0}),
    })
    limit = stage_mod.worker_time_limit(quick)
    started = time.monotonic()
    counts = run_content_stage(store, run_id, quick)
    elapsed = time.monotonic() - started

    assert limit <= elapsed < limit + 30
    assert counts["checked"] == 7
    checks = _by_name(store, run_id)
    assert checks["Padrón con totales"].details["problems"] == ["worker_timeout"]
    assert checks["Padrón 2024"].parsed_ok and checks["Obras"].parsed_ok and checks["Puntos"].parsed_ok
    with store.session() as s:
        codes = list(s.scalars(select(RunError.code).where(RunError.run_id == run_id)))
    assert codes == ["worker_timeout"]
    # the check did not finish: that says nothing about the file, so the rules do not see it as unreadable
    evidence = content_evidence_for_run(store, run_id)
    assert checks["Padrón con totales"].resource_snapshot_id not in evidence
    assert checks["Padrón 2024"].resource_snapshot_id in evidence
    # no worker is left behind
    import multiprocessing
    assert not [p for p in multiprocessing.active_children() if p.pid != os.getpid()]


def test_failed_download_is_not_reported_to_the_rules_as_unparsable(tmp_path):
    """A download that failed says nothing about the file: the rules must not read it as 'no se puede leer'."""
    from audit.content.stage import content_evidence_for_run
    from audit.store import AuditRun, ContentCheck, DatasetSnapshot, ResourceSnapshot, open_store
    from audit.store.db import utcnow

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    pid = store.get_or_create_portal("http://127.0.0.1:1")
    with store.session() as s:
        run = AuditRun(portal_id=pid, started_at=utcnow(), status="running", counts={}, crawl_state={}, stages_done=[])
        s.add(run)
        s.flush()
        ds = DatasetSnapshot(run_id=run.id, ckan_id="d", name="d", raw={})
        s.add(ds)
        s.flush()
        ok = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, position=0, raw={})
        lost = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, position=1, raw={})
        s.add_all([ok, lost])
        s.flush()
        s.add(ContentCheck(run_id=run.id, resource_snapshot_id=ok.id, parsed_ok=False, details={"parsed_ok": False,
                           "problems": ["bad_encoding"]}, expectations={}, checked_at=utcnow()))
        s.add(ContentCheck(run_id=run.id, resource_snapshot_id=lost.id, parsed_ok=False, details={
            "parsed_ok": False, "problems": ["download_failed", "download_timeout"]}, expectations={},
            checked_at=utcnow()))
        run_id, ok_id, lost_id = run.id, ok.id, lost.id
    evidence = content_evidence_for_run(store, run_id)
    assert ok_id in evidence and not evidence[ok_id].parsed_ok
    assert lost_id not in evidence


def test_a_runaway_check_is_interrupted_by_the_per_file_time_limit():
    import time as _time

    from audit.content.stage import _CheckTimeout, _time_limit

    started = _time.monotonic()
    with pytest.raises(_CheckTimeout), _time_limit(0.3):
        while True:  # a file that makes the parser loop forever
            pass
    assert 0.25 <= _time.monotonic() - started < 5
    with _time_limit(5):  # a normal check: the alarm is cleared afterwards and never fires later
        pass
    _time.sleep(0.1)


def test_an_error_page_served_instead_of_the_file_is_a_failed_download_not_an_unreadable_csv(files, cfg, sqlite_url):
    _serve_all(files)
    files.files["/files/padron.csv"] = (b"<!DOCTYPE html><html><head><title>Error</title></head>"
                                        b"<body><h1>Servicio no disponible</h1></body></html>")
    store = open_store(sqlite_url)
    run_id = _make_run(store, files)
    counts = run_content_stage(store, run_id, cfg)
    check = _by_name(store, run_id)["Padrón 2024"]
    assert counts["download_failed"] == 1
    assert check.details["problems"] == ["download_failed", "download_html_instead_of_file"]
    assert check.resource_snapshot_id not in content_evidence_for_run(store, run_id)
