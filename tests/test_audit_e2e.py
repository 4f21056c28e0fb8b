"""End to end: `audit` on the embedded sample portal, asserting the planted defects and the output contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from audit.pipeline import run_audit
from audit.store import AuditRun, DatasetSnapshot, RuleResultRecord, open_store
from rules import CHARACTERISTICS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    from audit.config import load_config
    from audit.sample_portal import SamplePortal

    tmp = tmp_path_factory.mktemp("e2e")
    cfg = load_config(None, {
        "output_dir": str(tmp / "out"),
        "http": {"connect_timeout_s": 3, "read_timeout_s": 5, "total_timeout_s": 15, "retries": 1,
                 "backoff_base_s": 0.05, "retry_after_cap_s": 2},
        "reports": {"enabled": False},
    })
    store = open_store(f"sqlite:///{tmp / 'audit.db'}")
    with SamplePortal() as portal:
        commitments = tmp / "compromisos.csv"
        from audit.sample_portal import DEMO_COMMITMENTS_CSV

        commitments.write_text(DEMO_COMMITMENTS_CSV, encoding="utf-8")
        outcome = run_audit(cfg, store, portal_url=portal.url, commitments=str(commitments))
    return store, outcome, tmp / "out" / str(outcome.year)


def _statuses(store, run_id):
    out: dict[str, dict[str, str]] = {}
    with store.session() as s:
        for name, char, status in s.execute(
            select(DatasetSnapshot.name, RuleResultRecord.characteristic, RuleResultRecord.status)
            .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
            .where(RuleResultRecord.run_id == run_id)
        ):
            out.setdefault(name, {})[char] = status
    return out


def test_audit_completes_and_scores_every_dataset(audited):
    store, outcome, _ = audited
    assert outcome.status == "complete"
    statuses = _statuses(store, outcome.run_id)
    assert len(statuses) == 69
    assert all(set(v) == set(CHARACTERISTICS) for v in statuses.values())


def test_planted_defects_get_the_expected_status(audited):
    from audit.sample_portal import EXPECTED

    store, outcome, _ = audited
    statuses = _statuses(store, outcome.run_id)
    wrong = [
        f"{ds}.{char}: expected {exp}, got {statuses.get(ds, {}).get(char)}"
        for ds, chars in EXPECTED.items() for char, exp in chars.items()
        if statuses.get(ds, {}).get(char) != exp
    ]
    assert not wrong, "\n".join(wrong)


def test_first_audit_has_no_history_so_permanentes_is_not_applicable(audited):
    store, outcome, _ = audited
    assert {v["permanentes"] for v in _statuses(store, outcome.run_id).values()} == {"not_applicable"}


def test_output_files_follow_the_contract(audited):
    store, outcome, out = audited
    with (out / "scores.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["organization", "dataset", "characteristic", "status", "score", "findings", "evidencia"]
    assert len(rows) == 69 * 10
    oportunos = [r for r in rows if r["characteristic"] == "oportunos" and r["status"] == "pass"]
    assert oportunos and all("last_update=" in r["evidencia"] for r in oportunos)  # a pass is explained too
    assert {r["status"] for r in rows} <= {"pass", "partial", "fail", "not_applicable"}
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    with (out / "datasets.csv").open(encoding="utf-8") as fh:
        ds = list(csv.DictReader(fh))
    assert list(ds[0])[:5] == ["organization", "dataset", "title", "score", "conforme"]
    assert list(ds[0])[5:] == list(CHARACTERISTICS)
    assert len(ds) == 69
    with (out / "organizations.csv").open(encoding="utf-8") as fh:
        orgs = list(csv.DictReader(fh))
    assert list(orgs[0])[:5] == ["organization", "title", "datasets", "score", "conformes"]
    assert [f"{c}_pct" for c in CHARACTERISTICS] == list(orgs[0])[5:15]
    assert list(orgs[0])[15:19] == ["committed", "published", "progress_pct", "quality_progress_pct"]
    assert list(orgs[0])[19:] == [f"{c}_pct_parcial" for c in CHARACTERISTICS]
    assert len(orgs) == 18
    assert any(o["datasets"] == "0" for o in orgs), "organizations without datasets are listed"
    data = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert len(data["datasets"]) == 69
    first = data["datasets"][0]["results"][0]
    assert {"characteristic", "status", "score", "findings"} <= set(first)
    findings = [f for d in data["datasets"] for r in d["results"] for f in r["findings"]]
    assert findings and all(f["message_es"] for f in findings)
    assert any(f["remediation_es"] for f in findings)


def test_progress_indicator_per_organization(audited):
    store, outcome, out = audited
    with (out / "organizations.csv").open(encoding="utf-8") as fh:
        orgs = {o["organization"]: o for o in csv.DictReader(fh)}
    with_commitments = [o for o in orgs.values() if int(o["committed"]) > 0]
    without = [o for o in orgs.values() if int(o["committed"]) == 0]
    assert with_commitments and without
    assert all(o["progress_pct"] == "" for o in without)  # "sin compromisos registrados", not 0 or 100
    for o in with_commitments:
        assert float(o["progress_pct"]) == round(100 * int(o["published"]) / int(o["committed"]), 1)


def test_rescoring_a_stored_run_is_idempotent(audited):
    from audit.config import load_config
    from audit.scoring import run_score_stage

    store, outcome, _ = audited
    before = _statuses(store, outcome.run_id)
    run_score_stage(store, outcome.run_id, load_config(None, {"reports": {"enabled": False}}))
    assert _statuses(store, outcome.run_id) == before
    with store.session() as s:
        assert s.get(AuditRun, outcome.run_id).status == "complete"
