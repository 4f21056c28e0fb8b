"""Crawl benchmark: the synthetic portal (10,000 / 100,000 datasets) into SQLite, against `ckanapi dump`.

    .venv/bin/python benchmarks/bench_crawl.py --datasets 10000 [--baseline]

The sample portal runs in its own process; the crawl and the baseline run as child processes so peak RSS
(ru_maxrss of the child) and CPU time (user + system, steadier than wall time on a shared machine) are measured per
tool. The crawl command's start-up (importing what ``run_audit.py crawl`` imports) is measured first, median of 5.
The baseline is ``ckanapi dump datasets --all -p 3`` (issue 16's target is ≥ 4× it at zero latency). Results are
printed as Markdown table rows.
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


#: both tools run as an installed program does: with Python's bytecode cache. A shell that sets
#: PYTHONDONTWRITEBYTECODE (some sandboxes do) would make every child recompile its imports (~4 s of the crawl,
#: ~1 s of each ckanapi worker) and time the compiler instead of the tools.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_bytecode() -> None:
    """Write the bytecode cache of the project and its environment once (a no-op when it is up to date)."""
    subprocess.run([PY, "-m", "compileall", "-q", "-j", "0", str(REPO / "audit"), str(REPO / "rules"),
                    str(Path(sys.prefix) / "lib")],
                   cwd=REPO, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def start_portal(n: int, latency_ms: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([PY, "-m", "audit.sample_portal", "--synthetic", str(n), "--port", "0",
                             "--latency-ms", str(latency_ms)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=CHILD_ENV)
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
    env = dict(CHILD_ENV, PATH=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}")
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
    ap.add_argument("--baseline", action="store_true", help="also time `ckanapi dump datasets --all -p 3` (the target of issue 16)")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="server-side delay per API call for both tools (a real CKAN answers in tens of ms)")
    args = ap.parse_args()
    compile_bytecode()
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
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
                                            "-r", url, "-q", "-p", "3"])
                print(f"| ckanapi dump datasets --all -p 3 | {args.datasets:,} | {bwall:.1f} s | CPU {bcpu:.1f} s | "
                      f"{args.datasets / bwall:,.0f} /s | {brss:.0f} MB | rc={brc}")
                print(f"speed-up: {bwall / wall:.1f}x")
        print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    finally:
        portal.terminate()
        portal.wait(timeout=10)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
