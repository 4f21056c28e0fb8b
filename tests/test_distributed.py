"""execution.backend: distributed, for real: PostgreSQL, Redis and `run_audit.py worker` subprocesses.

One full audit of the sample portal on two workers, one of them SIGKILLed while it validates a file, must give
the same scores.csv as a local run, with exactly one content row per file; a host's requests stay within
http.per_host_concurrency however many workers probe it; no worker → a Spanish error, not a hang.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from distributed_helpers import Workers, redis_database, write_config
from sqlalchemy import func, select, text

from audit.config import AuditConfig, load_config
from audit.pipeline import run_audit
from audit.sample_portal import SamplePortal
from audit.sample_portal.tracking import TrackingPortal
from audit.store import open_store
from audit.store.models import AuditRun, ContentCheck, Probe, ResourceSnapshot

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]

HTTP = {"connect_timeout_s": 3, "read_timeout_s": 5, "total_timeout_s": 15, "retries": 1, "backoff_base_s": 0.05,
        "retry_after_cap_s": 2}


@pytest.fixture(scope="module")
def cluster(postgres_server_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A fresh PostgreSQL schema, a Redis database of our own and two single-process workers."""
    from sqlalchemy import create_engine

    engine = create_engine(postgres_server_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    engine.dispose()
    open_store(postgres_server_url).close()  # migrate once, before the workers connect
    tmp = tmp_path_factory.mktemp("distributed")
    with redis_database() as broker:
        config = write_config(tmp / "worker.yaml", postgres_server_url, broker)
        workers = Workers(config, tmp)
        try:
            workers.start(2)
            workers.wait_ready(broker, 2)
            yield {"db": postgres_server_url, "broker": broker, "workers": workers, "tmp": tmp}
        finally:
            workers.stop()


def _cfg(tmp: Path, **over: object) -> AuditConfig:
    return load_config(None, {"output_dir": str(tmp / "out"), "http": HTTP, "reports": {"enabled": False}, **over})


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


def _scores(path: Path) -> list[dict[str, str]]:
    """scores.csv rows, timestamps masked (the sample portal dates its files from the clock)."""
    rows = [{k: _TIMESTAMP.sub("<t>", v) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))]
    return sorted(rows, key=lambda r: (r.get("organization", ""), r.get("dataset", "")))


def _same(a: dict[str, str], b: dict[str, str]) -> bool:
    """Equal rows; *oportunos* scores decay with the file's age on the clock, so the minute or two between the
    two runs may move them in the fourth decimal."""
    if a["characteristic"] == "oportunos" and a["score"] and b["score"]:
        return {**a, "score": ""} == {**b, "score": ""} and abs(float(a["score"]) - float(b["score"])) <= 0.002
    return a == b


def test_distributed_audit_equals_local_despite_a_killed_worker(cluster, tmp_path):  # type: ignore[no-untyped-def]
    with TrackingPortal() as portal:
        local_cfg = _cfg(tmp_path / "local", database_url=f"sqlite:///{tmp_path / 'local.db'}")
        t0 = time.monotonic()
        local = run_audit(local_cfg, open_store(local_cfg.database_url), portal_url=portal.url)
        assert local.status == "complete"
        print(f"local audit: {time.monotonic() - t0:.1f} s")

        cfg = _cfg(tmp_path / "dist", database_url=cluster["db"],
                   execution={"backend": "distributed", "broker_url": cluster["broker"], "worker_wait_s": 20,
                              "visibility_timeout_s": 8})
        store = open_store(cfg.database_url)
        killed: dict[str, object] = {}

        def kill_one_worker_mid_file() -> None:
            # once content validation is under way, slow the files and SIGKILL worker 0 while it holds one
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                with store.session() as s:
                    stage = s.scalar(select(AuditRun.stage).order_by(AuditRun.id.desc()).limit(1))
                    done = s.scalar(select(func.count()).select_from(ContentCheck))
                if stage == "content" and done:
                    portal.file_delay = 1.0
                    time.sleep(1.5)  # both workers are now inside a slow download
                    killed["rows_before"] = done
                    cluster["workers"].kill(0)
                    portal.file_delay = 0.0
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_one_worker_mid_file, daemon=True)
        killer.start()
        t0 = time.monotonic()
        outcome = run_audit(cfg, store, portal_url=portal.url)
        elapsed = time.monotonic() - t0
        killer.join(5)
    assert outcome.status == "complete"
    assert "rows_before" in killed, "the worker was not killed during content validation"
    assert cluster["workers"].procs[0].returncode == -9

    with store.session() as s:
        per_resource = Counter(s.scalars(select(ContentCheck.resource_snapshot_id)
                                         .where(ContentCheck.run_id == outcome.run_id)))
        probes = s.scalar(select(func.count()).select_from(Probe).where(Probe.run_id == outcome.run_id))
        resources = s.scalar(select(func.count()).select_from(ResourceSnapshot)
                             .where(ResourceSnapshot.run_id == outcome.run_id))
    local_store = open_store(local_cfg.database_url)
    with local_store.session() as s:
        local_checks = s.scalar(select(func.count()).select_from(ContentCheck).where(ContentCheck.run_id == local.run_id))
    assert probes == resources
    assert set(per_resource.values()) == {1}  # none twice …
    assert len(per_resource) == local_checks  # … none missing
    dist_rows, local_rows = _scores(Path(outcome.out_dir) / "scores.csv"), _scores(Path(local.out_dir) / "scores.csv")
    diffs = [(a, b) for a, b in zip(dist_rows, local_rows, strict=True) if not _same(a, b)]
    assert not diffs, "\n".join(f"{k}: {a[k]!r} != {b[k]!r}" for a, b in diffs[:3] for k in a if a[k] != b[k])
    print(f"distributed audit with a killed worker: {elapsed:.1f} s")
    assert len(dist_rows) > 500


def test_per_host_limit_holds_across_workers(cluster, tmp_path):  # type: ignore[no-untyped-def]
    # the other worker was killed above; start two more so several batches of one host could run at once
    workers = cluster["workers"]
    alive = sum(p.poll() is None for p in workers.procs)
    workers.start(2, concurrency=2, queues="probe")
    workers.wait_ready(cluster["broker"], alive + 2)
    with TrackingPortal(synthetic=60) as portal:
        portal.file_delay = 0.05  # long enough for requests to overlap
        cfg = _cfg(tmp_path, database_url=cluster["db"], content={"enabled": False},
                   http={**HTTP, "per_host_concurrency": 2},
                   execution={"backend": "distributed", "broker_url": cluster["broker"], "probe_batch_size": 5,
                              "visibility_timeout_s": 600})  # long enough for batches of 5 (coordinator.probe_batch_size)
        outcome = run_audit(cfg, open_store(cfg.database_url), portal_url=portal.url, stages=("crawl", "probe"))
        peak = portal.peak
    assert outcome.status == "partial"
    assert peak == 2, f"peak in-flight requests to the host: {peak}"  # reached, never exceeded


def test_no_worker_is_a_spanish_error_not_a_hang(postgres_server_url, tmp_path):  # type: ignore[no-untyped-def]
    from audit.distributed.coordinator import WorkersUnavailable

    with redis_database() as broker, SamplePortal() as portal:
        cfg = _cfg(tmp_path, database_url=postgres_server_url, content={"enabled": False},
                   execution={"backend": "distributed", "broker_url": broker, "worker_wait_s": 3})
        t0 = time.monotonic()
        store = open_store(cfg.database_url)
        with pytest.raises(WorkersUnavailable, match="Ningún trabajador respondió"):
            run_audit(cfg, store, portal_url=portal.url, stages=("crawl", "probe"))
    assert time.monotonic() - t0 < 30
    # resumable once a worker is started: the run is «interrupted» (kept for --resume), not «failed»
    from audit.store.models import AuditRun

    with store.session() as s:
        last = s.scalars(select(AuditRun).order_by(AuditRun.id.desc())).first()
        assert last is not None and last.status == "interrupted" and "Ningún trabajador" in (last.error or "")


def test_distributed_refuses_sqlite(tmp_path):  # type: ignore[no-untyped-def]
    from audit.errors import ConfigError

    with pytest.raises(ConfigError, match="distributed requiere PostgreSQL"):
        load_config(None, {"database_url": f"sqlite:///{tmp_path / 'a.db'}", "execution": {"backend": "distributed"}})


def test_compose_file_describes_the_distributed_deployment() -> None:
    # docker is not available here: the file is checked as YAML, against the commands it runs
    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[1] / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "programador", "tablero", "trabajador"} <= set(services)
    worker = services["trabajador"]
    assert worker["command"][:3] == ["python", "run_audit.py", "worker"] and "--queues" in worker["command"]
    assert {"postgres", "redis"} <= set(worker["depends_on"])
    assert services["programador"]["command"][2] == "schedule" and services["tablero"]["command"][2] == "serve"
