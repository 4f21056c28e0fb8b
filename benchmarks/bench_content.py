"""Benchmark of the content stage (issue 5).

500 tabular resources of 1,000–100,000 rows: the synthetic portal's files (``/files/synthetic/<n>.csv``, same
generator, ``audit.sample_portal.files.synthetic_csv_chunks``), written once to a cache folder and served by
``python -m http.server`` in its own process (it sends ``Last-Modified`` and answers ``If-Modified-Since`` with
304, as CKAN's filestore does; the embedded portal generates synthetic files on the fly without validators,
which would measure the generator rather than the stage). Each run is crawled into the store directly (one
dataset per resource), probed with the real probe stage, then validated with ``run_content_stage``.

Reported: per-resource milliseconds measured inside the workers (download + load + GX + profile; median and p95,
all resources and after warm-up = excluding each worker's first two files), wall time of the stage, peak RSS of
the main process and of the largest worker, and the second run with unchanged files — with conditional requests
(the probe sees 304, nothing is downloaded) and without them (the probe's hash covers only its first MiB, so
files are downloaded again and compared by SHA-256, but not revalidated).

    .venv/bin/python benchmarks/bench_content.py [--resources 500] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from audit.config import load_config  # noqa: E402
from audit.content.stage import run_content_stage  # noqa: E402
from audit.probe.stage import run_probe_stage  # noqa: E402
from audit.sample_portal.files import synthetic_csv_chunks, synthetic_rows  # noqa: E402
from audit.store.db import open_store, utcnow  # noqa: E402
from audit.store.models import AuditRun, ContentCheck, DatasetSnapshot, Portal, ResourceSnapshot  # noqa: E402


def _files(n: int, cache: Path) -> Path:
    folder = cache / "synthetic"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, n + 1):
        path = folder / f"{i}.csv"
        if not path.exists():
            with open(path, "wb") as fh:
                for chunk in synthetic_csv_chunks(i):
                    fh.write(chunk)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _crawl(store: Any, base: str, n: int) -> int:
    with store.session() as s:
        portal = s.scalar(select(Portal).where(Portal.url == base))
        if portal is None:
            portal = Portal(url=base, title="sintético", created_at=utcnow())
            s.add(portal)
            s.flush()
        run = AuditRun(portal_id=portal.id, started_at=utcnow(), status="running")
        s.add(run)
        s.flush()
        for i in range(1, n + 1):
            ds = DatasetSnapshot(run_id=run.id, ckan_id=f"ds-{i}", name=f"sintetico-{i}", title=f"Sintético {i}", raw={})
            s.add(ds)
            s.flush()
            s.add(ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, ckan_id=f"res-{i}", position=0,
                                   name=f"Datos {i}", url=f"{base}/synthetic/{i}.csv", format="CSV", raw={}))
        return run.id


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def _stage(store: Any, run_id: int, cfg: Any) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    counts = run_content_stage(store, run_id, cfg)
    return time.perf_counter() - t0, counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "bench_content_files"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    folder = _files(args.resources, Path(args.cache))
    rows = [synthetic_rows(i) for i in range(1, args.resources + 1)]
    size = sum((folder / f"{i}.csv").stat().st_size for i in range(1, args.resources + 1))
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder.parent)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        tmp = Path(tempfile.mkdtemp(prefix="bench_content_"))
        cfg = load_config(None, {
            "portal_url": None,
            "probe": {"allow_hosts": ["127.0.0.1"]},
            "http": {"per_host_concurrency": 8, "concurrency": 16},
            "content": {"workers": args.workers, "suites_dir": str(tmp / "suites")},
        })
        store = open_store(f"sqlite:///{tmp / 'bench.db'}")

        run1 = _crawl(store, base, args.resources)
        run_probe_stage(store, run1, cfg)
        wall1, counts1 = _stage(store, run1, cfg)
        with store.session() as s:
            details = [d for (d,) in s.execute(select(ContentCheck.details).where(ContentCheck.run_id == run1)
                                              .order_by(ContentCheck.id))]
        per = [float(d["elapsed_ms"]) for d in details if d.get("elapsed_ms") is not None]
        warm = per[2 * args.workers:]
        download = [float(d["download_ms"]) for d in details if d.get("download_ms") is not None]
        cpu = [float(d["cpu_ms"]) for d in details if d.get("cpu_ms") is not None]
        cpu_warm = cpu[2 * args.workers:]

        run2 = _crawl(store, base, args.resources)
        run_probe_stage(store, run2, cfg)  # conditional requests: 304 → not_modified
        wall2, counts2 = _stage(store, run2, cfg)

        cfg_nc = cfg.model_copy(update={"probe": cfg.probe.model_copy(update={"conditional_requests": False})})
        run3 = _crawl(store, base, args.resources)
        run_probe_stage(store, run3, cfg_nc)
        wall3, counts3 = _stage(store, run3, cfg_nc)

        load_avg = __import__("os").getloadavg()[0]
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = {
            "resources": args.resources,
            "workers": args.workers,
            "rows_min": min(rows), "rows_median": statistics.median(rows), "rows_max": max(rows),
            "bytes_total_mb": round(size / 1e6, 1),
            "first_run": {
                "wall_s": round(wall1, 2), "counts": counts1,
                "ms_per_resource_median": round(statistics.median(per), 1), "ms_per_resource_p95": round(_pct(per, 0.95), 1),
                "ms_after_warmup_median": round(statistics.median(warm), 1), "ms_after_warmup_p95": round(_pct(warm, 0.95), 1),
                "cpu_ms_per_resource_median": round(statistics.median(cpu), 1),
                "cpu_ms_per_resource_p95": round(_pct(cpu, 0.95), 1),
                "cpu_ms_after_warmup_median": round(statistics.median(cpu_warm), 1),
                "cpu_ms_after_warmup_p95": round(_pct(cpu_warm, 0.95), 1),
                "download_ms_median": round(statistics.median(download), 1),
                "wall_ms_per_resource": round(wall1 * 1000 / args.resources, 1),
            },
            "second_run_conditional": {"wall_s": round(wall2, 3), "counts": counts2, "speedup": round(wall1 / wall2, 1)},
            "second_run_no_conditional": {"wall_s": round(wall3, 2), "counts": counts3, "speedup": round(wall1 / wall3, 1)},
            "load_average_1m_after_runs": round(load_avg, 2),
            "peak_rss_mb": {"main": round(self_rss, 1), "largest_worker_or_child": round(child_rss, 1)},
        }
        print(json.dumps(out, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2))
        store.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
