"""The scheduled service: cron parsing, jobs persisted in the database, short crons firing, missed runs coalesced
on restart, graceful stop on SIGTERM, and (with the pipeline) SIGTERM mid-run then resume."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from audit.config import AuditConfig
from audit.errors import ConfigError
from audit.scheduler import (
    ANNUAL_JOB_ID,
    PERIODIC_JOB_ID,
    build_scheduler,
    next_jobs,
    parse_cron,
    periodic_audit_job,
    schedule_job,
)

MX = ZoneInfo("America/Mexico_City")
REPO = Path(__file__).resolve().parents[1]


def record_fire(path: str) -> None:
    """A cheap job for timing tests: append the wall-clock time it ran."""
    with open(path, "a") as fh:
        fh.write(f"{time.time()}\n")


def _fires(path: Path) -> list[float]:
    return [float(x) for x in path.read_text().split()] if path.exists() else []


def _cfg(tmp_path: Path, **schedule) -> AuditConfig:
    return AuditConfig.model_validate({
        "database_url": f"sqlite:///{tmp_path / 'audit.db'}",
        "output_dir": str(tmp_path / "salida"),
        "schedule": schedule,
    })


def _wait_for(cond, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


# --- cron -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("30 2 * * mon", datetime(2026, 11, 29, 12, 0, tzinfo=MX), datetime(2026, 11, 30, 2, 30, tzinfo=MX)),
        ("30 2 * * 1", datetime(2026, 11, 29, 12, 0, tzinfo=MX), datetime(2026, 11, 30, 2, 30, tzinfo=MX)),  # crontab 1 = Monday
        ("0 9 * * 0", datetime(2026, 11, 26, 12, 0, tzinfo=MX), datetime(2026, 11, 29, 9, 0, tzinfo=MX)),  # 0 = Sunday
        ("0 9 * * 7", datetime(2026, 11, 26, 12, 0, tzinfo=MX), datetime(2026, 11, 29, 9, 0, tzinfo=MX)),  # 7 = Sunday
        ("0 9 * * 5-7", datetime(2026, 11, 26, 12, 0, tzinfo=MX), datetime(2026, 11, 27, 9, 0, tzinfo=MX)),  # Fri–Sun
        ("0 6 15 1 *", datetime(2026, 11, 26, 12, 0, tzinfo=MX), datetime(2027, 1, 15, 6, 0, tzinfo=MX)),
        ("*/5 * * * * *", datetime(2026, 11, 26, 12, 0, 1, tzinfo=MX), datetime(2026, 11, 26, 12, 0, 5, tzinfo=MX)),
    ],
)
def test_cron_expressions_follow_crontab_meaning_in_mexico_city_time(expr, after, expected):
    trigger = parse_cron(expr, "America/Mexico_City")
    assert trigger.get_next_fire_time(None, after) == expected


@pytest.mark.parametrize("expr", ["30 2 * *", "61 2 * * mon", "30 2 * * 9", "cada lunes", ""])
def test_invalid_cron_is_a_clear_config_error(expr):
    with pytest.raises(ConfigError, match="Expresión cron inválida en schedule.periodic_cron"):
        parse_cron(expr, "America/Mexico_City", key="schedule.periodic_cron")


def test_unknown_timezone_is_a_config_error():
    with pytest.raises(ConfigError, match="Zona horaria desconocida"):
        parse_cron("0 6 * * *", "Mexico/Narnia")


# --- jobs in the database ---------------------------------------------------------------------------------------


def test_configured_jobs_are_stored_in_the_audit_database_with_defaults(tmp_path):
    cfg = _cfg(tmp_path)
    sched = build_scheduler(cfg, blocking=False)
    sched.start(paused=True)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {PERIODIC_JOB_ID, ANNUAL_JOB_ID}
        periodic, annual = jobs[PERIODIC_JOB_ID], jobs[ANNUAL_JOB_ID]
        assert periodic.coalesce is True and periodic.max_instances == 1
        assert periodic.misfire_grace_time == cfg.schedule.misfire_grace_s
        assert periodic.func_ref == "audit.scheduler:periodic_audit_job"
        assert annual.func_ref == "audit.scheduler:annual_evaluation_job"
        nxt = periodic.next_run_time.astimezone(MX)
        assert (nxt.weekday(), nxt.hour, nxt.minute) == (0, 2, 30)  # Monday 02:30 local
        nxt = annual.next_run_time.astimezone(MX)
        assert (nxt.month, nxt.day, nxt.hour) == (1, 15, 6)
        # the job can rebuild this exact config in its thread
        assert periodic.kwargs["overrides"]["database_url"] == cfg.database_url
    finally:
        sched.shutdown()
    listed = {j["id"]: j for j in next_jobs(cfg)}  # what `status` shows, read back from the database
    assert set(listed) == {PERIODIC_JOB_ID, ANNUAL_JOB_ID}
    assert listed[PERIODIC_JOB_ID]["next_run_time"]
    assert listed[PERIODIC_JOB_ID]["trigger"] == "30 2 * * mon"
    assert listed[ANNUAL_JOB_ID]["trigger"] == "0 6 15 1 *"


def test_changing_the_config_and_restarting_replaces_the_jobs(tmp_path):
    sched = build_scheduler(_cfg(tmp_path), blocking=False)
    sched.start(paused=True)
    sched.shutdown()
    sched = build_scheduler(_cfg(tmp_path, periodic_cron="15 4 * * *", annual_enabled=False), blocking=False)
    sched.start(paused=True)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {PERIODIC_JOB_ID}  # the disabled annual job is gone
        nxt = jobs[PERIODIC_JOB_ID].next_run_time.astimezone(MX)
        assert (nxt.hour, nxt.minute) == (4, 15)
    finally:
        sched.shutdown()


def test_short_cron_fires_the_job_every_second(tmp_path):
    log = tmp_path / "fires.txt"
    sched = build_scheduler(_cfg(tmp_path), blocking=False, jobs=False)
    schedule_job(sched, record_fire, parse_cron("* * * * * *", "America/Mexico_City"), "tick",
                 kwargs={"path": str(log)})
    sched.start()
    try:
        assert _wait_for(lambda: len(_fires(log)) >= 3, timeout=5), _fires(log)
    finally:
        sched.shutdown()
    fires = _fires(log)
    assert all(0.5 < b - a < 1.5 for a, b in zip(fires, fires[1:], strict=False)), fires


def _start_then_stop_before_fire(tmp_path: Path, cfg: AuditConfig, log: Path, fire_at: datetime) -> None:
    trigger = parse_cron(f"{fire_at.second} {fire_at.minute} {fire_at.hour} * * *", cfg.timezone)
    sched = build_scheduler(cfg, blocking=False, jobs=False)
    schedule_job(sched, record_fire, trigger, "daily", kwargs={"path": str(log)})
    sched.start()
    sched.shutdown()  # the service goes down before the daily run is due …


def test_run_missed_while_down_runs_once_on_restart_within_grace(tmp_path):
    cfg = _cfg(tmp_path, misfire_grace_s=3600)
    log = tmp_path / "fires.txt"
    fire_at = datetime.now(MX).replace(microsecond=0) + timedelta(seconds=2)
    _start_then_stop_before_fire(tmp_path, cfg, log, fire_at)
    _wait_for(lambda: datetime.now(MX) > fire_at + timedelta(seconds=1), timeout=5)  # … and misses it
    assert _fires(log) == []
    sched = build_scheduler(cfg, blocking=False, jobs=False)  # restart with the same config
    schedule_job(sched, record_fire, parse_cron(f"{fire_at.second} {fire_at.minute} {fire_at.hour} * * *",
                                                cfg.timezone), "daily", kwargs={"path": str(log)})
    sched.start()
    try:
        assert _wait_for(lambda: len(_fires(log)) == 1, timeout=3)
        time.sleep(0.3)
        assert len(_fires(log)) == 1
        assert sched.get_job("daily").next_run_time.astimezone(MX).date() == (fire_at + timedelta(days=1)).date()
    finally:
        sched.shutdown()


def test_run_missed_beyond_the_grace_time_is_skipped(tmp_path):
    cfg = _cfg(tmp_path, misfire_grace_s=1)
    log = tmp_path / "fires.txt"
    fire_at = datetime.now(MX).replace(microsecond=0) + timedelta(seconds=1)
    _start_then_stop_before_fire(tmp_path, cfg, log, fire_at)
    _wait_for(lambda: datetime.now(MX) > fire_at + timedelta(seconds=2.2), timeout=6)
    sched = build_scheduler(cfg, blocking=False, jobs=False)
    schedule_job(sched, record_fire, parse_cron(f"{fire_at.second} {fire_at.minute} {fire_at.hour} * * *",
                                                cfg.timezone), "daily", kwargs={"path": str(log)})
    sched.start()
    try:
        time.sleep(0.8)
        assert _fires(log) == []
    finally:
        sched.shutdown()


def test_several_missed_runs_are_coalesced_into_one(tmp_path):
    cfg = _cfg(tmp_path, misfire_grace_s=3600)
    log = tmp_path / "fires.txt"
    trigger = "*/2 * * * * *"  # every 2 seconds
    sched = build_scheduler(cfg, blocking=False, jobs=False)
    schedule_job(sched, record_fire, parse_cron(trigger, cfg.timezone), "tick", kwargs={"path": str(log)})
    sched.start()
    assert _wait_for(lambda: len(_fires(log)) >= 1, timeout=4)
    sched.shutdown()
    before = len(_fires(log))
    time.sleep(4.6)  # two or three fire times pass while down
    # restart right after an even second, so the next regular fire is ~2 s away
    _wait_for(lambda: 0.05 < time.time() % 2 < 0.3, timeout=3, step=0.01)
    sched = build_scheduler(cfg, blocking=False, jobs=False)
    schedule_job(sched, record_fire, parse_cron(trigger, cfg.timezone), "tick", kwargs={"path": str(log)})
    sched.start()
    try:
        time.sleep(1.0)
        assert len(_fires(log)) - before == 1  # one catch-up run, not one per missed time
    finally:
        sched.shutdown()


# --- the service process ------------------------------------------------------------------------------------------

SERVICE = r"""
import sys
from audit.config import load_config
from audit.logsetup import configure_logging
from audit.scheduler import run_scheduler
configure_logging("INFO")
cfg = load_config(sys.argv[1])
run_scheduler(cfg, sys.argv[1])
"""


def _write_config(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _start_service(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", SERVICE, str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=config.parent,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))


def _read_json_lines_until(proc: subprocess.Popen[str], needle: str, timeout: float) -> list[dict]:
    assert proc.stderr is not None
    lines: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = proc.stderr.readline()
        if not raw:
            break
        lines.append(json.loads(raw))  # not a TTY: every line is a JSON object
        if needle in lines[-1]["msg"]:
            return lines
    raise AssertionError(f"{needle!r} not logged; got {[r['msg'] for r in lines]}")


def test_service_logs_json_lines_and_stops_cleanly_on_sigterm(tmp_path):
    config = _write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'audit.db'}",
                                      "schedule": {"periodic_enabled": True, "annual_enabled": True}})
    proc = _start_service(config)
    try:
        lines = _read_json_lines_until(proc, "event=started", timeout=20)
        assert any("job=periodic-audit" in r["msg"] for r in lines)
        assert all({"ts", "level", "logger", "msg"} <= set(r) for r in lines)
        proc.send_signal(signal.SIGTERM)
        rest = _read_json_lines_until(proc, "event=stopped", timeout=10)
        assert any("event=stopping signal=SIGTERM" in r["msg"] for r in rest)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_job_without_portal_logs_an_error_and_does_not_raise(tmp_path, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./config.yaml with a real portal in it
    config = _write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'audit.db'}"})
    with caplog.at_level(logging.ERROR, logger="audit.scheduler"):
        periodic_audit_job(str(config), {})
    assert "reason=no_portal" in caplog.text


# --- with the pipeline --------------------------------------------------------------------------------------------


def _results(db_url: str) -> tuple[list[tuple], list]:
    from sqlalchemy import select

    from audit.store.db import open_store
    from audit.store.models import AuditRun, DatasetSnapshot, RuleResultRecord

    store = open_store(db_url)
    try:
        with store.session() as s:
            rows = s.execute(
                select(DatasetSnapshot.name, RuleResultRecord.characteristic, RuleResultRecord.status,
                       RuleResultRecord.score)
                .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
            ).all()
            runs = s.execute(select(AuditRun.id, AuditRun.status)).all()
        return sorted(tuple(r) for r in rows), [tuple(r) for r in runs]
    finally:
        store.close()


@pytest.mark.slow
def test_sigterm_mid_run_then_resume_gives_the_same_final_result(tmp_path):
    try:
        from audit.pipeline import run_audit
        from audit.sample_portal import SamplePortal
    except ImportError as exc:
        pytest.skip(f"necesita audit.pipeline y audit.sample_portal (aún no disponibles: {exc})")
    from audit.config import load_config
    from audit.store.db import open_store

    with SamplePortal(synthetic=60) as portal:
        base = {
            "portal_url": portal.url,
            "content": {"enabled": False},
            "reports": {"enabled": False},
            "crawl": {"batch_size": 5},  # many batches: many points where a stop is honoured
            "http": {"retries": 0},
            "probe": {"sniff_bytes": 4096},
        }
        # the reference: one uninterrupted audit
        ref_db = f"sqlite:///{tmp_path / 'ref.db'}"
        ref_cfg = load_config(_write_config(tmp_path, {**base, "database_url": ref_db}))
        ref_store = open_store(ref_db)
        assert run_audit(ref_cfg, ref_store, portal_url=portal.url).status == "complete"
        ref_store.close()

        (tmp_path / "svc").mkdir()
        db = f"sqlite:///{tmp_path / 'svc' / 'audit.db'}"
        config = _write_config(tmp_path / "svc", {
            **base, "database_url": db,
            "schedule": {"periodic_cron": "* * * * * *", "annual_enabled": False},
        })
        proc = _start_service(config)
        try:
            store = open_store(db)
            from audit.store.models import AuditRun

            def running() -> bool:
                with store.session() as s:
                    return s.query(AuditRun).filter(AuditRun.status == "running").count() > 0

            assert _wait_for(running, timeout=30)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        _, runs = _results(db)
        assert [status for _, status in runs] == ["interrupted"]

        # the next start resumes it (periodic job far away: only the resume job runs)
        config = _write_config(tmp_path / "svc", {
            **base, "database_url": db, "schedule": {"periodic_cron": "0 0 1 1 *", "annual_enabled": False},
        })
        proc = _start_service(config)
        try:
            def complete() -> bool:
                return [s for _, s in _results(db)[1]] == ["complete"]

            assert _wait_for(complete, timeout=120, step=0.5)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        store.close()
        resumed, runs = _results(db)
        reference, _ = _results(ref_db)
        assert len(runs) == 1  # the same run was continued, not a new one
        assert resumed == reference


# --- status -------------------------------------------------------------------------------------------------------


def test_status_shows_last_runs_lock_holder_and_next_jobs(tmp_path):
    from io import StringIO

    from rich.console import Console

    from audit.locking import audit_lock
    from audit.status import print_status, status_data, status_json
    from audit.store.db import open_store, utcnow
    from audit.store.models import AuditRun, Portal, RunError

    cfg = _cfg(tmp_path)
    store = open_store(cfg.database_url)
    now = utcnow()
    with store.session() as s:
        portal = Portal(url="http://127.0.0.1:5000", created_at=now)
        s.add(portal)
        s.flush()
        done = AuditRun(portal_id=portal.id, started_at=now - timedelta(hours=2), status="complete", year=2026,
                        finished_at=now - timedelta(hours=1, minutes=30), kind="periodic", stage="report",
                        counts={"datasets": 69, "resources": 180}, stages_done=[], crawl_state={})
        failed = AuditRun(portal_id=portal.id, started_at=now - timedelta(minutes=10), status="failed", year=2026,
                          finished_at=now - timedelta(minutes=9), kind="manual", stage="crawl", counts={},
                          stages_done=[], crawl_state={}, error="No se pudo conectar")
        s.add_all([done, failed])
        s.flush()
        s.add_all([RunError(run_id=failed.id, stage="crawl", code=c, message="m", created_at=now) for c in "xy"])
    sched = build_scheduler(cfg, blocking=False)
    sched.start(paused=True)
    sched.shutdown()

    with audit_lock(store, "http://127.0.0.1:5000", holder="programador@servidor"):
        data = status_data(store, cfg)
        json.loads(status_json(data))  # --json output is valid JSON
        console = Console(file=StringIO(), width=160, record=True)
        print_status(data, console)
        text = console.export_text()
    store.close()

    assert [r["status"] for r in data["runs"]] == ["failed", "complete"]
    assert data["runs"][1]["duration_s"] == 1800.0 and data["runs"][1]["datasets"] == 69
    assert data["runs"][0]["errors"] == 2
    assert data["locks"][0]["holder"] == "programador@servidor" and not data["locks"][0]["stale"]
    assert {j["id"] for j in data["jobs"]} == {PERIODIC_JOB_ID, ANNUAL_JOB_ID}
    assert "Últimas corridas" in text and "fallida" in text and "30 min 00 s" in text and "30 2 * * mon" in text
    assert "programador@servidor" in text
    assert "Auditoría periódica" in text


def _sample_config(tmp_path: Path, portal_url: str) -> Path:
    return _write_config(tmp_path, {
        "portal_url": portal_url, "database_url": f"sqlite:///{tmp_path / 'audit.db'}",
        "output_dir": str(tmp_path / "salida"), "content": {"enabled": False}, "reports": {"enabled": False},
        "http": {"retries": 0}, "probe": {"sniff_bytes": 4096},
    })


def test_scheduled_audit_skips_politely_while_another_process_holds_the_lock(tmp_path, caplog):
    try:
        from audit.sample_portal import SamplePortal
    except ImportError as exc:
        pytest.skip(f"necesita audit.sample_portal: {exc}")
    from audit.locking import audit_lock
    from audit.store.db import open_store
    from audit.store.models import AuditRun

    with SamplePortal(synthetic=5) as portal:
        config = _sample_config(tmp_path, portal.url)
        store = open_store(f"sqlite:///{tmp_path / 'audit.db'}")
        try:
            with audit_lock(store, portal.url, holder="auditoría manual de Ana"):
                with caplog.at_level(logging.WARNING, logger="audit.scheduler"):
                    periodic_audit_job(str(config), {})
            with store.session() as s:
                assert s.query(AuditRun).count() == 0  # nothing was audited
        finally:
            store.close()
    assert "reason=lock_held" in caplog.text and "auditoría manual de Ana" in caplog.text


@pytest.mark.slow
def test_annual_job_produces_the_previous_year_evaluation(tmp_path):
    try:
        from audit.sample_portal import SamplePortal
    except ImportError as exc:
        pytest.skip(f"necesita audit.sample_portal: {exc}")
    from audit.scheduler import annual_evaluation_job

    previous_year = datetime.now(MX).year - 1
    with SamplePortal(synthetic=10) as portal:
        annual_evaluation_job(str(_sample_config(tmp_path, portal.url)), {})
    year_dir = tmp_path / "salida" / str(previous_year)
    assert (year_dir / "scores.csv").is_file() and (year_dir / "organizations.csv").is_file()
