"""Benchmark of the evidence archive (issue 20): cost per resource and disk used, two audits of a portal.

Runs two complete audits (reports off) of the embedded sample portal or of a synthetic one and reports, from the
content checks: files stored, bytes served vs bytes on disk, milliseconds spent storing each file inside the
content workers (median, p95), and what the second audit added (unchanged files are referenced, not stored).

    .venv/bin/python benchmarks/bench_archive.py [--synthetic 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from audit.archive import EvidenceArchive  # noqa: E402
from audit.config import AuditConfig  # noqa: E402
from audit.pipeline import run_audit  # noqa: E402
from audit.sample_portal import SamplePortal  # noqa: E402
from audit.store.db import open_store  # noqa: E402
from audit.store.models import ContentCheck  # noqa: E402


def _stats(store: Any, run_id: int) -> dict[str, Any]:
    with store.session() as s:
        rows = [d.get("archive") or {} for d in s.scalars(select(ContentCheck.details).where(ContentCheck.run_id == run_id))]
    new = [r for r in rows if r.get("new")]
    ms = sorted(r["ms"] for r in rows if "ms" in r)
    new_ms = sorted(r["ms"] for r in new if "ms" in r)
    return {
        "checks": len(rows), "stored_new": len(new), "referenced": sum(1 for r in rows if r.get("new") is False),
        "bytes_new": sum(r.get("bytes", 0) for r in new), "stored_bytes_new": sum(r.get("stored_bytes", 0) for r in new),
        "ms_median_all": round(statistics.median(ms), 2) if ms else None,
        "ms_median_new": round(statistics.median(new_ms), 2) if new_ms else None,
        "ms_p95_new": round(new_ms[int(0.95 * (len(new_ms) - 1))], 2) if new_ms else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", type=int, default=None, help="datasets of a synthetic portal (default: sample)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict[str, Any] = {"portal": f"synthetic {args.synthetic}" if args.synthetic else "sample (69 datasets)"}
    with tempfile.TemporaryDirectory() as tmp, SamplePortal(synthetic=args.synthetic) as portal:
        cfg = AuditConfig.model_validate({
            "portal_url": portal.url, "database_url": f"sqlite:///{tmp}/a.db", "output_dir": f"{tmp}/out",
            "reports": {"enabled": False}, "http": {"retries": 0},
        })
        store = open_store(cfg.database_url)
        archive = EvidenceArchive.from_config(cfg)
        assert archive is not None
        before = (0, 0)
        for label in ("first", "second"):
            t0 = time.perf_counter()
            outcome = run_audit(cfg, store, portal_url=portal.url, out_dir=Path(tmp) / "out")
            files, size = archive.usage()
            out[label] = {"status": outcome.status, "wall_s": round(time.perf_counter() - t0, 1),
                          **_stats(store, outcome.run_id), "archive_files": files, "archive_bytes": size,
                          "files_added": files - before[0], "bytes_added": size - before[1]}
            before = (files, size)
            print(label, json.dumps(out[label]), flush=True)
        store.close()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
