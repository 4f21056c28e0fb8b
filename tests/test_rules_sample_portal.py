"""Issue 12 on the sample portal: the evidence gathered counts, and freshness cannot be faked.

Two complete audits of the same portal, with the demo's agency suite in ``content.suites_dir``. Each planted case
(audit/sample_portal/expected.py) is asserted with the outcome docs/reglas.md documents, through real HTTP.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit.pipeline import run_audit
from audit.store import DatasetSnapshot, Probe, ResourceSnapshot, RuleResultRecord, open_store

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from audit.config import load_config
    from audit.sample_portal import DEMO_SUITE_FILE, DEMO_SUITE_JSON, SamplePortal

    tmp = tmp_path_factory.mktemp("evidence")
    suites = tmp / "suites"
    suites.mkdir()
    (suites / DEMO_SUITE_FILE).write_text(DEMO_SUITE_JSON, encoding="utf-8")
    cfg = load_config(None, {
        "output_dir": str(tmp / "out"), "reports": {"enabled": False}, "content": {"suites_dir": str(suites)},
        "http": {"connect_timeout_s": 3, "read_timeout_s": 5, "total_timeout_s": 15, "retries": 1,
                 "backoff_base_s": 0.05, "retry_after_cap_s": 2},
    })
    store = open_store(f"sqlite:///{tmp / 'audit.db'}")
    with SamplePortal() as portal:
        first = run_audit(cfg, store, portal_url=portal.url)
        second = run_audit(cfg, store, portal_url=portal.url)
    assert first.status == second.status == "complete"
    return store, first.run_id, second.run_id


def _results(store, run_id, dataset):
    with store.session() as s:
        rows = s.execute(
            select(RuleResultRecord.characteristic, RuleResultRecord.status, RuleResultRecord.findings,
                   RuleResultRecord.evidence)
            .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
            .where(RuleResultRecord.run_id == run_id, DatasetSnapshot.name == dataset)).all()
    return {c: {"status": st, "findings": {f["code"]: f for f in fs}, "evidence": ev} for c, st, fs, ev in rows}


def _conforme(results):
    applicable = [r["status"] for r in results.values() if r["status"] != "not_applicable"]
    return bool(applicable) and all(st == "pass" for st in applicable)


def test_a_failing_agency_suite_keeps_integrales_from_passing(two_runs):
    from audit.sample_portal.expected import EXPECTED_WITH_DEMO_SUITE

    store, run, _ = two_runs  # the first audit: permanentes is not applicable yet
    results = _results(store, run, "calidad-del-aire-zmvt")
    for char, status in EXPECTED_WITH_DEMO_SUITE["calidad-del-aire-zmvt"].items():
        assert results[char]["status"] == status, char
    assert not _conforme(results)
    finding = results["integrales"]["findings"]["validaciones_de_la_dependencia"]
    text = finding["message_es"]
    assert "Mediciones de calidad del aire: rangos y estaciones" in text  # the suite
    assert "expect_column_values_to_be_in_set" in text and "«estacion»" in text  # expectation and column
    assert "% de las filas revisadas" in text and "ejemplos:" in text  # share of rows and examples
    assert any(code in text for code in ("«XAL»", "«NEZ»", "«ATI»"))
    assert finding["remediation_es"] and finding["advisory"] is False
    assert results["integrales"]["evidence"]["contradicted_by_content"] == ["Mediciones de calidad del aire"]


def test_a_dictionary_mismatch_keeps_integrales_from_passing(two_runs):
    store, run, _ = two_runs
    results = _results(store, run, "sanciones-a-servidores-publicos")
    assert results["integrales"]["status"] == "partial" and not _conforme(results)
    finding = results["integrales"]["findings"]["no_coincide_con_diccionario"]
    assert "«monto_sancion»" in finding["message_es"] and "«numero_expediente»" in finding["message_es"]
    assert finding["observed"] == "faltan: monto_sancion, numero_expediente"


@pytest.mark.parametrize(("dataset", "code"), [("concesiones-de-transporte", "sin_recursos"),
                                               ("aforos-vehiculares", "sin_datos_obtenibles")])
def test_nothing_about_the_data_passes_without_data(two_runs, dataset, code):
    store, run, _ = two_runs
    results = _results(store, run, dataset)
    assert results["oportunos"]["status"] == results["integrales"]["status"] == "fail"
    assert results["formatos_abiertos"]["status"] == "fail"
    assert results["libre_uso"]["status"] == "not_applicable"
    assert not any(r["status"] == "pass" for r in results.values())
    for char in ("oportunos", "integrales", "libre_uso"):
        assert code in results[char]["findings"], char


def test_last_modified_stamped_now_with_unchanged_content_proves_no_update(two_runs):
    store, first, second = two_runs
    for run in (first, second):
        oportunos = _results(store, run, "residuos-solidos-municipales")["oportunos"]
        assert oportunos["status"] == "fail"
        assert oportunos["evidence"]["last_update_source"] == "resource_last_modified"
        ignored = oportunos["findings"]["last_modified_no_confiable"]
        assert ignored["advisory"] and "mismo día de la revisión" in ignored["message_es"]
        assert "desactualizado" in oportunos["findings"]


def test_a_file_generated_on_every_request_is_recognised_and_its_hash_is_no_update(two_runs):
    store, first, second = two_runs
    with store.session() as s:
        hashes = s.scalars(
            select(Probe.sha256).join(ResourceSnapshot, ResourceSnapshot.id == Probe.resource_snapshot_id)
            .where(ResourceSnapshot.name == "Vivienda social").order_by(Probe.run_id)).all()
    assert len(hashes) == 2 and hashes[0] != hashes[1]  # the file changed between the runs…
    oportunos = _results(store, second, "vivienda-social")["oportunos"]
    assert oportunos["status"] == "fail"  # …but that is not an update
    assert oportunos["evidence"]["last_update_source"] != "hash_change"
    assert oportunos["evidence"]["regenerated"] == ["Vivienda social"]
    assert oportunos["findings"]["archivo_generado_en_cada_descarga"]["advisory"]


def test_a_changed_file_is_an_update_dated_by_the_run_that_saw_it(two_runs):
    """Control for the two cases above: a stable file whose hash changes between runs is an update."""
    from datetime import UTC, datetime

    from audit.evidence import DatasetContext, HistoricResource, HistoryEntry, ProbeEvidence, ResourceEvidence
    from rules import oportunos

    res = {"id": "r1", "name": "Datos", "url": "https://x.example.invalid/d.csv", "format": "CSV"}
    then, now = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    ctx = DatasetContext(
        dataset={"name": "d", "extras": [{"key": "frecuencia", "value": "mensual"}]}, organization="o",
        resources=(ResourceEvidence(res, ProbeEvidence("ok", sha256="b", sniffed_type="csv")),),
        audit_date=now, history=(HistoryEntry(1, then, None, (HistoricResource("r1", "Datos", res["url"], "a", "ok"),)),),
        has_previous_runs=True)
    result = oportunos.evaluate(ctx, oportunos.Params())
    assert result.status.value == "pass" and result.evidence["last_update_source"] == "hash_change"
    assert result.evidence["last_update"] == now.isoformat()


def test_a_bare_403_fails_accesibles_and_not_no_discriminatorios(two_runs):
    store, run, _ = two_runs
    with store.session() as s:
        outcome, reason = s.execute(
            select(Probe.outcome, Probe.reason).join(ResourceSnapshot, ResourceSnapshot.id == Probe.resource_snapshot_id)
            .where(Probe.run_id == run, ResourceSnapshot.name == "Reportes de personas desaparecidas (histórico)")).one()
    assert (outcome, reason) == ("client_error", "http_403")
    results = _results(store, run, "personas-desaparecidas")
    assert results["accesibles"]["status"] == "fail"
    assert results["no_discriminatorios"]["status"] == "not_applicable"
    assert "requiere_registro" not in results["no_discriminatorios"]["findings"]


def test_every_stored_reason_code_is_a_member_of_its_rules_enum(two_runs):
    """The codes the audit stored for every dataset of both runs are their rule's ``Code`` members (or shared
    ones), stored as the plain strings; an advisory code never decided a verdict, a decisive one never passed."""
    import rules
    from rules._common import SharedCode

    store, first, second = two_runs
    shared = {c.value for c in SharedCode}
    with store.session() as s:
        rows = s.execute(select(RuleResultRecord.characteristic, RuleResultRecord.status,
                                RuleResultRecord.automatic_status, RuleResultRecord.findings)
                         .where(RuleResultRecord.run_id.in_((first, second)))).all()
    seen: set[str] = set()
    for characteristic, status, automatic_status, findings in rows:
        status = automatic_status or status  # the rule's own verdict, before any manual review
        rule = rules.RULES_BY_ID[characteristic]
        for f in findings:
            assert f["code"] in rule.reason_codes() | shared, f"{characteristic}: {f['code']}"
            assert f["advisory"] or f["code"] not in rule.advisory_codes, f"{characteristic}: {f['code']}"
            assert status != "pass" or f["code"] not in rule.decisive_codes, f"{characteristic}: {f['code']}"
            seen.add(f["code"])
    assert len(seen) >= 20  # the sample portal plants many different problems
    assert seen & {"last_modified_no_confiable", "archivo_generado_en_cada_descarga"}  # advisory ones included
