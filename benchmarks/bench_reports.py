"""Benchmark of the annual reports.

Builds a store directly (the same generator as the tests: tests/test_reports_store.py, in a child process so the
peak RSS measured here is the report stage's alone) and renders the portal report
plus every organization report in HTML and PDF, measuring wall time and peak RSS (this process and the largest
worker process). ``render_cpu_s`` (CPU seconds of all processes) does not depend on what else runs on the
machine: on an idle 2-core machine the wall time is about render_cpu_s / 2 plus the largest single report.

    .venv/bin/python benchmarks/bench_reports.py sample            # 18 organizations, like the sample portal
    .venv/bin/python benchmarks/bench_reports.py synthetic         # 200 organizations × 50 datasets
    .venv/bin/python benchmarks/bench_reports.py synthetic --sample 20   # portal + 20 of them, extrapolated
    .venv/bin/python benchmarks/bench_reports.py synthetic --orgs 200 --per-org 10   # 2,000 datasets, 200 orgs
    .venv/bin/python benchmarks/bench_reports.py scaling           # 25/50/100 organizations × 10 datasets: linear?
    options: --workers N (default 2)  --no-pdf  --keep DIR  --orgs N --per-org M (synthetic)

The portal PDF's annex is split into PDFs of ``reports.pdf_annex_chunk_datasets`` (default 2,000) datasets, so the
largest worker's peak RSS is bounded by one chunk, not by the portal's size.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_reports_store import Built, open_populated  # noqa: E402

from audit.config import AuditConfig  # noqa: E402
from audit.store import open_store  # noqa: E402
from reports.render import render_reports  # noqa: E402


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _cpu_s() -> float:
    """User + system CPU of this process and its finished children: comparable across machine loads."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _build_in_child(db_url: str, orgs: int, per_org: int, years: tuple[int, ...]) -> dict[str, object]:
    """Build the store in a child process (the generator's memory is not the report stage's)."""
    spec = json.dumps({"db_url": db_url, "orgs": orgs, "per_org": per_org, "years": list(years)})
    out = subprocess.run([sys.executable, __file__, "build", "--spec", spec], capture_output=True, text=True, check=True)
    made: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return made


def _build_only(spec: str) -> None:
    args = json.loads(spec)
    built = open_populated(args["db_url"], orgs=args["orgs"], datasets_per_org=args["per_org"],
                           years=tuple(args["years"]))
    built.store.close()
    print(json.dumps({"portal_id": built.portal_id, "runs": built.runs, "org_names": built.org_names,
                      "empty_org": built.empty_org}))


def _render(built, year: int, out_dir: Path, workers: int, pdf: bool, **kwargs) -> tuple[object, float, float]:
    t, c = time.perf_counter(), _cpu_s()
    out = render_reports(built.store, built.runs[year], out_dir, cfg=AuditConfig(), workers=workers, pdf=pdf, **kwargs)
    return out, time.perf_counter() - t, _cpu_s() - c


def run(orgs: int, per_org: int, years: tuple[int, ...], workers: int, pdf: bool, keep: Path | None,
        sample: int | None = None) -> dict[str, object]:
    """Build the store in one child process and render in another, so the peak RSS figures are the report
    stage's alone (the main process and its PDF workers), as in ``run_audit.py report``."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-", dir=keep))
    t0 = time.perf_counter()
    built = _build_in_child(f"sqlite:///{tmp / 'audit.db'}", orgs, per_org, years)
    spec = {"tmp": str(tmp), "orgs": orgs, "per_org": per_org, "years": list(years), "workers": workers, "pdf": pdf,
            "sample": sample, "built": built, "build_s": time.perf_counter() - t0}
    out = subprocess.run([sys.executable, __file__, "render", "--spec", json.dumps(spec)], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"render child failed:\n{out.stderr[-3000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result, ensure_ascii=False), flush=True)
    if keep is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _measure(spec: str) -> None:
    """The render child: render everything (``sample`` None) or the portal report alone plus ``sample``
    organization reports, extrapolating the organizations' CPU time linearly (each organization report reads only
    its own datasets); prints the result as one JSON line."""
    args = json.loads(spec)
    tmp, orgs, per_org, years = Path(args["tmp"]), args["orgs"], args["per_org"], tuple(args["years"])
    workers, pdf, sample, made = args["workers"], args["pdf"], args["sample"], args["built"]
    db_url = f"sqlite:///{tmp / 'audit.db'}"
    built = Built(store=open_store(db_url), url=db_url, portal_id=made["portal_id"],
                  runs={int(k): v for k, v in made["runs"].items()}, org_names=made["org_names"],
                  empty_org=made["empty_org"])
    build_s = args["build_s"]
    year = years[-1]
    out_dir = tmp / "salida" / str(year) / "reports"
    result: dict[str, object] = {"organizations": orgs, "datasets_per_org": per_org, "years": list(years),
                                 "workers": workers, "pdf": pdf, "store_build_s": round(build_s, 1)}
    if sample is None:
        out, wall, cpu = _render(built, year, out_dir, workers, pdf)
        result.update({"render_wall_s": round(wall, 1), "render_cpu_s": round(cpu, 1),
                       "per_org_wall_s": round(wall / max(len(out.organizations), 1), 2),  # type: ignore[attr-defined]
                       "reports": len(out.organizations) + (1 if out.portal_html else 0),  # type: ignore[attr-defined]
                       "errors": len(out.errors)})  # type: ignore[attr-defined]
    else:
        portal, p_wall, p_cpu = _render(built, year, out_dir, 1, pdf, organizations=[], include_portal=True)
        names = [n for n in built.org_names if n != built.empty_org][:sample]
        orgs_out, o_wall, o_cpu = _render(built, year, out_dir, workers, pdf, organizations=names)
        per_org_cpu = o_cpu / len(names)
        total_cpu = p_cpu + per_org_cpu * orgs
        result.update({
            "portal_wall_s": round(p_wall, 1), "portal_cpu_s": round(p_cpu, 1),
            "sampled_orgs": len(names), "sampled_orgs_wall_s": round(o_wall, 1),
            "per_org_cpu_s": round(per_org_cpu, 2),
            "extrapolated_total_cpu_s": round(total_cpu),
            # two cores: the portal report runs in one worker while the other renders organizations
            "extrapolated_idle_2core_wall_s": round(max(p_cpu, total_cpu / 2)),
            "errors": len(portal.errors) + len(orgs_out.errors),  # type: ignore[attr-defined]
        })
        out = portal
    result["load_avg_1m"] = round(os.getloadavg()[0], 1)
    result["output_mb"] = round(sum(p.stat().st_size for p in out_dir.iterdir()) / 1e6, 1)
    result["annex_pdfs"] = len(list(out_dir.glob("portal-anexo-*.pdf")))
    result["peak_rss_main_mb"] = round(_rss_mb(resource.RUSAGE_SELF))
    result["peak_rss_worker_mb"] = round(_rss_mb(resource.RUSAGE_CHILDREN))
    portal_pdf = out_dir / "portal.pdf"
    if portal_pdf.exists():
        info = subprocess.run(["pdfinfo", str(portal_pdf)], capture_output=True, text=True, check=False).stdout
        result["portal_pdf_pages"] = next((int(x.split()[1]) for x in info.splitlines() if x.startswith("Pages:")), None)
    built.store.close()
    print(json.dumps(result, ensure_ascii=False), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["sample", "synthetic", "scaling", "build", "render"])
    ap.add_argument("--spec", default="", help=argparse.SUPPRESS)  # the children: "build" and "render"
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="carpeta donde dejar las salidas")
    ap.add_argument("--sample", type=int, default=None,
                    help="synthetic: render the portal report plus N organization reports and extrapolate")
    ap.add_argument("--orgs", type=int, default=200, help="synthetic: organizations")
    ap.add_argument("--per-org", type=int, default=50, help="synthetic: datasets per organization")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    pdf = not args.no_pdf
    if args.scenario == "build":
        _build_only(args.spec)
    elif args.scenario == "render":
        _measure(args.spec)
    elif args.scenario == "sample":
        run(18, 4, (2025, 2026), args.workers, pdf, args.keep)
    elif args.scenario == "synthetic":
        run(args.orgs, args.per_org, (2026,), args.workers, pdf, args.keep, sample=args.sample)
    else:
        rows = [run(n, 10, (2026,), args.workers, pdf, args.keep) for n in (25, 50, 100)]
        base = rows[0]["render_cpu_s"] / rows[0]["organizations"]  # type: ignore[operator]
        for r in rows:
            ratio = (r["render_cpu_s"] / r["organizations"]) / base  # type: ignore[operator]
            print(f"{r['organizations']} organizaciones: {r['render_cpu_s']} s CPU; CPU por organización relativo a 25: {ratio:.2f}")


if __name__ == "__main__":
    main()
