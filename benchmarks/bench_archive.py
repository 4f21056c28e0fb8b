"""Benchmark of the evidence archive (issue 20): cost per resource, disk used after one and two audits, pruning.

The portal (the embedded sample, or ``--synthetic N`` datasets) runs in its own process, so the CPU measured here is
the auditor's only. Two audits with the archive and two without (reports off; ``--no-content`` also skips the
content stage), each timed in wall seconds and in CPU seconds of this process plus its content workers (CPU does
not depend on what else loads the shared machine). Per-resource overhead = CPU with − CPU without, over the
resources of the run. Also reported: the CPU spent inside ``EvidenceArchive.put`` itself (probe threads and content
workers), the archive's files and bytes after each audit (the second adds only what changed), and the cost of a
full prune against the cheap check every stage now makes (``maybe_prune``).

    .venv/bin/python benchmarks/bench_archive.py [--synthetic 2000] [--no-content] [--json out.json]
    .venv/bin/python benchmarks/bench_archive.py --put-files 40   # put alone on the synthetic portal's CSVs
    .venv/bin/python benchmarks/bench_archive.py --prune-scale 20000

``--prune-scale N`` times a full prune against ``maybe_prune`` on an archive of N files referenced by the probes of
10 runs (10 × N probe rows), the per-stage cost the cheap check removes.

``--put-files N`` measures what the content stage pays per downloaded tabular file: ``put`` of the first N synthetic
CSVs (1,000–100,000 rows), CPU per new file and per file already stored.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from audit.archive import EvidenceArchive, maybe_prune, prune  # noqa: E402
from audit.config import AuditConfig  # noqa: E402
from audit.pipeline import run_audit  # noqa: E402
from audit.store.db import open_store  # noqa: E402
from audit.store.models import ContentCheck, Probe, ResourceSnapshot  # noqa: E402

_PUT_LOG: Path | None = None
_original_put = EvidenceArchive.put


def _timed_put(self: EvidenceArchive, data: bytes, sha256: str | None = None) -> dict[str, Any]:
    """put, with the CPU of the calling thread appended to a log (content workers are forked: they inherit this)."""
    c0 = time.thread_time()
    result = _original_put(self, data, sha256)
    if _PUT_LOG is not None:
        with open(_PUT_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{time.thread_time() - c0:.6f} {int(bool(result.get('new')))} {len(data)}\n")
    return result


EvidenceArchive.put = _timed_put  # type: ignore[method-assign]


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@contextmanager
def _portal(synthetic: int | None) -> Iterator[str]:
    cmd = [sys.executable, "-m", "audit.sample_portal"] + (["--synthetic", str(synthetic)] if synthetic else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _put_stats() -> dict[str, Any]:
    if _PUT_LOG is None or not _PUT_LOG.exists():
        return {"puts": 0}
    rows = [line.split() for line in _PUT_LOG.read_text(encoding="utf-8").splitlines()]
    _PUT_LOG.unlink()
    new = sorted(float(c) for c, n, _ in rows if n == "1")
    return {"puts": len(rows), "puts_new": len(new), "put_cpu_s": round(sum(float(c) for c, _, _ in rows), 3),
            "put_cpu_ms_median_new": round(1000 * statistics.median(new), 2) if new else None,
            "bytes_put_new": sum(int(b) for _, n, b in rows if n == "1")}


def _audit(cfg: AuditConfig, store: Any, url: str, out: Path) -> dict[str, Any]:
    t0, c0 = time.perf_counter(), _cpu()
    outcome = run_audit(cfg, store, portal_url=url, out_dir=out)
    row: dict[str, Any] = {"status": outcome.status, "wall_s": round(time.perf_counter() - t0, 1),
                           "cpu_s": round(_cpu() - c0, 2)}
    with store.session() as s:
        row["resources"] = s.scalar(select(func.count()).select_from(ResourceSnapshot)
                                    .where(ResourceSnapshot.run_id == outcome.run_id))
        row["probes_with_bytes"] = s.scalar(select(func.count()).select_from(Probe)
                                            .where(Probe.run_id == outcome.run_id, Probe.sha256.is_not(None)))
        row["content_checks"] = s.scalar(select(func.count()).select_from(ContentCheck)
                                         .where(ContentCheck.run_id == outcome.run_id))
    return row


def _put_files(n: int) -> dict[str, Any]:
    from audit.sample_portal.files import synthetic_csv_chunks

    with tempfile.TemporaryDirectory() as tmp:
        archive = EvidenceArchive(Path(tmp), 50 * 2**20)
        new: list[float] = []
        again: list[float] = []
        served = 0
        for i in range(1, n + 1):
            data = b"".join(synthetic_csv_chunks(i))
            served += len(data)
            for bucket in (new, again):
                c0 = time.process_time()
                archive.put(data)  # no hash given: the first put hashes too (the stage passes the one it has)
                bucket.append(time.process_time() - c0)
        files, size = archive.usage()
    return {"files": files, "served_mb": round(served / 2**20, 1), "stored_mb": round(size / 2**20, 1),
            "ratio": round(served / max(1, size), 2), "cpu_ms_median_new": round(1000 * statistics.median(new), 1),
            "cpu_ms_p95_new": round(1000 * sorted(new)[int(0.95 * (len(new) - 1))], 1),
            "cpu_ms_median_stored": round(1000 * statistics.median(again), 2),
            "median_file_mb": round(statistics.median(len(b"".join(synthetic_csv_chunks(i))) for i in range(1, n + 1))
                                    / 2**20, 2)}


def _prune_scale(n: int, runs: int = 10) -> dict[str, Any]:
    from sqlalchemy import insert

    from audit.clock import utcnow
    from audit.store.models import AuditRun, DatasetSnapshot, Portal

    with tempfile.TemporaryDirectory() as tmp:
        cfg = AuditConfig.model_validate({"database_url": f"sqlite:///{tmp}/a.db", "output_dir": f"{tmp}/out"})
        archive = EvidenceArchive.from_config(cfg)
        assert archive is not None
        shas = [archive.put(f"recurso {i}\n".encode() * 20)["sha256"] for i in range(n)]
        store = open_store(cfg.database_url)
        now = utcnow()
        with store.session() as s:
            portal = Portal(url="http://127.0.0.1:9", title="p", created_at=now)
            s.add(portal)
            s.flush()
            for _run in range(runs):
                run = AuditRun(portal_id=portal.id, started_at=now, status="complete", kind="periodic", counts={},
                               year=now.year)
                s.add(run)
                s.flush()
                ds = DatasetSnapshot(run_id=run.id, ckan_id="d", name="d", raw={})
                s.add(ds)
                s.flush()
                first = s.scalar(select(func.coalesce(func.max(ResourceSnapshot.id), 0))) + 1
                s.execute(insert(ResourceSnapshot), [{"id": first + i, "run_id": run.id, "dataset_snapshot_id": ds.id,
                                                      "position": i, "raw": {}} for i in range(n)])
                s.execute(insert(Probe), [{"run_id": run.id, "resource_snapshot_id": first + i, "outcome": "ok",
                                           "sha256": shas[i], "checked_at": now} for i in range(n)])
        c0, t0 = _cpu(), time.perf_counter()
        full = prune(store, cfg)
        full_cost = {"cpu_s": round(_cpu() - c0, 2), "wall_s": round(time.perf_counter() - t0, 2), **full}
        c0, t0 = _cpu(), time.perf_counter()
        cheap = maybe_prune(store, cfg)
        cheap_cost = {"cpu_ms": round(1000 * (_cpu() - c0), 3), "wall_ms": round(1000 * (time.perf_counter() - t0), 3),
                      **cheap}
        store.close()
    return {"files": n, "probe_rows": n * runs, "full_prune": full_cost, "maybe_prune": cheap_cost}


def main() -> None:
    global _PUT_LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", type=int, default=None, help="datasets of a synthetic portal (default: sample)")
    ap.add_argument("--no-content", action="store_true", help="skip the content stage (probe-side archive only)")
    ap.add_argument("--prune-scale", type=int, default=None, metavar="N", help="only time pruning N files")
    ap.add_argument("--put-files", type=int, default=None, metavar="N", help="only time put on N synthetic CSVs")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.prune_scale:
        result = _prune_scale(args.prune_scale)
        print(json.dumps(result), flush=True)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return
    if args.put_files:
        result = _put_files(args.put_files)
        print(json.dumps(result), flush=True)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return
    out: dict[str, Any] = {"portal": f"synthetic {args.synthetic}" if args.synthetic else "sample (69 datasets)",
                           "content": not args.no_content, "loadavg_start": Path("/proc/loadavg").read_text().split()[:3]}
    if not args.no_content:  # one-time imports (GX: seconds) must not be charged to whichever variant runs first
        from audit.content import expectations

        expectations.warm_up()
    with tempfile.TemporaryDirectory() as tmp, _portal(args.synthetic) as url:
        _PUT_LOG = Path(tmp) / "put-cpu.log"
        for variant in ("without_archive", "with_archive"):
            base = Path(tmp) / variant
            base.mkdir()
            cfg = AuditConfig.model_validate({
                "portal_url": url, "database_url": f"sqlite:///{base}/a.db", "output_dir": str(base / "out"),
                "reports": {"enabled": False}, "http": {"retries": 0},
                "content": {"enabled": not args.no_content},
                "archive": {"enabled": variant == "with_archive"},
            })
            store = open_store(cfg.database_url)
            archive = EvidenceArchive(base / "out" / "evidencias", cfg.archive.max_file_bytes)
            for label in ("first", "second"):
                row = _audit(cfg, store, url, base / "out")
                files, size = archive.usage()
                row.update(archive_files=files, archive_bytes=size, **_put_stats())
                out[f"{variant}_{label}"] = row
                print(variant, label, json.dumps(row), flush=True)
            if variant == "with_archive":
                c0, t0 = _cpu(), time.perf_counter()
                skipped = maybe_prune(store, cfg)
                out["maybe_prune"] = {"cpu_ms": round(1000 * (_cpu() - c0), 3),
                                      "wall_ms": round(1000 * (time.perf_counter() - t0), 3), **skipped}
                c0, t0 = _cpu(), time.perf_counter()
                full = prune(store, cfg)
                out["full_prune"] = {"cpu_ms": round(1000 * (_cpu() - c0), 1),
                                     "wall_ms": round(1000 * (time.perf_counter() - t0), 1), **full}
                print("prune", json.dumps(out["maybe_prune"]), json.dumps(out["full_prune"]), flush=True)
            store.close()
    for label in ("first", "second"):
        w, wo = out[f"with_archive_{label}"], out[f"without_archive_{label}"]
        out[f"overhead_{label}"] = {
            "cpu_s": round(w["cpu_s"] - wo["cpu_s"], 2),
            "cpu_ms_per_resource": round(1000 * (w["cpu_s"] - wo["cpu_s"]) / max(1, w["resources"]), 2),
            "put_cpu_ms_per_resource": round(1000 * w.get("put_cpu_s", 0) / max(1, w["resources"]), 3),
        }
    out["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    out["cpus"] = os.cpu_count()
    print(json.dumps({k: v for k, v in out.items() if k.startswith(("overhead", "loadavg"))}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
