"""Benchmark of the probe stage (issue 3).

10,000 resources spread over 20 loopback hosts (127.0.0.2–127.0.0.21) whose server answers every request after
50 ms, per-host concurrency 4: the politeness bound is 20 × 4 / 0.05 s = 1,600 resources/s. The server runs in its
own process (a minimal asyncio HTTP/1.1 keep-alive server, so it is not the bottleneck) and records the peak
number of requests in flight per host. The same URLs are then checked one at a time with ``requests`` (what
ckanext-archiver does); if that would take more than 3 minutes, a fixed sample is timed and extrapolated.
Finally the whole stage (``run_probe_stage``: read from a SQLite store, write Probe rows) is timed on the same URLs.

    .venv/bin/python benchmarks/bench_probe.py [--resources 10000] [--baseline-sample 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HOSTS = [f"127.0.0.{i}" for i in range(2, 22)]
LATENCY_S = 0.05
PER_HOST = 4
BODY = b"municipio,clave,poblacion\nToluca,106,910608\nEcatepec,033,1645352\nNaucalpan,057,834434\n"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\nETag: \"v1\"\r\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n\r\n"
    + BODY
)


# ---------------------------------------------------------------------------------------------- the server


def _serve(conn: Any) -> None:
    peak: Counter[str] = Counter()
    active: Counter[str] = Counter()
    served = 0

    class Slow(asyncio.Protocol):
        def __init__(self, host: str) -> None:
            self.host = host
            self.buf = b""
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]

        def data_received(self, data: bytes) -> None:
            self.buf += data
            loop = asyncio.get_running_loop()
            while b"\r\n\r\n" in self.buf:
                _, self.buf = self.buf.split(b"\r\n\r\n", 1)
                active[self.host] += 1
                peak[self.host] = max(peak[self.host], active[self.host])
                loop.call_later(LATENCY_S, self.respond)

        def respond(self) -> None:
            nonlocal served
            active[self.host] -= 1
            served += 1
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(RESPONSE)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = []
        ports = {}
        for host in HOSTS:
            srv = await loop.create_server(lambda h=host: Slow(h), host, 0, backlog=1024)
            servers.append(srv)
            ports[host] = srv.sockets[0].getsockname()[1]
        conn.send(ports)
        while True:
            await asyncio.sleep(0.1)
            if conn.poll():
                conn.recv()
                conn.send({"peak_in_flight_per_host": max(peak.values(), default=0), "served": served})
                return

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------- the clients


def run_prober(urls: list[str]) -> dict[str, Any]:
    from audit.config import AuditConfig
    from audit.probe import ProbeRequest, probe_urls

    cfg = AuditConfig.model_validate(
        {
            "http": {"concurrency": len(HOSTS) * PER_HOST, "per_host_concurrency": PER_HOST},
            "probe": {"allow_hosts": HOSTS},
        }
    )
    outcomes: Counter[str] = Counter()
    types: Counter[str] = Counter()

    async def go() -> None:
        reqs = [ProbeRequest(u, key=i, declared_format="CSV") for i, u in enumerate(urls)]
        async for _, ev in probe_urls(reqs, cfg):
            outcomes[ev.outcome] += 1
            types[str(ev.sniffed_type)] += 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    asyncio.run(go())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "resources": len(urls),
        "wall_s": round(wall, 2),
        "rate_per_s": round(len(urls) / wall, 1),
        "cpu_ms_per_resource": round(cpu * 1000 / len(urls), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "outcomes": dict(outcomes),
        "sniffed_types": dict(types),
    }


def run_stage(urls: list[str]) -> dict[str, Any]:
    """The whole stage: resources read from a SQLite store, Probe rows written back in batches."""
    import tempfile

    from audit import progress
    from audit.config import AuditConfig
    from audit.probe import run_probe_stage
    from audit.store import AuditRun, DatasetSnapshot, ResourceSnapshot, open_store
    from audit.store.db import utcnow

    progress.FORCE_BAR = False
    cfg = AuditConfig.model_validate(
        {
            "http": {"concurrency": len(HOSTS) * PER_HOST, "per_host_concurrency": PER_HOST},
            "probe": {"allow_hosts": HOSTS},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        portal_id = store.get_or_create_portal(urls[0].rsplit("/r/", 1)[0], "bench")
        with store.session() as s:
            run = AuditRun(portal_id=portal_id, started_at=utcnow())
            s.add(run)
            s.flush()
            for d in range(0, len(urls), 10):
                ds = DatasetSnapshot(run_id=run.id, ckan_id=f"d{d}", name=f"d{d}", organization_name=f"org{d % 18}")
                s.add(ds)
                s.flush()
                s.add_all(
                    ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, position=i, url=u, format="CSV",
                                     ckan_id=f"r{d + i}")
                    for i, u in enumerate(urls[d : d + 10])
                )
            run_id = run.id
        wall0 = time.perf_counter()
        counts = run_probe_stage(store, run_id, cfg)
        wall = time.perf_counter() - wall0
        store.close()
    return {"resources": len(urls), "wall_s": round(wall, 2), "rate_per_s": round(len(urls) / wall, 1),
            "outcomes": counts}


def run_sequential(urls: list[str], cap: int = 1024 * 1024) -> dict[str, Any]:
    import requests

    ok = 0
    wall0 = time.perf_counter()
    for url in urls:
        with requests.get(url, stream=True, timeout=(10, 30)) as resp:
            read = 0
            for chunk in resp.iter_content(64 * 1024):
                read += len(chunk)
                if read >= cap:
                    break
            ok += resp.status_code == 200
    wall = time.perf_counter() - wall0
    return {"resources": len(urls), "ok": ok, "wall_s": round(wall, 2), "rate_per_s": round(len(urls) / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--baseline-sample", type=int, default=500, help="URLs timed sequentially (0 = all)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--no-stage", action="store_true", help="skip the store-backed stage measurement")
    args = ap.parse_args()

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    ports: dict[str, int] = parent.recv()
    urls = [f"http://{HOSTS[i % len(HOSTS)]}:{ports[HOSTS[i % len(HOSTS)]]}/r/{i}.csv" for i in range(args.resources)]
    try:
        prober = run_prober(urls)
        stage = None if args.no_stage else run_stage(urls)
        sample = urls if args.baseline_sample <= 0 else urls[: args.baseline_sample]
        baseline = run_sequential(sample)
    finally:
        parent.send("stop")
        server_stats = parent.recv() if parent.poll(10) else {}
        server.join(5)

    bound = len(HOSTS) * PER_HOST / LATENCY_S
    baseline_full_s = len(urls) / baseline["rate_per_s"]
    result = {
        "prober": prober,
        "bound_per_s": bound,
        "pct_of_bound": round(100 * prober["rate_per_s"] / bound, 1),
        "baseline": {**baseline, "extrapolated": len(sample) < len(urls),
                     "extrapolated_wall_s_for_all": round(baseline_full_s, 1)},
        "speedup_vs_sequential": round(prober["rate_per_s"] / baseline["rate_per_s"], 1),
        "stage_with_sqlite": stage,
        "server": server_stats,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
