"""Exports: contract columns and spreadsheet formula-injection neutralisation."""

from __future__ import annotations

import csv
import json

import pytest

from audit.exports import safe_cell, write_exports
from audit.store import (
    AuditRun,
    DatasetSnapshot,
    OrganizationResult,
    RuleResultRecord,
    open_store,
)
from audit.store.db import utcnow
from rules import CHARACTERISTICS


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x"])
def test_formula_prefixes_are_neutralised(text):
    assert safe_cell(text).startswith("'")


@pytest.mark.parametrize("value", ["Secretaría", "1,234", 0.5, 3, None, ""])
def test_ordinary_values_untouched(value):
    assert safe_cell(value) == value


def test_hostile_titles_are_neutralised_in_every_file(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    pid = store.get_or_create_portal("http://127.0.0.1:1", "Portal")
    with store.session() as s:
        run = AuditRun(portal_id=pid, started_at=utcnow(), status="complete", year=2026, counts={}, crawl_state={},
                       stages_done=[])
        s.add(run)
        s.flush()
        ds = DatasetSnapshot(run_id=run.id, ckan_id="1", name="malicioso", title='=HYPERLINK("http://x.invalid")',
                             organization_name="org", raw={})
        s.add(ds)
        s.flush()
        for c in CHARACTERISTICS:
            s.add(RuleResultRecord(run_id=run.id, dataset_snapshot_id=ds.id, characteristic=c, status="pass",
                                   score=1.0, findings=[], evidence={}))
        s.add(OrganizationResult(run_id=run.id, organization_name="org", title="@SUM(1)", datasets=1, score=1.0,
                                 conformes=1, characteristic_pct={c: 100.0 for c in CHARACTERISTICS}, committed=0,
                                 published=0, progress_pct=None))
        run_id = run.id
    paths = write_exports(store, run_id, tmp_path / "2026", {})
    rows = list(csv.DictReader(paths["datasets.csv"].open(encoding="utf-8")))
    assert rows[0]["title"].startswith("'=")
    assert rows[0]["conforme"] == "si"
    orgs = list(csv.DictReader(paths["organizations.csv"].open(encoding="utf-8")))
    assert orgs[0]["title"] == "'@SUM(1)"
    assert orgs[0]["progress_pct"] == ""  # sin compromisos registrados
    data = json.loads(paths["scores.json"].read_text(encoding="utf-8"))
    assert data["datasets"][0]["title"] == '=HYPERLINK("http://x.invalid")'  # JSON keeps the real value
    assert not list(tmp_path.glob("2026/*.tmp"))
