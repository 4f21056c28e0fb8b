"""Annual consolidation: the year's snapshot run and each resource's availability across the year's runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit.availability import annual_snapshot_run, availability_for_year, describe_availability, year_runs
from audit.evidence import Availability
from audit.store.db import open_store
from audit.store.models import AuditRun, DatasetSnapshot, Portal, Probe, ResourceSnapshot

YEAR = 2025
RUNS = 10  # weekly-ish runs of the year


@pytest.fixture()
def store(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 'annual.db'}")
    yield st
    st.close()


def _add_run(s, portal_id: int, when: datetime, *, year: int, status: str = "complete",
             outcomes: dict[str, str] | None = None) -> int:
    """One run listing dataset 'padron' with the given resource → probe outcome (None = listed, not probed)."""
    run = AuditRun(portal_id=portal_id, started_at=when, finished_at=when + timedelta(minutes=5), status=status,
                   year=year, kind="periodic", counts={}, stages_done=[], crawl_state={})
    s.add(run)
    s.flush()
    ds = DatasetSnapshot(run_id=run.id, ckan_id="ds-1", name="padron", organization_name="secretaria-de-salud",
                         raw={}, num_resources=len(outcomes or {}))
    s.add(ds)
    s.flush()
    for pos, (key, outcome) in enumerate((outcomes or {}).items()):
        ckan_id, url = (None, key) if key.startswith("http") else (key, f"http://127.0.0.1/files/{key}.csv")
        res = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, ckan_id=ckan_id, position=pos, url=url,
                               format="CSV", raw={})
        s.add(res)
        s.flush()
        if outcome is not None:
            s.add(Probe(run_id=run.id, resource_snapshot_id=res.id, outcome=outcome, checked_at=when, redirects=[]))
    return run.id


@pytest.fixture()
def year_of_runs(store):
    """Ten complete runs in 2025: 'siempre' always up, 'una-noche' down once, 'casi-nunca' down 8 of 10,
    'sin-id' (no CKAN id, keyed by URL) up always; plus runs that must not count."""
    start = datetime(YEAR, 1, 6, 8, 30, tzinfo=UTC)
    with store.session() as s:
        portal = Portal(url="http://127.0.0.1:5000", title="Portal", created_at=start)
        s.add(portal)
        s.flush()
        ids = []
        for i in range(RUNS):
            outcomes = {
                "siempre": "ok",
                "una-noche": "server_error" if i == 3 else "ok",
                "casi-nunca": "ok" if i in (0, 7) else ("timeout" if i % 2 else "not_found"),
                "http://127.0.0.1/files/sin-id.csv": "landing_page",  # reachable (2xx with content)
                "no-sondeado": "ok" if i < 5 else None,  # only probed in half of the runs
            }
            ids.append(_add_run(s, portal.id, start + timedelta(weeks=i), year=YEAR, outcomes=outcomes))
        # must be ignored: a failed run, an interrupted one, and last year's run
        _add_run(s, portal.id, start + timedelta(weeks=20), year=YEAR, status="failed", outcomes={"siempre": "timeout"})
        _add_run(s, portal.id, start + timedelta(weeks=21), year=YEAR, status="interrupted",
                 outcomes={"siempre": "timeout"})
        _add_run(s, portal.id, start - timedelta(weeks=2), year=YEAR - 1, outcomes={"siempre": "timeout"})
        return portal.id, ids


def test_resource_down_one_night_keeps_high_availability(store, year_of_runs):
    portal_id, _ = year_of_runs
    av = availability_for_year(store, portal_id, YEAR)
    assert av["siempre"] == Availability(10, 10)
    assert av["una-noche"] == Availability(9, 10)
    assert av["una-noche"].ratio >= 0.9  # passes the default 90 % threshold


def test_resource_down_most_of_the_year_has_low_availability(store, year_of_runs):
    portal_id, _ = year_of_runs
    av = availability_for_year(store, portal_id, YEAR)
    assert av["casi-nunca"] == Availability(2, 10)
    assert av["casi-nunca"].ratio < 0.9


def test_resource_without_ckan_id_is_keyed_by_url_and_landing_page_counts_as_reachable(store, year_of_runs):
    portal_id, _ = year_of_runs
    av = availability_for_year(store, portal_id, YEAR)
    assert av["http://127.0.0.1/files/sin-id.csv"] == Availability(10, 10)


def test_runs_that_did_not_probe_a_resource_do_not_count_against_it(store, year_of_runs):
    portal_id, _ = year_of_runs
    assert availability_for_year(store, portal_id, YEAR)["no-sondeado"] == Availability(5, 5)


def test_failed_interrupted_and_other_year_runs_are_ignored(store, year_of_runs):
    portal_id, ids = year_of_runs
    assert year_runs(store, portal_id, YEAR) == ids
    assert availability_for_year(store, portal_id, YEAR)["siempre"].total_runs == RUNS
    assert availability_for_year(store, portal_id, YEAR - 1)["siempre"] == Availability(0, 1)
    assert availability_for_year(store, portal_id, YEAR + 1) == {}


def test_until_run_id_counts_earlier_runs_and_the_run_being_scored(store, year_of_runs):
    portal_id, ids = year_of_runs
    av = availability_for_year(store, portal_id, YEAR, until_run_id=ids[4])
    assert av["una-noche"] == Availability(4, 5)
    # the run being scored counts even though it is still 'running'
    with store.session() as s:
        s.get(AuditRun, ids[4]).status = "running"
    assert availability_for_year(store, portal_id, YEAR, until_run_id=ids[4])["siempre"].total_runs == 5
    assert availability_for_year(store, portal_id, YEAR)["siempre"].total_runs == RUNS - 1


def test_snapshot_is_the_last_complete_run_of_the_year(store, year_of_runs):
    portal_id, ids = year_of_runs
    assert annual_snapshot_run(store, portal_id, YEAR) == ids[-1]
    assert annual_snapshot_run(store, portal_id, YEAR + 1) is None


def test_availability_is_described_in_spanish():
    assert describe_availability(Availability(50, 52)) == "disponible en 50 de 52 revisiones (96 %)"
    assert describe_availability(Availability(1, 1)) == "disponible en 1 de 1 revisión (100 %)"


def test_accesibles_uses_availability_when_the_rule_supports_it(store, year_of_runs):
    """Integration with the rules helper's accesibles rule (skipped until it lands)."""
    rules = pytest.importorskip("rules")
    rule = next((r for r in getattr(rules, "RULES", ()) if r.id == "accesibles"), None)
    if rule is None or not hasattr(rules, "params_for"):
        pytest.skip("rules.RULES / accesibles aún no existen")
    from audit.evidence import DatasetContext, ProbeEvidence, ResourceEvidence

    portal_id, _ = year_of_runs
    av = availability_for_year(store, portal_id, YEAR)
    params = rules.params_for({})["accesibles"]

    def status_for(key: str, tonight: str) -> str:
        res = ResourceEvidence(resource={"id": key, "url": f"http://127.0.0.1/files/{key}.csv", "format": "CSV"},
                               probe=ProbeEvidence(outcome=tonight, status_code=200 if tonight == "ok" else 500),
                               availability=av[key])
        ctx = DatasetContext(dataset={"name": "padron", "resources": [res.resource]}, organization="x",
                             resources=(res,), audit_date=datetime(YEAR, 12, 30, tzinfo=UTC), has_previous_runs=True)
        return str(rule.evaluate(ctx, params).status)

    # down tonight but up 9 of 10 nights: not condemned; up tonight but down most of the year: fails
    assert status_for("una-noche", "server_error") == "pass"
    assert status_for("casi-nunca", "ok") != "pass"


@pytest.mark.slow
def test_annual_evaluation_on_the_sample_portal_writes_the_year_outputs(tmp_path, metadata_audit_cfg):
    """End to end: two audits of the year, then the annual evaluation picks the last one and writes OUT/<year>/;
    a year without runs is audited on the spot."""
    try:
        from audit.pipeline import run_audit
        from audit.sample_portal import SamplePortal
    except ImportError as exc:
        pytest.skip(f"necesita audit.pipeline y audit.sample_portal: {exc}")
    from audit.annual import annual_evaluation

    out = tmp_path / "salida"
    with SamplePortal(synthetic=15) as portal:
        cfg = metadata_audit_cfg(portal.url, output_dir=str(out))
        st = open_store(cfg.database_url)
        try:
            runs = [run_audit(cfg, st, portal_url=portal.url, year=YEAR, kind="periodic", out_dir=tmp_path / "x")
                    for _ in range(2)]
            assert [r.status for r in runs] == ["complete", "complete"]
            result = annual_evaluation(st, cfg, portal_url=portal.url, year=YEAR, out_dir=out)
            assert result.run_id == runs[-1].run_id and result.runs_in_year == 2 and not result.audited_now
            assert (out / str(YEAR) / "scores.csv").read_text(encoding="utf-8").startswith("organization,dataset,")
            assert (out / str(YEAR) / "organizations.csv").is_file()

            fresh = annual_evaluation(st, cfg, portal_url=portal.url, year=YEAR - 1, out_dir=out)
            assert fresh.audited_now and fresh.run_id > runs[-1].run_id
            assert (out / str(YEAR - 1) / "scores.json").is_file()
            with st.session() as s:
                assert s.get(AuditRun, fresh.run_id).kind == "annual"
        finally:
            st.close()


def test_the_annual_evaluation_judges_accesibles_by_the_years_availability(tmp_path, metadata_audit_cfg):
    """A file down in one of three runs (67 % < 90 %) passes the night of the last run but not the year."""
    from sqlalchemy import select

    from audit.annual import annual_evaluation
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.store import DatasetSnapshot, RuleResultRecord

    def accesibles(st, run_id: int) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
        with st.session() as s:
            rec = s.scalar(select(RuleResultRecord).join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
                           .where(RuleResultRecord.run_id == run_id, RuleResultRecord.characteristic == "accesibles",
                                  DatasetSnapshot.name == "escuelas-de-educacion-basica"))
            return rec.status, [f["code"] for f in rec.findings or []]

    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url, output_dir=str(tmp_path / "o"))
        path = next(p for p in portal.catalog.files if p.endswith(".csv") and "escuelas" in p)
        st = open_store(cfg.database_url)
        try:
            runs = []
            for night in range(3):
                body = portal.catalog.files.pop(path) if night == 1 else None  # down on the second night
                runs.append(run_audit(cfg, st, portal_url=portal.url, year=YEAR, kind="periodic", out_dir=tmp_path / "x"))
                if body is not None:
                    portal.catalog.files[path] = body
            assert accesibles(st, runs[1].run_id)[0] != "pass" and accesibles(st, runs[2].run_id) == ("pass", [])
            annual_evaluation(st, cfg, portal_url=portal.url, year=YEAR, out_dir=tmp_path / "o")
            status, codes = accesibles(st, runs[2].run_id)
            assert status == "partial" and "disponibilidad_insuficiente" in codes
            # the run records that it is the year's evaluation, and `status` says so
            import io

            from rich.console import Console

            from audit.status import print_status, status_data
            with st.session() as s:
                mark = s.get(AuditRun, runs[2].run_id).counts["annual_evaluation"]
            assert mark["year"] == YEAR and mark["runs_in_year"] == 3
            buf = io.StringIO()
            print_status(status_data(st, cfg), Console(file=buf, width=200))
            assert f"evaluación anual {YEAR}" in buf.getvalue()
        finally:
            st.close()
