"""Benchmark of execution.backend: distributed (issue 18): probe and content throughput with 1, 2 and 4 worker
processes on this machine, per-task overhead against local, and the peak of file requests in flight per host.

Crawls a synthetic portal once into PostgreSQL, then times the probe and content stages of fresh copies of that
run: locally (content.workers = 1 and = N) and on N = 1, 2, 4 single-process workers (`run_audit.py worker`)
started here. Every file answer is delayed by --latency-ms (the synthetic portal's latency setting).

    .venv/bin/python benchmarks/bench_distributed.py [--synthetic 200] [--latency-ms 50] [--json out.json]

Needs PostgreSQL (AUDIT_TEST_POSTGRES_URL's server) and Redis (database 13).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import psycopg  # noqa: E402
from distributed_helpers import Workers, write_config  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from audit.config import load_config  # noqa: E402
from audit.pipeline import run_audit, run_stage  # noqa: E402
from audit.sample_portal.tracking import TrackingPortal  # noqa: E402
from audit.store import open_store  # noqa: E402
from audit.store.models import ContentCheck  # noqa: E402

PG = os.environ.get("AUDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BROKER = "redis://127.0.0.1:6379/13"
HTTP = {"connect_timeout_s": 3, "read_timeout_s": 10, "total_timeout_s": 30, "retries": 1, "backoff_base_s": 0.05,
        "per_host_concurrency": 4}


def _database() -> str:
    name = f"bench_dist_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _timed(portal: TrackingPortal, cfg: Any, store: Any, run_id: int, stage: str) -> dict[str, Any]:
    portal.peak = 0
    t0 = time.perf_counter()
    run_stage(stage, store, run_id, cfg)
    return {"s": round(time.perf_counter() - t0, 2), "peak_in_flight": portal.peak}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    results: dict[str, Any] = {"synthetic": args.synthetic, "latency_ms": args.latency_ms,
                               "per_host_concurrency": HTTP["per_host_concurrency"], "runs": {}}
    tmp = Path(tempfile.mkdtemp(prefix="bench_dist_"))
    plans: list[tuple[str, int, int]] = [("local_1", 1, 0), ("local_4", 4, 0)]
    plans += [(f"distributed_{n}", 1, n) for n in (int(x) for x in args.workers.split(","))]
    try:
        with TrackingPortal(synthetic=args.synthetic) as portal:
            portal.file_delay = args.latency_ms / 1000
            for label, content_workers, n_workers in plans:
                # a database per measurement: a second run of the same portal would reuse the first one's checks
                db = _database()
                over: dict[str, Any] = {"database_url": db, "output_dir": str(tmp / "out"), "http": HTTP,
                                        "reports": {"enabled": False}, "content": {"workers": content_workers}}
                if n_workers:
                    over["execution"] = {"backend": "distributed", "broker_url": BROKER, "visibility_timeout_s": 3600}
                cfg = load_config(None, over)
                store = open_store(db)
                workers = Workers(write_config(tmp / f"{label}.yaml", db, BROKER, visibility_timeout_s=3600), tmp)
                try:
                    if n_workers:
                        workers.start(n_workers)
                        workers.wait_ready(BROKER, n_workers, timeout=300)
                    run_id = run_audit(cfg, store, portal_url=portal.url, stages=("crawl",)).run_id
                    probe = _timed(portal, cfg, store, run_id, "probe")
                    content = _timed(portal, cfg, store, run_id, "content")
                    with store.session() as s:
                        files = s.scalar(select(func.count()).select_from(ContentCheck)
                                         .where(ContentCheck.run_id == run_id))
                finally:
                    workers.stop()
                    store.close()
                    _drop(db)
                results["runs"][label] = {"probe": probe, "content": content, "files": files}
                print(label, results["runs"][label], flush=True)
    finally:
        redis.Redis.from_url(BROKER).flushdb()
    runs = results["runs"]
    if "local_1" in runs and "distributed_1" in runs and runs["local_1"]["files"]:
        results["content_overhead_ms_per_file"] = round(
            1000 * (runs["distributed_1"]["content"]["s"] - runs["local_1"]["content"]["s"]) / runs["local_1"]["files"], 1)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
