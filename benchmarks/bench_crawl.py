"""Crawl benchmark: the synthetic portal (10,000 / 100,000 datasets) into SQLite, against `ckanapi dump`.

    .venv/bin/python benchmarks/bench_crawl.py --datasets 10000 [--baseline]

The sample portal runs in its own process; the crawl and the baseline run as child processes so peak RSS
(ru_maxrss of the child) and CPU time (user + system, steadier than wall time on a shared machine) are measured per
tool. The crawl command's start-up (importing what ``run_audit.py crawl`` imports) is measured first, median of 5.
Results are printed as Markdown table rows.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def start_portal(n: int, latency_ms: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([PY, "-m", "audit.sample_portal", "--synthetic", str(n), "--port", "0",
                             "--latency-ms", str(latency_ms)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line or "")
        if m:
            return proc, m.group(1)
    proc.kill()
    raise SystemExit("sample portal did not start")


def measure(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, exit code) of ``cmd``, run from a fresh measuring process so ru_maxrss is
    that command's alone."""
    code = (
        "import resource,subprocess,sys,time,json;"
        "t=time.perf_counter();p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
        "w=time.perf_counter()-t;u=resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(json.dumps([w,u.ru_utime+u.ru_stime,u.ru_maxrss/1024,p.returncode]))"
    )
    # ckanapi dump starts `ckanapi` worker processes by name: the venv's bin must be on PATH.
    env = dict(os.environ, PATH=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    out = subprocess.run([PY, "-c", code, *cmd], capture_output=True, text=True, cwd=REPO, check=True,
                         env=env).stdout
    import json

    wall, cpu, rss, rc = json.loads(out.strip().splitlines()[-1])
    return wall, cpu, rss, rc


def startup() -> tuple[float, float]:
    """Median (wall, CPU) seconds of importing what the crawl command imports, in a fresh interpreter."""
    runs = [measure([PY, "-c", "import audit.cli, audit.pipeline, audit.crawl, rules"])[:2] for _ in range(5)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=10_000)
    ap.add_argument("--baseline", action="store_true", help="also time `ckanapi dump datasets --all`")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="server-side delay per API call for both tools (a real CKAN answers in tens of ms)")
    args = ap.parse_args()
    swall, scpu = startup()
    print(f"| crawl command start-up (imports) | {swall:.2f} s | CPU {scpu:.2f} s |")
    portal, url = start_portal(args.datasets, args.latency_ms)
    print(f"synthetic portal: {args.datasets:,} datasets, {args.latency_ms:g} ms per API call")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "bench.yaml"
            cfg.write_text("reports:\n  enabled: false\n")
            db = f"sqlite:///{tmp}/bench.db"
            wall, cpu, rss, rc = measure([PY, str(REPO / "run_audit.py"), "crawl", "--portal", url, "--db", db,
                                     "--config", str(cfg)])
            assert rc == 0, "crawl failed"
            print(f"| auditor crawl | {args.datasets:,} | {wall:.1f} s | CPU {cpu:.1f} s | "
                  f"{args.datasets / wall:,.0f} /s | {rss:.0f} MB |")
            if args.baseline:
                ckanapi = str(Path(PY).with_name("ckanapi"))
                bwall, bcpu, brss, brc = measure([ckanapi, "dump", "datasets", "--all", "-O", f"{tmp}/dump.jsonl",
                                            "-r", url, "-q"])
                print(f"| ckanapi dump datasets --all | {args.datasets:,} | {bwall:.1f} s | CPU {bcpu:.1f} s | "
                      f"{args.datasets / bwall:,.0f} /s | {brss:.0f} MB | rc={brc}")
                print(f"speed-up: {bwall / wall:.1f}x")
    finally:
        portal.terminate()
        portal.wait(timeout=10)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
