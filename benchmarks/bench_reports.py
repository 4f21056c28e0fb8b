"""Benchmark of the annual reports (issue 6).

Builds a store directly (the same generator as the tests: tests/test_reports_store.py) and renders the portal report
plus every organization report in HTML and PDF, measuring wall time and peak RSS (this process and the largest
worker process). ``render_cpu_s`` (CPU seconds of all processes) does not depend on what else runs on the
machine: on an idle 2-core machine the wall time is about render_cpu_s / 2 plus the largest single report.

    .venv/bin/python benchmarks/bench_reports.py sample            # 18 organizations, like the sample portal
    .venv/bin/python benchmarks/bench_reports.py synthetic         # 200 organizations × 50 datasets
    .venv/bin/python benchmarks/bench_reports.py scaling           # 25/50/100 organizations × 10 datasets: linear?
    options: --workers N (default 2)  --no-pdf  --keep DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_reports_store import open_populated  # noqa: E402

from audit.config import AuditConfig  # noqa: E402
from reports.render import render_reports  # noqa: E402


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _cpu_s() -> float:
    """User + system CPU of this process and its finished children: comparable across machine loads."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(orgs: int, per_org: int, years: tuple[int, ...], workers: int, pdf: bool, keep: Path | None) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-", dir=keep))
    t0 = time.perf_counter()
    built = open_populated(f"sqlite:///{tmp / 'audit.db'}", orgs=orgs, datasets_per_org=per_org, years=years)
    build_s = time.perf_counter() - t0
    out_dir = tmp / "salida" / str(years[-1]) / "reports"
    t1, c1 = time.perf_counter(), _cpu_s()
    out = render_reports(built.store, built.runs[years[-1]], out_dir, cfg=AuditConfig(), workers=workers, pdf=pdf)
    wall = time.perf_counter() - t1
    cpu = _cpu_s() - c1
    load = os.getloadavg()[0]
    built.store.close()
    pdf_pages = None
    size_mb = sum(p.stat().st_size for p in out.files) / 1e6
    result = {
        "organizations": orgs,
        "datasets_per_org": per_org,
        "years": list(years),
        "workers": workers,
        "pdf": pdf,
        "store_build_s": round(build_s, 1),
        "render_wall_s": round(wall, 1),
        "render_cpu_s": round(cpu, 1),
        "per_org_s": round(wall / max(len(out.organizations), 1), 2),
        "load_avg_1m": round(load, 1),
        "reports": len(out.organizations) + (1 if out.portal_html else 0),
        "errors": len(out.errors),
        "output_mb": round(size_mb, 1),
        "peak_rss_main_mb": round(_rss_mb(resource.RUSAGE_SELF)),
        "peak_rss_worker_mb": round(_rss_mb(resource.RUSAGE_CHILDREN)),
    }
    if out.portal_pdf is not None:
        import subprocess

        info = subprocess.run(["pdfinfo", str(out.portal_pdf)], capture_output=True, text=True, check=False).stdout
        pdf_pages = next((int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:")), None)
        result["portal_pdf_pages"] = pdf_pages
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["sample", "synthetic", "scaling"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="carpeta donde dejar las salidas")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    pdf = not args.no_pdf
    if args.scenario == "sample":
        run(18, 4, (2025, 2026), args.workers, pdf, args.keep)
    elif args.scenario == "synthetic":
        run(200, 50, (2026,), args.workers, pdf, args.keep)
    else:
        rows = [run(n, 10, (2026,), args.workers, pdf, args.keep) for n in (25, 50, 100)]
        base = rows[0]["render_wall_s"] / rows[0]["organizations"]  # type: ignore[operator]
        for r in rows:
            ratio = (r["render_wall_s"] / r["organizations"]) / base  # type: ignore[operator]
            print(f"{r['organizations']} organizaciones: {r['render_wall_s']} s; tiempo por organización relativo a 25: {ratio:.2f}")


if __name__ == "__main__":
    main()
