"""The probe stage over a real store (SQLite; PostgreSQL too when available) and the local fault server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultserver import FaultServer
from sqlalchemy import delete, func, select

from audit.config import AuditConfig
from audit.probe import probe_evidence_for_run, probe_summary, run_probe_stage
from audit.store import AuditRun, DatasetSnapshot, Probe, ResourceSnapshot, Store, open_store
from audit.store.db import utcnow

CFG = AuditConfig.model_validate(
    {"http": {"retries": 0, "backoff_base_s": 0.01, "total_timeout_s": 5}, "probe": {"batch_size": 3}}
)

RESOURCES = {
    "transparencia": [
        ("r-ok", "/files/ok.csv", "CSV"),
        ("r-etag", "/etag.csv", "CSV"),
        ("r-404", "/status/404", "CSV"),
        ("r-login", "/login/form", "XLSX"),
    ],
    "salud": [
        ("r-pdf", "/files/report.csv", "CSV"),
        ("r-ftp", "ftp://datos.example/a.csv", "CSV"),
        ("r-landing", "/landing", "CSV"),
    ],
}


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


def seed_run(store: Store, srv: FaultServer) -> int:
    """A crawl as the crawl stage would leave it: portal (the fault server), datasets and resources."""
    portal_id = store.get_or_create_portal(srv.base, "Portal de prueba")
    with store.session() as s:
        run = AuditRun(portal_id=portal_id, started_at=utcnow(), status="running", stage="crawl")
        s.add(run)
        s.flush()
        for org, resources in RESOURCES.items():
            ds = DatasetSnapshot(run_id=run.id, ckan_id=f"ds-{org}", name=f"datos-{org}", organization_name=org)
            s.add(ds)
            s.flush()
            for pos, (ckan_id, path, fmt) in enumerate(resources):
                url = path if "://" in path else srv.url(path)
                s.add(ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, ckan_id=ckan_id, position=pos,
                                       url=url, format=fmt))
        return run.id


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    st = open_store(db_url)
    yield st
    st.close()


def outcomes_by_ckan_id(store: Store, run_id: int) -> dict[str, str]:
    with store.session() as s:
        rows = s.execute(
            select(ResourceSnapshot.ckan_id, Probe.outcome)
            .join(Probe, Probe.resource_snapshot_id == ResourceSnapshot.id)
            .where(Probe.run_id == run_id)
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_probe_stage_stores_an_outcome_for_every_resource(store: Store, srv: FaultServer) -> None:
    run_id = seed_run(store, srv)
    counts = run_probe_stage(store, run_id, CFG)  # portal host allowlisted automatically
    assert sum(counts.values()) == 7
    assert outcomes_by_ckan_id(store, run_id) == {
        "r-ok": "ok", "r-etag": "ok", "r-404": "not_found", "r-login": "auth_required",
        "r-pdf": "ok", "r-ftp": "unsupported_scheme", "r-landing": "landing_page",
    }
    evidence = probe_evidence_for_run(store, run_id)
    assert len(evidence) == 7
    pdf = next(ev for ev in evidence.values() if ev.sniffed_type == "pdf")
    assert pdf.outcome == "ok" and pdf.sha256


def test_probe_stage_resumes_only_unprobed_resources(store: Store, srv: FaultServer) -> None:
    run_id = seed_run(store, srv)
    run_probe_stage(store, run_id, CFG)
    with store.session() as s:
        s.execute(delete(Probe).where(Probe.run_id == run_id, Probe.outcome == "not_found"))
    before = len(srv.requests)
    counts = run_probe_stage(store, run_id, CFG)
    assert len(srv.requests) - before == 1  # only the deleted one was probed again
    assert counts["not_found"] == 1 and sum(counts.values()) == 7
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Probe).where(Probe.run_id == run_id)) == 7


def test_probe_stage_without_resume_probes_everything_again(store: Store, srv: FaultServer) -> None:
    run_id = seed_run(store, srv)
    run_probe_stage(store, run_id, CFG)
    before = len(srv.requests)
    run_probe_stage(store, run_id, CFG, resume=False)
    assert len(srv.requests) - before >= 6  # the ftp:// one never reaches the server


def test_probe_stage_uses_conditional_requests_from_previous_run(store: Store, srv: FaultServer) -> None:
    first = seed_run(store, srv)
    run_probe_stage(store, first, CFG)
    second = seed_run(store, srv)
    run_probe_stage(store, second, CFG)
    evidence = probe_evidence_for_run(store, second)
    with store.session() as s:
        etag_res = s.scalar(select(ResourceSnapshot.id).where(ResourceSnapshot.run_id == second,
                                                                ResourceSnapshot.ckan_id == "r-etag"))
    ev = evidence[etag_res]
    assert ev.not_modified and ev.outcome == "ok" and ev.sniffed_type == "csv" and ev.sha256
    assert ev.last_modified is not None and ev.last_modified.tzinfo is not None


def test_probe_summary_counts_outcomes_by_organization(store: Store, srv: FaultServer) -> None:
    run_id = seed_run(store, srv)
    run_probe_stage(store, run_id, CFG)
    rows = {r["organization"]: r for r in probe_summary(store, run_id)}
    assert list(rows) == ["salud", "transparencia"]
    assert rows["transparencia"]["total"] == 4 and rows["transparencia"]["ok"] == 2
    assert rows["transparencia"]["not_found"] == 1 and rows["transparencia"]["auth_required"] == 1
    assert rows["salud"]["unsupported_scheme"] == 1 and rows["salud"]["landing_page"] == 1
    assert rows["salud"]["unprobed"] == 0


def test_probe_summary_shows_unprobed_resources(store: Store, srv: FaultServer) -> None:
    run_id = seed_run(store, srv)
    rows = probe_summary(store, run_id)
    assert sum(r["unprobed"] for r in rows) == 7


def test_probe_stage_unknown_run_is_a_clear_error(store: Store) -> None:
    from audit.errors import StoreError

    with pytest.raises(StoreError, match="No existe la corrida"):
        run_probe_stage(store, 999, CFG)


def test_probe_rows_store_hostile_strings(store: Store) -> None:
    from audit.evidence import ProbeEvidence
    from audit.probe.stage import _row_from_evidence

    portal_id = store.get_or_create_portal("http://portal.example", "x")
    with store.session() as s:
        run = AuditRun(portal_id=portal_id, started_at=utcnow())
        s.add(run)
        s.flush()
        ds = DatasetSnapshot(run_id=run.id, ckan_id="d", name="d")
        s.add(ds)
        s.flush()
        res = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, position=0, url="http://x")
        s.add(res)
        s.flush()
        ev = ProbeEvidence(outcome="ok", sniffed_detail="miembros: a\x00b.csv", content_disposition="x\udcff.csv")
        s.add(_row_from_evidence(run.id, res.id, ev, utcnow()))
        run_id = run.id
    stored = next(iter(probe_evidence_for_run(store, run_id).values()))
    assert stored.sniffed_detail == "miembros: ab.csv" and stored.content_disposition == "x?.csv"


def test_probe_summary_table_has_spanish_headings(store: Store, srv: FaultServer) -> None:
    from rich.console import Console

    from audit.probe import probe_summary_table

    run_id = seed_run(store, srv)
    run_probe_stage(store, run_id, CFG)
    console = Console(width=250, record=True)
    console.print(probe_summary_table(probe_summary(store, run_id)))
    text = console.export_text()
    assert "Organización" in text and "No encontrado" in text and "transparencia" in text
    assert "Sin sondear" not in text  # only outcomes that occur


def test_site_relative_resource_urls_are_followed_on_the_portal(store: Store, srv: FaultServer) -> None:
    """A link such as "/files/ok.csv" works for a citizen on the portal's page, so it is probed on the portal."""
    run_id = seed_run(store, srv)
    with store.session() as s:
        s.execute(delete(Probe).where(Probe.run_id == run_id))
        for res in s.scalars(select(ResourceSnapshot).where(ResourceSnapshot.run_id == run_id)):
            if res.ckan_id == "r-ok":
                res.url = "/files/ok.csv"
            elif res.ckan_id == "r-404":
                res.url = "www.example.invalid/datos.csv"  # no scheme: a browser would not find it either
    run_probe_stage(store, run_id, CFG)
    outcomes = outcomes_by_ckan_id(store, run_id)
    assert outcomes["r-ok"] == "ok" and outcomes["r-404"] == "unsupported_scheme"
    evidence = probe_evidence_for_run(store, run_id)
    assert any(ev.final_url == srv.url("/files/ok.csv") for ev in evidence.values())
