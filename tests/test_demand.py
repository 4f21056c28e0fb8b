"""Demand: usage the portal reports (CKAN tracking, view/download extras) recorded per run, and actions ordered
by impact × demand in the change digests; a portal that reports nothing is said so once and nothing breaks."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from sqlalchemy import select

from audit.demand import (
    NO_DEMAND_NOTE_ES,
    Usage,
    extract_usage,
    priority,
    rank_by_impact_and_demand,
)


def test_usage_is_read_from_tracking_summary_solr_fields_and_extras():
    assert extract_usage({"tracking_summary": {"total": 120, "recent": 7}}) == Usage(120, 7, None, "tracking_summary")
    assert extract_usage({"views_total": "1,500", "views_recent": 20}) == Usage(1500, 20, None, "extras:views_total")
    assert extract_usage({"extras": [{"key": "Descargas", "value": "42"}]}) == Usage(None, None, 42, "extras:descargas")
    assert extract_usage({"extras": [{"key": "visitas", "value": "n/d"}], "tracking_summary": None}) is None
    assert extract_usage({"name": "x"}) is None
    assert Usage(10, None, 3).weight == 10 and Usage(None, None, 3).weight == 3 and Usage(5, 2).weight == 2
    assert Usage(1200, 35, 4).label_es() == "35 visitas recientes, 1 200 visitas en total, 4 descargas"


def test_actions_are_ranked_by_impact_times_demand():
    demand = {"popular": Usage(views_recent=10_000), "poco": Usage(views_recent=1)}
    actions = [("poco", 1.0), ("popular", 0.5), ("sin-datos", 1.0), ("popular", 1.0)]
    ranked = rank_by_impact_and_demand(actions, demand, dataset=lambda a: a[0], impact=lambda a: a[1])
    assert ranked == [("popular", 1.0), ("popular", 0.5), ("poco", 1.0), ("sin-datos", 1.0)]
    # without statistics the order is by impact alone (stable for ties)
    assert rank_by_impact_and_demand(actions, {}, dataset=lambda a: a[0], impact=lambda a: a[1]) == [
        ("poco", 1.0), ("sin-datos", 1.0), ("popular", 1.0), ("popular", 0.5)]
    assert priority(1.0, None) == 1.0 and priority(1.0, Usage(views_recent=9)) == 2.0


def _eml(folder: Path, name: str) -> str:
    msg = email.message_from_bytes((folder / name).read_bytes(), policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def test_a_portal_that_reports_tracking_orders_the_digest_by_demand(tmp_path, metadata_audit_cfg):
    from audit.alerts import send_alerts
    from audit.demand import most_used_failing, run_demand
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.store import open_store
    from audit.store.models import DatasetDemand

    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url, alerts={
            "consecutive_failures": 1, "recipients": {"igecem": ["enlace@igecem.example.org"]},
            "evaluators": ["evaluacion@example.org"]})
        st = open_store(cfg.database_url)
        try:
            first = run_audit(cfg, st, portal_url=portal.url, kind="periodic").run_id
            assert run_demand(st, first) == {}  # the sample portal reports no usage by default
            # tracking turned on; then two files of one organization disappear: the less-viewed one sorts first
            # by name, the most-viewed must come first in the digest
            views = {"poblacion-por-municipio": (40, 2), "valores-catastrales": (9_000, 800),
                     "becas-otorgadas": (300, 25)}
            for name, (total, recent) in views.items():
                portal.catalog.patch_dataset(name, {"tracking_summary": {"total": total, "recent": recent}})
            for suffix in ("poblacion.csv", "valores-catastrales.csv", "valores-catastrales.xlsx"):
                portal.catalog.files.pop(next(p for p in portal.catalog.files if p.endswith(suffix)))
            second = run_audit(cfg, st, portal_url=portal.url, kind="periodic").run_id
            result = send_alerts(st, cfg, second, dry_run_dir=tmp_path / "eml")
            assert result.ok
            with st.session() as s:
                stored = {d.dataset_name: (d.views_total, d.views_recent, d.source)
                          for d in s.scalars(select(DatasetDemand).where(DatasetDemand.run_id == second))}
            assert stored == {n: (t, r, "tracking_summary") for n, (t, r) in views.items()}
            top = most_used_failing(st, second)
            assert [name for name, *_ in top][:2] == ["valores-catastrales", "becas-otorgadas"]
        finally:
            st.close()

    org = _eml(tmp_path / "eml", f"cambios-{second}__igecem.eml")
    headlines = [line for line in org.splitlines() if line.startswith("  • ")]
    broken = [h for h in headlines if "«" in h]
    assert [h.split(" — ")[0] for h in broken] == ["  • Valores unitarios de suelo", "  • Valores unitarios de suelo",
                                                   "  • Población por municipio"]
    failures = [h for h in headlines if "Accesibles" in h]
    assert failures[0].startswith("  • Valores unitarios de suelo")
    assert "Uso: 800 visitas recientes, 9 000 visitas en total." in org
    portal_digest = _eml(tmp_path / "eml", f"cambios-{second}__portal.eml")
    assert "CONJUNTOS MÁS CONSULTADOS QUE NO CUMPLEN" in portal_digest
    assert NO_DEMAND_NOTE_ES not in portal_digest


def test_without_usage_the_digest_says_so_once(tmp_path, metadata_audit_cfg):
    from audit.alerts import send_alerts
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.store import open_store

    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url, alerts={"consecutive_failures": 1,
                                                     "evaluators": ["evaluacion@example.org"]})
        st = open_store(cfg.database_url)
        try:
            run_audit(cfg, st, portal_url=portal.url, kind="periodic")
            portal.catalog.files.pop(next(p for p in portal.catalog.files if p.endswith("poblacion.csv")))
            second = run_audit(cfg, st, portal_url=portal.url, kind="periodic").run_id
            send_alerts(st, cfg, second, dry_run_dir=tmp_path / "eml")
        finally:
            st.close()
    text = _eml(tmp_path / "eml", f"cambios-{second}__portal.eml")
    assert text.count(NO_DEMAND_NOTE_ES) == 1 and "MÁS CONSULTADOS" not in text
