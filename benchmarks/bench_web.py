"""Dashboard load benchmark: p50/p95 latency of the overview, an organization page and a dataset page under
32 concurrent clients, on SQLite and on PostgreSQL, with a store holding 10,000 datasets audited twice.

The store is built directly in the database (``audit.web.sample.build_sample_store``: 200 organizations + an
empty one, 10,000 datasets, 2 resources each, probes, content checks, ten rule results per dataset, commitments,
two runs) unless ``--sqlite-db``/``--postgres-db`` point at an existing store (e.g. one produced by auditing the
synthetic portal). The dashboard runs in its own uvicorn process; the load generator is an asyncio aiohttp client
(32 connections) that picks a random organization / dataset for every request; then 2,000 distinct hostile URLs
(unknown ~12 kB parameters, distinct searches) and the server's memory before/after. Targets: p95 < 250 ms,
0 errors, resident memory growth < 50 MB after the hostile URLs.

    .venv/bin/python benchmarks/bench_web.py                      # both backends, 30 s per page
    .venv/bin/python benchmarks/bench_web.py --backends sqlite --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("AUDIT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DB = "audit_web_bench"
OUT = ROOT / "benchmarks" / "out"

SERVER_CODE = """
import sys
from audit.config import AuditConfig
from audit.store import open_store
from audit.web import serve
cfg = AuditConfig.model_validate({"web": {"threads": int(sys.argv[3]), "workers": int(sys.argv[4])}})
serve(cfg, open_store(sys.argv[1], migrate_schema=False), "127.0.0.1", int(sys.argv[2]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(url: str, datasets: int, organizations: int) -> float:
    from audit.store import open_store
    from audit.web.sample import build_sample_store

    t0 = time.perf_counter()
    store = open_store(url)
    build_sample_store(store, organizations=organizations + 1, datasets=datasets, runs=2)
    store.close()
    return time.perf_counter() - t0


def prepare_postgres() -> str:
    import psycopg

    admin = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB


def analyze_postgres(url: str) -> None:
    """What autovacuum does within a minute or so of a bulk load: without statistics the planner picks hash joins
    with sequential scans for the dataset page (9 ms instead of 0.1 ms)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("ANALYZE")


def drop_postgres() -> None:
    import psycopg

    admin = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def names(url: str) -> tuple[list[str], list[str]]:
    from sqlalchemy import func, select

    from audit.store import open_store
    from audit.store.models import AuditRun, DatasetSnapshot, OrganizationResult

    store = open_store(url, migrate_schema=False)
    with store.session() as s:
        run = s.scalar(select(func.max(AuditRun.id)))
        orgs = list(s.scalars(select(OrganizationResult.organization_name).where(OrganizationResult.run_id == run)))
        ds = list(s.scalars(select(DatasetSnapshot.name).where(DatasetSnapshot.run_id == run)))
    store.close()
    return orgs, ds


def start_server(url: str, threads: int, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUDIT_ADMIN_PASSWORD", None)
    proc = subprocess.Popen([sys.executable, "-c", SERVER_CODE, url, str(port), str(threads), str(workers)], cwd=str(ROOT), env=env)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the dashboard did not start")


async def load(base: str, make_path: Any, duration: float, clients: int) -> dict[str, Any]:
    """``clients`` concurrent keep-alive connections (aiohttp: a light client, so the load generator does not
    eat the CPU the server needs on this 2-core machine), each sending its next request when the last ends."""
    import aiohttp

    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=base, connector=connector, timeout=timeout) as client:

        async def worker(seed: int) -> None:
            rnd = random.Random(seed)
            while time.perf_counter() < stop_at:
                path = make_path(rnd)
                t0 = time.perf_counter()
                try:
                    async with client.get(path) as r:
                        await r.read()
                        ok, key = r.status == 200, f"HTTP {r.status}"
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    ok, key = False, exc.__class__.__name__
                latencies.append((time.perf_counter() - t0) * 1000)
                if not ok:
                    errors[key] = errors.get(key, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1), "max_ms": round(latencies[-1], 1),
            "errors": sum(errors.values()), "error_kinds": errors}


def server_rss_mb(pid: int) -> float:
    """Resident memory of the dashboard: the server process and its worker processes (Linux /proc)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                pids.append(int(entry.name))
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


async def abuse(base: str, orgs: list[str], count: int, clients: int) -> dict[str, Any]:
    """``count`` distinct hostile URLs: half with an unknown ~12 kB parameter (uvicorn's h11 refuses request heads
    over 16 kB), half distinct valid searches (``q``, which do render distinct pages) on the overview and on
    organization pages. Every one must answer 200 (junk dropped) or 422 (a search longer than allowed)."""
    import aiohttp

    junk = "x" * 12_000
    urls = []
    for i in range(count):
        if i % 2 == 0:
            urls.append(f"/?basura{i}={junk}" if i % 4 == 0 else f"/organizaciones/{orgs[i % len(orgs)]}?z{i}={junk}")
        else:
            urls.append(f"/?q=busqueda-{i}-{'y' * 150}" if i % 4 == 1 else
                        f"/organizaciones/{orgs[i % len(orgs)]}?q=b{i}-{'y' * 150}")
    statuses: dict[int, int] = {}
    queue = list(urls)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base_url=base, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as client:

        async def worker() -> None:
            while queue:
                path = queue.pop()
                async with client.get(path) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(clients)))
    return {"urls": count, "statuses": statuses,
            "errors": sum(n for code, n in statuses.items() if code not in (200, 422))}


def bench_backend(label: str, url: str, duration: float, clients: int, threads: int,
                  workers: int, abusive: int = 2000) -> dict[str, Any]:
    orgs, datasets = names(url)
    proc, base = start_server(url, threads, workers)
    try:
        import httpx

        t0 = time.perf_counter()
        httpx.get(base + "/", timeout=120)  # first request builds the run summary (cached afterwards)
        warm = time.perf_counter() - t0
        pages = {
            "overview": lambda rnd: "/",
            "organization": lambda rnd: f"/organizaciones/{rnd.choice(orgs)}",
            "dataset": lambda rnd: f"/conjuntos/{rnd.choice(datasets)}",
        }
        out: dict[str, Any] = {"backend": label, "first_request_s": round(warm, 2), "pages": {}}
        for name, make in pages.items():
            asyncio.run(load(base, make, min(3.0, duration), clients))  # warm-up
            res = asyncio.run(load(base, make, duration, clients))
            # one client at a time: the intrinsic service time, without queueing
            single = asyncio.run(load(base, make, min(5.0, duration), 1))
            res["single_client"] = {k: single[k] for k in ("requests", "p50_ms", "p95_ms", "errors")}
            out["pages"][name] = res
            print(f"{label:10s} {name:12s} {res['requests']:6d} req {res['rps']:7.1f} req/s  "
                  f"p50 {res['p50_ms']:6.1f} ms  p95 {res['p95_ms']:6.1f} ms  p99 {res['p99_ms']:6.1f} ms  "
                  f"errors {res['errors']}  | 1 client: p50 {single['p50_ms']:.1f} ms p95 {single['p95_ms']:.1f} ms",
                  flush=True)
        if abusive:
            before = server_rss_mb(proc.pid)
            hostile = asyncio.run(abuse(base, orgs, abusive, clients))
            after = server_rss_mb(proc.pid)
            hostile.update(rss_before_mb=before, rss_after_mb=after, rss_growth_mb=round(after - before, 1))
            out["abuse"] = hostile
            print(f"{label:10s} abuse: {abusive} distinct hostile URLs, statuses {hostile['statuses']}, "
                  f"RSS {before} → {after} MB (+{hostile['rss_growth_mb']} MB), errors {hostile['errors']}",
                  flush=True)
        return out
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--datasets", type=int, default=10_000)
    ap.add_argument("--organizations", type=int, default=200)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of load per page")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--threads", type=int, default=4, help="web.threads of the dashboard under test")
    ap.add_argument("--workers", type=int, default=2, help="web.workers (uvicorn processes) of the dashboard")
    ap.add_argument("--sqlite-db", help="use this existing SQLite store instead of building one")
    ap.add_argument("--postgres-db", help="use this existing PostgreSQL store instead of building one")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark PostgreSQL database afterwards")
    ap.add_argument("--abusive", type=int, default=2000, help="distinct hostile URLs after the load (0: none)")
    args = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            url = args.sqlite_db
            build_s = None
            if not url:
                path = OUT / "bench_web.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
                url = f"sqlite:///{path}"
                build_s = build(url, args.datasets, args.organizations)
        elif backend == "postgres":
            url = args.postgres_db
            build_s = None
            if not url:
                url = prepare_postgres()
                build_s = build(url, args.datasets, args.organizations)
            analyze_postgres(url)
        else:
            raise SystemExit(f"unknown backend {backend!r}")
        if build_s is not None:
            print(f"{backend}: store with {args.datasets} datasets x 2 runs built in {build_s:.1f} s", flush=True)
        res = bench_backend(backend, url, args.duration, args.clients, args.threads, args.workers, args.abusive)
        res["store_build_s"] = round(build_s, 1) if build_s is not None else None
        results.append(res)
        if backend == "postgres" and not args.postgres_db and not args.keep:
            drop_postgres()
    summary = {"datasets": args.datasets, "runs": 2, "clients": args.clients, "duration_s": args.duration,
               "threads": args.threads, "workers": args.workers,
               "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(), "results": results}
    (OUT / "bench_web.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    ok = all(p["p95_ms"] < 250 and p["errors"] == 0 for r in results for p in r["pages"].values())
    ok = ok and all(r["abuse"]["errors"] == 0 and r["abuse"]["rss_growth_mb"] < 50 for r in results if "abuse" in r)
    print("targets (p95 < 250 ms, 0 errors, RSS growth < 50 MB after the hostile URLs):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
