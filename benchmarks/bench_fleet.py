"""Fleet benchmark: 33 synthetic portals (one national, 32 states; CKAN and DCAT data.json mixed; 100,000 datasets
in total) audited into one SQLite store, stage by stage (crawl, score, export incl. DQV), then compared.

    .venv/bin/python benchmarks/bench_fleet.py [--national 20000 --state 2500 --states 32]

The portals are served by one child process (``--serve``); each portal is audited by its own child process
(``--worker``), as ``audit --all`` does in turn, so time and peak RSS (``ru_maxrss`` after each stage) are that
portal's alone. Probing and content validation are left out: they depend on the resources' hosts, not on the number
of portals (see bench_probe.py / bench_content.py). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PY = sys.executable


def _dcat_record(pkg: dict[str, Any]) -> dict[str, Any]:
    """A synthetic CKAN package as the DCAT-US record a data.json would publish for it."""
    extras = {e["key"]: e["value"] for e in pkg.get("extras") or []}
    return {
        "identifier": pkg["id"], "title": pkg["title"], "description": pkg["notes"],
        "publisher": {"name": (pkg.get("organization") or {}).get("title")},
        "contactPoint": {"fn": pkg.get("maintainer"), "hasEmail": "mailto:" + (pkg.get("maintainer_email") or "")},
        "keyword": [t["name"] for t in pkg.get("tags") or []], "theme": [g["title"] for g in pkg.get("groups") or []],
        "issued": pkg["metadata_created"], "modified": pkg["metadata_modified"],
        "accrualPeriodicity": extras.get("frequency"), "spatial": extras.get("spatial_coverage"),
        "license": pkg.get("license_url") or pkg.get("license_title") or "", "accessLevel": "public",
        "distribution": [{"downloadURL": r["url"], "title": r["name"], "description": r["description"],
                          "format": r["format"], "mediaType": r["mimetype"], "modified": r["last_modified"]}
                         for r in pkg.get("resources") or []],
    }


def serve(national: int, state: int, states: int) -> None:
    from audit.sample_portal import SamplePortal
    from audit.sample_portal.catalog import Catalog, ServedFile
    from audit.sample_portal.synthetic import SyntheticCatalog

    def datajson(n: int):  # type: ignore[no-untyped-def]
        def build(base_url: str, now: datetime) -> Catalog:
            synthetic = SyntheticCatalog(n, base_url=base_url, now=now)
            doc = {"title": "Portal estatal sintético (DCAT)",
                   "dataset": [_dcat_record(synthetic.generate(i)) for i in range(n)]}
            catalog = Catalog(base_url=base_url, now=now)
            catalog.files["/data.json"] = ServedFile("application/json", body=json.dumps(doc).encode())
            return catalog
        return build

    portals = [{"name": "nacional", "kind": "ckan", "n": national, "portal": SamplePortal(synthetic=national)}]
    for k in range(states):
        if k % 2 == 0:
            portals.append({"name": f"estado-{k + 1:02d}", "kind": "ckan", "n": state,
                            "portal": SamplePortal(synthetic=state)})
        else:
            portals.append({"name": f"estado-{k + 1:02d}", "kind": "dcat", "n": state,
                            "portal": SamplePortal(catalog_factory=datajson(state), ckan_api=False)})
    for p in portals:
        p["portal"].start()
        p["url"] = p["portal"].url + ("/data.json" if p["kind"] == "dcat" else "")
    print(json.dumps([{k: v for k, v in p.items() if k != "portal"} for p in portals]), flush=True)
    threading.Event().wait()


def worker(config: str, name: str) -> None:
    from audit.config import load_config
    from audit.pipeline import run_audit, run_stage
    from audit.runs import mark_stage, set_status
    from audit.store import open_store

    cfg = load_config(config)
    entry = next(e for e in cfg.portals if e.name == name)
    pcfg = cfg.for_portal(entry)
    store = open_store(pcfg.database_url)
    out: dict[str, Any] = {"name": name}
    started = time.perf_counter()
    outcome = run_audit(pcfg, store, portal_url=entry.url, year=2026, stages=("crawl",),
                        out_dir=Path(pcfg.output_dir))
    out["crawl_s"] = time.perf_counter() - started
    out["crawl_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["datasets"] = outcome.counts.get("datasets")
    for stage in ("score", "export"):
        t = time.perf_counter()
        counts = run_stage(stage, store, outcome.run_id, pcfg, out_dir=Path(pcfg.output_dir))
        mark_stage(store, outcome.run_id, stage, done=True, counts=counts)
        out[f"{stage}_s"] = time.perf_counter() - t
        out[f"{stage}_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    set_status(store, outcome.run_id, "complete")  # probe/content left out on purpose (see the docstring)
    print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--national", type=int, default=20_000)
    ap.add_argument("--state", type=int, default=2_500)
    ap.add_argument("--states", type=int, default=32)
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--worker", nargs=2, metavar=("CONFIG", "NAME"))
    args = ap.parse_args()
    if args.serve:
        return serve(args.national, args.state, args.states)
    if args.worker:
        return worker(*args.worker)
    import yaml

    server = subprocess.Popen([PY, __file__, "--serve", "--national", str(args.national), "--state", str(args.state),
                               "--states", str(args.states)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        portals = json.loads(server.stdout.readline())
        tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
        config = {"database_url": f"sqlite:///{tmp / 'fleet.db'}", "output_dir": str(tmp / "salida"),
                  "content": {"enabled": False}, "reports": {"enabled": False},
                  "portals": [{"name": p["name"], "url": p["url"], "type": p["kind"]} for p in portals]}
        cfg_file = tmp / "config.yaml"
        cfg_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        rows = []
        total = time.perf_counter()
        for p in portals:
            proc = subprocess.run([PY, __file__, "--worker", str(cfg_file), p["name"]], cwd=REPO,
                                  capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
            if proc.returncode != 0:
                raise SystemExit(f"{p['name']} failed:\n{proc.stderr[-3000:]}")
            rows.append({**json.loads(proc.stdout.strip().splitlines()[-1]), "kind": p["kind"]})
            r = rows[-1]
            print(f"{r['name']:<10} {r['kind']:<5} {r['datasets']:>6} crawl {r['crawl_s']:6.1f}s score "
                  f"{r['score_s']:6.1f}s export {r['export_s']:6.1f}s peak {r['export_rss']:5.0f} MB", flush=True)
        t = time.perf_counter()
        from audit.comparison import compare, write_comparison
        from audit.config import load_config
        from audit.store import open_store

        cfg = load_config(cfg_file)
        data = compare(open_store(cfg.database_url), 2026, cfg.scoring.weights, {e.url: e.name for e in cfg.portals})
        write_comparison(data, tmp / "salida" / "comparacion" / "2026")
        compare_s = time.perf_counter() - t
        wall = time.perf_counter() - total
    finally:
        server.kill()
    print()
    print("| portals | kind | datasets | crawl | score | export (CSV/JSON + DQV) | peak RSS (max of portals) |")
    print("|---|---|---|---|---|---|---|")
    for kind in ("ckan", "dcat"):
        sel = [r for r in rows if r["kind"] == kind]
        print(f"| {len(sel)} | {kind} | {sum(r['datasets'] for r in sel):,} | {sum(r['crawl_s'] for r in sel):.1f} s "
              f"| {sum(r['score_s'] for r in sel):.1f} s | {sum(r['export_s'] for r in sel):.1f} s "
              f"| {max(r['export_rss'] for r in sel):.0f} MB |")
    nat = rows[0]
    print(f"| national alone | {nat['kind']} | {nat['datasets']:,} | {nat['crawl_s']:.1f} s | {nat['score_s']:.1f} s "
          f"| {nat['export_s']:.1f} s | {nat['export_rss']:.0f} MB |")
    print(f"\ncomparison of {len(data['portals'])} portals: {compare_s:.1f} s; wall time in total: {wall:.0f} s "
          f"({sum(r['datasets'] for r in rows):,} datasets)")


if __name__ == "__main__":
    main()
