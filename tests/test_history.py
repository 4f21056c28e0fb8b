"""History across runs: retired datasets, removed resources (permanentes), re-audits on the same store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit.pipeline import run_audit
from audit.store import DatasetSnapshot, RuleResultRecord, open_store


def _results(store, run_id):
    out: dict[str, dict[str, tuple[str, list]]] = {}
    with store.session() as s:
        for name, presence, char, status, findings in s.execute(
            select(DatasetSnapshot.name, DatasetSnapshot.presence, RuleResultRecord.characteristic,
                   RuleResultRecord.status, RuleResultRecord.findings)
            .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
            .where(RuleResultRecord.run_id == run_id)
        ):
            out.setdefault(name, {"presence": presence})[char] = (status, [f["code"] for f in findings])
    return out


@pytest.fixture
def cfg(fast_cfg):
    return fast_cfg.model_copy(update={"reports": fast_cfg.reports.model_copy(update={"enabled": False}),
                                       "content": fast_cfg.content.model_copy(update={"enabled": False})})


def _good_dataset(portal):
    from audit.sample_portal import EXPECTED

    return next(n for n, v in EXPECTED.items()
                if all(s == "pass" for c, s in v.items() if c != "permanentes") and len(v) >= 9)


def test_three_runs_retired_dataset_and_removed_resource(sample_portal, cfg, db_url):
    store = open_store(db_url)  # SQLite and PostgreSQL (production)
    first = run_audit(cfg, store, portal_url=sample_portal.url)
    r1 = _results(store, first.run_id)
    assert {v["permanentes"][0] for k, v in r1.items()} == {"not_applicable"}

    # Second run, nothing changed: every dataset whose resources stayed reachable keeps them → pass.
    second = run_audit(cfg, store, portal_url=sample_portal.url)
    r2 = _results(store, second.run_id)
    good = _good_dataset(sample_portal)
    assert r2[good]["permanentes"][0] == "pass"

    # Third run: one dataset retired from the portal, and an earlier period (resource) removed from another.
    names = sorted(r2)
    retired = names[0] if names[0] != good else names[1]
    sample_portal.catalog.delete_dataset(retired)
    pkg = sample_portal.catalog.get_dataset(good)
    assert len(pkg["resources"]) >= 1
    removed_res = pkg["resources"][0]["name"]
    sample_portal.catalog.patch_dataset(good, {"resources": pkg["resources"][1:]})
    third = run_audit(cfg, store, portal_url=sample_portal.url)
    r3 = _results(store, third.run_id)

    assert r3[retired]["presence"] == "retired"
    assert r3[retired]["permanentes"][0] == "fail"
    assert all(r3[retired][c][0] == "not_applicable" for c in r3[retired] if c not in ("presence", "permanentes"))
    assert r3[good]["permanentes"][0] == "fail", f"resource {removed_res!r} disappeared"
    assert len(r3) == len(r2)  # the retired dataset stays in the evaluation
