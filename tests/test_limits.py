"""Limits and wrong setups an unattended service meets: oversized input files, unusable or full results folders,
unsupported database URLs, two first-ever audits at once, runs left behind by a killed process."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from audit.errors import ConfigError, InputFileError, StoreError

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the command line; stderr comes back with rich's line wrapping undone (one space between words)."""
    proc = subprocess.run([sys.executable, str(REPO / "run_audit.py"), *args], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=str(REPO)))
    proc.stderr = " ".join(proc.stderr.split())
    return proc


# ------------------------------------------------------------------------------------------------ database URLs
@pytest.mark.parametrize("url", ["nonsense://x", "mysql://auditor@db.invalid/auditoria", "postgres://x@h/db"])
def test_unsupported_database_url_is_exit_4_naming_the_supported_schemes(tmp_path, url):
    proc = _cli("status", "--db", url, cwd=tmp_path, timeout=60)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no admitida" in proc.stderr and "sqlite:///" in proc.stderr and "postgresql+psycopg://" in proc.stderr


def test_database_errors_are_spanish_without_sqlalchemy_links(tmp_path):
    from audit.store import Portal, open_store
    from audit.store.db import utcnow

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    store.get_or_create_portal("https://x.invalid")
    with pytest.raises(StoreError) as info:
        with store.session() as s:
            s.add(Portal(url="https://x.invalid", created_at=utcnow()))
    message = str(info.value)
    assert message.startswith("Conflicto de integridad en la base de datos")
    assert "sqlalche.me" not in message and "[SQL:" not in message


# ------------------------------------------------------------------------------------------------ first race on PG
def test_first_audits_racing_on_postgres_share_the_portal_row(fresh_postgres_url):
    """Another session inserts the portal first (not yet committed): ours waits on the unique key, then — instead
    of failing with IntegrityError portal_url_key — uses that row."""
    from audit.store import open_store

    store = open_store(fresh_postgres_url)
    other = create_engine(fresh_postgres_url).connect()
    try:
        other.execute(text("INSERT INTO portal (url, created_at) VALUES ('https://carrera.invalid', now())"))
        got: dict[str, object] = {}

        def ours() -> None:
            try:
                got["id"] = store.get_or_create_portal("https://carrera.invalid")
            except Exception as exc:  # noqa: BLE001 - reported below
                got["error"] = exc

        thread = threading.Thread(target=ours)
        thread.start()
        time.sleep(1.0)  # ours is now blocked on the other session's uncommitted key
        other.commit()
        thread.join(30)
        first = other.execute(text("SELECT id FROM portal WHERE url = 'https://carrera.invalid'")).scalar()
        assert got == {"id": first}
    finally:
        other.close()
        store.close()


def test_two_first_ever_audits_at_once_on_postgres_one_waits_with_exit_5(tmp_path, fresh_postgres_url):
    from audit.sample_portal import SamplePortal

    with SamplePortal() as portal:
        portal.faults.add("package_search", delay=4.0, times=10)  # the winner holds the lock a while
        cmd = [sys.executable, str(REPO / "run_audit.py"), "crawl", "--portal", portal.url, "--db", fresh_postgres_url]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        procs = [subprocess.Popen(cmd, cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env) for _ in range(2)]
        results = [(p.wait(300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 5], results
    loser = next(err for code, _, err in results if code == 5)
    assert "ya está en curso" in loser and "IntegrityError" not in loser


# ------------------------------------------------------------------------------------------------ input files
def test_a_50_mb_commitments_file_is_refused_before_any_work(tmp_path):
    big = tmp_path / "compromisos.csv"
    row = "Secretaría de Finanzas,Padrón de contribuyentes del ejercicio,2026-06-30\n"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("organization,dataset,due_date\n")
        fh.write(row * (50 * 2**20 // len(row.encode()) + 1))
    assert big.stat().st_size >= 50 * 2**20
    proc = _cli("audit", "--portal", "https://portal.invalid", "--commitments", str(big), "--db",
                f"sqlite:///{tmp_path / 'a.db'}", "--out", str(tmp_path / "out"), cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pesa 50" in proc.stderr and "limits.input_max_mb" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_input_rows_and_suites_are_bounded(tmp_path):
    from audit.content.suites import load_suite_file
    from audit.csvfiles import LIMITS, configure_input_limits
    from audit.indicator import load_commitments

    saved = (LIMITS.max_bytes, LIMITS.max_rows, LIMITS.suite_max_bytes)
    try:
        configure_input_limits(20, 100, 0.5)
        rows = tmp_path / "c.csv"
        rows.write_text("organization,dataset,due_date\n" + "org,conjunto,2026-06-30\n" * 101, encoding="utf-8")
        with pytest.raises(InputFileError, match="más de 100 filas"):
            load_commitments(rows)
        suite = tmp_path / "suite.json"
        suite.write_text('{"expectations": [' + ",".join(['{"type": "x"}'] * 60_000) + "]}", encoding="utf-8")
        with pytest.raises(InputFileError, match="limits.suite_max_mb"):
            load_suite_file(suite)
    finally:
        LIMITS.max_bytes, LIMITS.max_rows, LIMITS.suite_max_bytes = saved


# ------------------------------------------------------------------------------------------------ results folder
@contextlib.contextmanager
def _tmpfs(path: Path, size: str, *, read_only: bool = False):
    """A real, tiny file system (root only): a full disk or a read-only folder without pretending."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _cfg(tmp_path: Path, **extra: object) -> Path:
    data = {"http": {"connect_timeout_s": 3, "read_timeout_s": 5, "total_timeout_s": 15, "retries": 1,
                     "backoff_base_s": 0.05},
            "content": {"enabled": False}, "reports": {"pdf": False}, **extra}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_unwritable_or_uncreatable_out_is_refused_before_the_crawl(tmp_path, sample_portal):
    blocker = tmp_path / "archivo"
    blocker.write_text("no soy una carpeta")
    cfg = _cfg(tmp_path)
    with _tmpfs(tmp_path / "solo-lectura", "1m", read_only=True) as ro:
        for out in (ro / "salida", blocker / "salida"):
            before = len(sample_portal.calls)
            proc = _cli("audit", "--portal", sample_portal.url, "--config", str(cfg), "--db",
                        f"sqlite:///{tmp_path / 'a.db'}", "--out", str(out), cwd=tmp_path)
            assert proc.returncode == 2, proc.stdout + proc.stderr
            assert "carpeta de resultados" in proc.stderr and "Traceback" not in proc.stderr
            assert len(sample_portal.calls) == before  # not even the portal was contacted


def test_out_without_the_minimum_free_space_is_refused_before_the_crawl(tmp_path, sample_portal):
    with _tmpfs(tmp_path / "chico", "2m") as small:
        before = len(sample_portal.calls)
        proc = _cli("audit", "--portal", sample_portal.url, "--config", str(_cfg(tmp_path)), "--db",
                    f"sqlite:///{tmp_path / 'a.db'}", "--out", str(small), cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "MB libres" in proc.stderr and "limits.out_min_free_mb" in proc.stderr
        assert len(sample_portal.calls) == before


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_disk_that_fills_while_writing_leaves_the_previous_set_and_a_resumable_run(tmp_path, sample_portal):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    cfg = _cfg(tmp_path, limits={"out_min_free_mb": 0.1})
    args = ("audit", "--year", "2026", "--portal", sample_portal.url, "--config", str(cfg), "--db", db)
    with _tmpfs(tmp_path / "lleno", "8m") as out:
        previous = out / "2026"  # another run's complete set
        previous.mkdir()
        (previous / "scores.csv").write_text("corrida anterior\n", encoding="utf-8")
        (previous / ".corrida").write_text("999\n", encoding="ascii")
        before = _digest(previous)
        filler = out / "relleno"
        filler.write_bytes(b"\0" * (shutil.disk_usage(out).free - 160 * 1024))  # 160 KB left: passes the check
        proc = _cli(*args, "--out", str(out), cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "No queda espacio" in proc.stderr and "audit --resume" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert _digest(previous) == before  # untouched
        assert _latest(db)[0] == "interrupted"
        filler.unlink()  # room again
        proc = _cli(*args, "--resume", "--out", str(out), cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert _latest(db)[0] == "complete"
        assert "corrida anterior" not in (previous / "scores.csv").read_text(encoding="utf-8")
        assert (previous / "MANIFEST.sha256").is_file() and (previous / "reports" / "index.html").is_file()
        assert list(out.glob(".2026.corrida-*")) == []


def _latest(db: str) -> tuple[str, str | None]:
    from sqlalchemy import select

    from audit.store import AuditRun, open_store

    store = open_store(db, migrate_schema=False)
    try:
        with store.session() as s:
            run = s.scalar(select(AuditRun).order_by(AuditRun.id.desc()).limit(1))
            assert run is not None
            return run.status, run.error
    finally:
        store.close()


# ------------------------------------------------------------------------------------------------ smaller things
def test_a_run_left_running_by_a_killed_process_shows_and_becomes_interrupted(tmp_path):
    from audit.config import AuditConfig
    from audit.runs import create_run, recover_abandoned_runs
    from audit.status import status_data
    from audit.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    portal_id = store.get_or_create_portal("https://muerto.invalid")
    run_id = create_run(store, portal_id, AuditConfig())  # "running", and no process holds the lock
    shown = next(r for r in status_data(store, AuditConfig())["runs"] if r["id"] == run_id)
    assert shown["status"] == "interrupted" and shown["abandoned"]
    assert recover_abandoned_runs(store, portal_id) == [run_id]  # what the next audit of the portal does
    assert _latest(f"sqlite:///{tmp_path / 'a.db'}")[0] == "interrupted"


def test_config_errors_are_spanish_and_name_the_flag_that_was_wrong(tmp_path):
    from audit.config import load_config

    bad = tmp_path / "config.yaml"
    bad.write_text("http:\n  connect_timeout_s: abc\n  retries: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    message = str(info.value)
    assert "debe ser un número" in message and "mayor o igual que 0" in message
    assert "Input should" not in message
    with pytest.raises(ConfigError) as info:
        load_config(None, {"portal_url": "datos.edomex.gob.mx"})
    assert "--portal" in str(info.value) and "config.yaml" not in str(info.value)


def test_resume_with_nothing_to_resume_says_so(tmp_path, sample_portal, fast_cfg):
    from audit.pipeline import run_audit
    from audit.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    outcome = run_audit(fast_cfg, store, portal_url=sample_portal.url, resume=True, stages=("crawl",))
    assert outcome.nothing_to_resume and outcome.status == "partial"
    proc = _cli("crawl", "--resume", "--portal", sample_portal.url, "--db", f"sqlite:///{tmp_path / 'a.db'}",
                cwd=tmp_path)
    assert proc.returncode == 0 and "No había una corrida interrumpida" in proc.stderr


# ------------------------------------------------------------------------------------------------ report size
def test_an_oversized_report_fails_and_makes_the_exit_code_non_zero(tmp_path):
    """The HTML is measured before it is written or laid out as a PDF (a 215 MB report once took a PDF worker to
    16 GB); the failure is recorded and the command exits 1, the run's data stays complete."""
    import typer
    from test_reports_actions import ORG, build

    from audit.cli import _finish
    from audit.config import load_config
    from audit.pipeline import AuditOutcome, run_stage

    store, run_id = build(tmp_path / "a.db", {ORG: "Secretaría de Movilidad"})
    cfg = load_config(None, {"output_dir": str(tmp_path / "out"), "reports": {"pdf": False, "workers": 1},
                             "limits": {"report_max_mb": 0.01, "out_min_free_mb": 0}})
    counts = run_stage("report", store, run_id, cfg)
    assert counts["report_errors"] == 2 and counts["reports"] == 0  # the portal's and the organization's
    with pytest.raises(typer.Exit) as info:
        _finish(AuditOutcome(run_id=run_id, status="complete", year=2026, counts=counts))
    assert info.value.exit_code == 1
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"reports": {"pdf": False}, "limits": {"report_max_mb": 0.01}}), encoding="utf-8")
    proc = _cli("report", "--run", str(run_id), "--config", str(config), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "limits.report_max_mb" in proc.stderr and "Traceback" not in proc.stderr


def test_memory_cap_fails_one_report_clearly_and_restores_the_limit():
    """limits.report_worker_memory_mb: RLIMIT_AS while a report is laid out; beyond it the report fails with a
    Spanish message naming the setting, and the process can still allocate afterwards."""
    code = """
import resource
from reports.render import ReportMemoryError, memory_cap
vm_mb = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize:')) / 1024
try:
    with memory_cap(vm_mb + 64):
        block = bytearray(512 * 2**20)  # far beyond the cap
    print('no error')
except ReportMemoryError as exc:
    print('capped:', exc)
after = bytearray(512 * 2**20)  # the previous limit is back
print('soft limit restored:', resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY, len(after))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert "capped: memoria insuficiente" in out.stdout and "limits.report_worker_memory_mb" in out.stdout
    assert f"soft limit restored: True {512 * 2**20}" in out.stdout


def test_reports_beyond_the_worker_memory_cap_fail_with_a_clear_message(tmp_path):
    from test_reports_store import open_populated

    from audit.config import load_config
    from reports.render import render_reports

    built = open_populated(f"sqlite:///{tmp_path / 'r.db'}", orgs=5, datasets_per_org=1)
    # 256 MB of address space is below what a PDF worker maps once WeasyPrint is loaded: every report fails
    cfg = load_config(None, {"limits": {"report_worker_memory_mb": 256}})
    one = built.org_names[0]
    out = render_reports(built.store, built.runs[2026], tmp_path / "out", cfg=cfg, workers=2, organizations=[one],
                         include_portal=True)
    # either the allocation fails in Python (ReportMemoryError) or a C library aborts and takes the worker down
    # (tried again, then alone, then reported): the message names the setting either way, and the run goes on
    assert set(out.errors) == {"portal", one}, out.errors
    assert all("limits.report_worker_memory_mb" in msg for msg in out.errors.values()), out.errors
    assert out.portal_pdf is None and out.organizations == {}
