"""The read model (audit/results/): one ranking, one summary and one duplicate scan per run, shared by the reports,
the exports and the dashboard."""

from __future__ import annotations

from pathlib import Path

from test_reports_store import open_populated

from audit.config import AuditConfig
from audit.exports import collect
from audit.results import OrgRow, earlier_years, load_run_data, org_rows, portal_context, rank, run_summary
from audit.results.cache import ResultsCache
from audit.results.table import build_table
from audit.store.models import AuditRun
from reports.model import build_organization_report, build_portal_report
from rules import common_params


def test_rank_gives_ties_the_same_position_and_skips_the_next() -> None:
    items = [("a", 0.5), ("b", 0.9), ("c", 0.5 + 1e-12), ("d", 0.1), ("e", 0.9)]
    ranked = [(name, pos, tied) for (name, _s), pos, tied in rank(items, lambda it: it[1])]
    assert ranked == [("b", 1, True), ("e", 1, True), ("c", 3, True), ("a", 3, True), ("d", 5, False)]


def test_reports_dashboard_and_exports_read_the_same_figures(tmp_path: Path) -> None:
    built = open_populated(f"sqlite:///{tmp_path / 'r.db'}", orgs=6, datasets_per_org=3)
    run_id, weights = built.runs[2026], dict(AuditConfig().scoring.weights)
    report = build_portal_report(built.store, run_id, weights=weights)
    with built.store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        data = load_run_data(s, run_id, weights)
        orgs = org_rows(s, run_id, data)
        summary = run_summary(s, run, data, orgs)
        table = build_table(s, run_id, weights)
        cached = ResultsCache().get(s, run, weights)
        years = earlier_years(s, run, 2026, weights)
    assert summary == report.summary and [o.name for o in orgs] == [o.name for o in report.ranking]
    assert all(isinstance(o, OrgRow) for o in report.ranking)
    assert table.score == summary.score and table.conformes == summary.conformes  # one computation, same order
    assert table.evaluated == summary.evaluated and cached.datasets == table.datasets
    exported = {d["dataset"]: d["score"] for d in collect(built.store, run_id, weights)["datasets"]}
    assert exported == {d["dataset"]: d["score"] for d in table.datasets}
    assert [y.year for y in years] == [2025] and report.trend[0] == years[0].summary


def test_the_duplicate_scan_runs_once_per_run_for_all_organization_reports(tmp_path: Path) -> None:
    built = open_populated(f"sqlite:///{tmp_path / 'r.db'}", orgs=4, datasets_per_org=2)
    run_id = built.runs[2026]
    ctx = portal_context(built.store, run_id)
    params = common_params({})
    first = ctx.duplicates(built.store, run_id, params)
    for name in built.org_names:
        build_organization_report(built.store, run_id, name, context=ctx)
    assert ctx.duplicates(built.store, run_id, params) is first  # kept, not scanned again
    assert len(ctx._duplicates) == 1
