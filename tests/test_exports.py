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
    assert rows[0]["conforme"] == "sí"
    orgs = list(csv.DictReader(paths["organizations.csv"].open(encoding="utf-8")))
    assert orgs[0]["title"] == "'@SUM(1)"
    assert orgs[0]["progress_pct"] == ""  # sin compromisos registrados
    data = json.loads(paths["scores.json"].read_text(encoding="utf-8"))
    assert data["datasets"][0]["title"] == '=HYPERLINK("http://x.invalid")'  # JSON keeps the real value
    assert not list(tmp_path.glob("2026/*.tmp"))


SCORES_HEADER = ["organization", "dataset", "characteristic", "status", "score", "findings"]
ORGANIZATIONS_HEADER = ["organization", "title", "datasets", "score", "conformes", *[f"{c}_pct" for c in CHARACTERISTICS],
                        "committed", "published", "progress_pct", "quality_progress_pct"]


def _store_with_evidence(url: str):  # type: ignore[no-untyped-def]
    """One organization, two datasets: evidence of real rules (oportunos, integrales, libre_uso, accesibles) plus
    hostile values; libre_uso partial in both (share-alike), so ``libre_uso_pct`` is 0 but nothing fails."""
    store = open_store(url)
    pid = store.get_or_create_portal("http://127.0.0.1:1", "Portal")
    evidence = {
        "oportunos": {"frequency_key": None, "frequency": "=cmd|' /C calc'!A0", "frequency_kind": "unknown",
                      "period_days": None, "last_update": "2018-02-08T10:37:01+00:00",
                      "last_update_source": "http_last_modified", "age_days": 3213.4},
        "integrales": {"completeness": 0.5833, "items": {"titulo": 1.0, "frecuencia": 0.0}, "frequency_key": None},
        "libre_uso": {"category": "share_alike", "license_id": "odc-odbl", "matched_by": "license_id"},
        "accesibles": {"resources": 2, "checked": 2, "reachable": 1,
                       "detail": [{"resource": "a", "outcome": "ok"}, {"resource": "b", "outcome": "not_found"}]},
        "primarios": {"=HYPERLINK(\"http://x.invalid\")": "x", "sources": ["INEGI", "-1+1"]},
        "gratuitos": {"note": "línea 1\nlínea 2\t\r" + "x" * 500},
    }
    with store.session() as s:
        run = AuditRun(portal_id=pid, started_at=utcnow(), status="complete", year=2026, counts={}, crawl_state={},
                       stages_done=[])
        s.add(run)
        s.flush()
        for name in ("uno", "dos"):
            ds = DatasetSnapshot(run_id=run.id, ckan_id=name, name=name, title=name, organization_name="org", raw={})
            s.add(ds)
            s.flush()
            for c in CHARACTERISTICS:
                status = "partial" if c == "libre_uso" else "not_applicable" if c == "permanentes" else "pass"
                s.add(RuleResultRecord(run_id=run.id, dataset_snapshot_id=ds.id, characteristic=c, status=status,
                                       score=0.5 if status == "partial" else 1.0, findings=[],
                                       evidence=evidence.get(c, {})))
        s.add(OrganizationResult(run_id=run.id, organization_name="org", title="Org", datasets=2, score=0.95,
                                 conformes=0, characteristic_pct={c: 100.0 for c in CHARACTERISTICS} | {
                                     "libre_uso": 0.0, "permanentes": None},
                                 committed=0, published=0, progress_pct=None))
        run_id = run.id
    return store, run_id


def test_scores_carry_the_evidence_behind_each_verdict(sqlite_url, tmp_path):
    store, run_id = _store_with_evidence(sqlite_url)
    paths = write_exports(store, run_id, tmp_path / "2026", {})
    with paths["scores.csv"].open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [*SCORES_HEADER, "evidencia"]  # appended: existing columns keep their positions
    rows = {(r["dataset"], r["characteristic"]): r for r in csv.DictReader(paths["scores.csv"].open(encoding="utf-8"))}
    opo = rows[("uno", "oportunos")]["evidencia"]
    assert opo.startswith("frequency=")  # None values left out
    assert "last_update=2018-02-08T10:37:01+00:00; last_update_source=http_last_modified; age_days=3213.4" in opo
    assert rows[("uno", "integrales")]["evidencia"] == "completeness=0.5833; items=titulo:1,frecuencia:0"
    assert rows[("uno", "libre_uso")]["evidencia"] == "category=share_alike; license_id=odc-odbl; matched_by=license_id"
    assert rows[("uno", "accesibles")]["evidencia"] == "resources=2; checked=2; reachable=1"  # per-resource detail: JSON
    assert rows[("uno", "permanentes")]["evidencia"] == ""
    # a cell never starts a formula, and stays one line of bounded length
    assert rows[("uno", "primarios")]["evidencia"].startswith("'=HYPERLINK")
    note = rows[("uno", "gratuitos")]["evidencia"]
    assert "\n" not in note and "\r" not in note and "\t" not in note and len(note) <= 400 and note.endswith("…")
    data = json.loads(paths["scores.json"].read_text(encoding="utf-8"))
    results = {r["characteristic"]: r for r in data["datasets"][0]["results"]}
    assert results["accesibles"]["evidence"]["detail"][1] == {"resource": "b", "outcome": "not_found"}
    assert results["oportunos"]["evidence"]["frequency"] == "=cmd|' /C calc'!A0"  # JSON keeps the real value


def test_organizations_add_the_partial_share_after_the_existing_columns(sqlite_url, tmp_path):
    store, run_id = _store_with_evidence(sqlite_url)
    paths = write_exports(store, run_id, tmp_path / "2026", {})
    with paths["organizations.csv"].open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [*ORGANIZATIONS_HEADER, *[f"{c}_pct_parcial" for c in CHARACTERISTICS]]
    # no new column ends in "_pct": readers that take every *_pct column as a characteristic keep working
    assert [h for h in header if h.endswith("_pct")] == [h for h in ORGANIZATIONS_HEADER if h.endswith("_pct")]
    row = next(csv.DictReader(paths["organizations.csv"].open(encoding="utf-8")))
    assert (row["libre_uso_pct"], row["libre_uso_pct_parcial"]) == ("0.0", "100.0")  # all partial, none failing
    assert (row["accesibles_pct_parcial"], row["permanentes_pct_parcial"]) == ("0.0", "")  # "": does not apply
    data = json.loads(paths["scores.json"].read_text(encoding="utf-8"))
    assert data["organizations"][0]["libre_uso_pct_parcial"] == 100.0
