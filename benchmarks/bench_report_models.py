"""CPU of building every organization report's model (no HTML or PDF): the read model's share of the report stage.

Builds the same store as ``bench_reports.py`` (tests/test_reports_store.py) and times one duplicate scan, then
``build_portal_context`` plus ``build_organization_report`` for every organization in this process.

    .venv/bin/python benchmarks/bench_report_models.py                 # 200 organizations × 10 datasets
    .venv/bin/python benchmarks/bench_report_models.py --orgs 50 --per-org 40
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_reports_store import open_populated  # noqa: E402

from audit.config import AuditConfig  # noqa: E402
from audit.duplicates import find_duplicates  # noqa: E402
from reports.model import build_organization_report, build_portal_context  # noqa: E402
from rules import common_params  # noqa: E402


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=200)
    ap.add_argument("--per-org", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-models-"))
    try:
        built = open_populated(f"sqlite:///{tmp / 'audit.db'}", orgs=args.orgs, datasets_per_org=args.per_org,
                               years=(2026,))
        run_id, cfg = built.runs[2026], AuditConfig()
        weights, rules_params = dict(cfg.scoring.weights), cfg.rules.model_dump()
        c = _cpu_s()
        find_duplicates(built.store, run_id, common_params(rules_params))
        scan = _cpu_s() - c
        c, t = _cpu_s(), time.perf_counter()
        context = build_portal_context(built.store, run_id, weights=weights)
        for name in built.org_names:
            build_organization_report(built.store, run_id, name, weights=weights, rules_params=rules_params,
                                      context=context)
        print(json.dumps({"organizations": args.orgs, "datasets": args.orgs * args.per_org,
                          "duplicate_scan_cpu_s": round(scan, 3), "models_cpu_s": round(_cpu_s() - c, 2),
                          "models_wall_s": round(time.perf_counter() - t, 2),
                          "load_avg_1m": round(os.getloadavg()[0], 1)}), flush=True)
        built.store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
