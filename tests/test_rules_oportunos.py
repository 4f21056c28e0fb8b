from __future__ import annotations

from datetime import timedelta

import pytest
from test_rules_builders import AUDIT, ago, ctx, dataset, dictionary, ev, hist, hres, probe, resource

from rules import oportunos
from rules.base import Status

P = oportunos.Params()


def run(c, params=P):
    return oportunos.evaluate(c, params)


def with_freq(value, key="frecuencia", **kw):
    extras = [{"key": key, "value": value}] if value is not None else []
    return dataset(extras=extras, **kw)


def updated(days, **kw):
    """One data resource last modified ``days`` before the audit."""
    return [ev(resource(last_modified=ago(days), **kw))]


@pytest.mark.parametrize(
    ("freq", "age", "status"),
    [
        ("Mensual", 20, Status.PASS),
        ("Mensual", 38, Status.PASS),  # ≤ 1.25 × 30.44
        ("Mensual", 50, Status.PARTIAL),  # ≤ 2 P
        ("Mensual", 61, Status.FAIL),
        ("mensual", 3 * 365, Status.FAIL),
        ("R/P1M", 20, Status.PASS),
        ("R/P0.5M", 18, Status.PASS),  # half a month = 15.2 days; 1.25 P = 19
        ("R/P0.5M", 25, Status.PARTIAL),
        ("R/P1Y", 400, Status.PASS),
        ("R/P1Y", 600, Status.PARTIAL),
        ("R/P1Y", 800, Status.FAIL),
        ("anual", 300, Status.PASS),
        ("Trimestral", 100, Status.PASS),
        ("trimestral", 150, Status.PARTIAL),
        ("semestral", 400, Status.FAIL),
        ("Diaria", 1, Status.PASS),
        ("diaria", 3, Status.FAIL),
        ("Semanal", 8, Status.PASS),
        ("quincenal", 25, Status.PARTIAL),
        ("bimestral", 70, Status.PASS),
        ("cuatrimestral", 200, Status.PARTIAL),
        ("quarterly", 100, Status.PASS),
        ("monthly", 90, Status.FAIL),
        ("http://publications.europa.eu/resource/authority/frequency/MONTHLY", 20, Status.PASS),
        ("http://publications.europa.eu/resource/authority/frequency/ANNUAL", 800, Status.FAIL),
        ("http://purl.org/cld/freq/weekly", 8, Status.PASS),
        ("Tiempo real", 0.5, Status.PASS),
        ("tiempo real", 5, Status.FAIL),
        ("eventual", 100, Status.PASS),
        ("Irregular", 700, Status.PASS),
        ("irregular", 3 * 365, Status.PARTIAL),
        ("no planeada", 1000, Status.PARTIAL),
        (None, 100, Status.PARTIAL),  # no frequency, updated within a year
        (None, 500, Status.FAIL),
    ],
)
def test_oportunos_table(freq, age, status):
    result = run(ctx(with_freq(freq), updated(age)))
    assert result.status is status, result.findings
    if status is Status.PARTIAL:
        assert 0 < result.score < 1
    if status is Status.FAIL and freq is not None:
        assert "desactualizado" in [f.code for f in result.findings]


def test_oportunos_stale_finding_says_frequency_age_and_what_to_do():
    result = run(ctx(with_freq("Mensual"), updated(3 * 365)))
    finding = next(f for f in result.findings if f.code == "desactualizado")
    assert "1095 días" in finding.message_es
    assert "cada 1 mes" in finding.remediation_es
    assert finding.resource == "Casos de dengue 2025"


def test_oportunos_partial_score_decreases_with_age():
    early = run(ctx(with_freq("Mensual"), updated(40))).score
    late = run(ctx(with_freq("Mensual"), updated(58))).score
    assert 0 < late < early < 1


def test_oportunos_finds_frequency_under_scheming_top_level_key():
    ds = dataset(extras=[], accrualPeriodicity="R/P1M")
    result = run(ctx(ds, updated(20)))
    assert result.status is Status.PASS
    assert result.evidence["frequency_key"] == "accrualPeriodicity"


@pytest.mark.parametrize("key", ["frequency", "accrual_periodicity", "update_frequency", "periodicidad",
                                 "frecuencia_actualizacion"])
def test_oportunos_finds_frequency_under_every_known_key(key):
    result = run(ctx(with_freq("mensual", key=key), updated(100)))
    assert result.evidence["frequency_kind"] == "periodic"
    assert result.status is Status.FAIL


def test_oportunos_unrecognised_frequency_needs_manual_review_and_is_judged_as_undeclared():
    result = run(ctx(with_freq("cuando haya presupuesto"), updated(100)))
    assert result.status is Status.PARTIAL
    finding = result.findings[0]
    assert finding.code == "frecuencia_no_reconocida" and finding.manual_review


def test_oportunos_no_frequency_is_reported():
    result = run(ctx(with_freq(None), updated(100)))
    assert "sin_frecuencia" in [f.code for f in result.findings]


def test_oportunos_http_last_modified_newer_than_ckan_field_wins():
    res = resource(last_modified=ago(400))
    p = probe(last_modified=AUDIT - timedelta(days=10))
    result = run(ctx(with_freq("mensual"), [ev(res, p)]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "http_last_modified"


def test_oportunos_content_hash_change_between_runs_counts_as_update():
    res = resource(last_modified=ago(400))
    history = (hist(60, [hres(res, "h1")], 1), hist(20, [hres(res, "h2")], 2))
    result = run(ctx(with_freq("mensual"), [ev(res, probe(sha256="h2"))], history=history, has_previous_runs=True))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "hash_change"
    assert result.evidence["age_days"] == pytest.approx(20, abs=0.1)


def test_oportunos_hash_change_seen_in_current_run():
    res = resource(last_modified=ago(400))
    history = (hist(7, [hres(res, "h1")]),)
    result = run(ctx(with_freq("mensual"), [ev(res, probe(sha256="h2"))], history=history, has_previous_runs=True))
    assert result.status is Status.PASS


def test_oportunos_unchanged_hash_is_not_an_update():
    res = resource(last_modified=ago(400))
    history = (hist(60, [hres(res, "h1")]), hist(20, [hres(res, "h1")]))
    result = run(ctx(with_freq("mensual"), [ev(res, probe(sha256="h1"))], history=history, has_previous_runs=True))
    assert result.status is Status.FAIL


def test_oportunos_metadata_edit_is_not_a_data_update():
    result = run(ctx(with_freq("mensual", metadata_modified=ago(1)), updated(3 * 365)))
    assert result.status is Status.FAIL


def test_oportunos_uses_metadata_modified_only_as_last_resort():
    res = resource(last_modified=None, created=None)
    result = run(ctx(with_freq("mensual", metadata_modified=ago(5)), [ev(res)]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "metadata_modified"
    assert "fecha_solo_metadatos" in [f.code for f in result.findings]


def test_oportunos_uses_resource_created_when_no_modification_date():
    res = resource(last_modified=None, created=ago(15))
    result = run(ctx(with_freq("mensual", metadata_modified=ago(900)), [ev(res)]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "resource_created"


def test_oportunos_documentation_updates_do_not_count():
    doc = dictionary()
    doc["last_modified"] = ago(1)
    result = run(ctx(with_freq("mensual"), [ev(resource(last_modified=ago(3 * 365))), ev(doc, probe(sniffed="pdf"))]))
    assert result.status is Status.FAIL


def test_oportunos_future_dates_count_as_age_zero():
    result = run(ctx(with_freq("mensual"), updated(-30)))
    assert result.status is Status.PASS
    assert result.evidence["age_days"] == 0


def test_oportunos_factors_are_configurable():
    lenient = oportunos.Params(pass_factor=2.0, partial_factor=3.0)
    assert run(ctx(with_freq("mensual"), updated(50)), lenient).status is Status.PASS


def test_oportunos_rejects_bad_frequency_vocabulary():
    with pytest.raises(ValueError, match="ISO 8601"):
        oportunos.Params(frequency_words={"mensual": "cada mes"})


def test_oportunos_custom_frequency_word():
    params = oportunos.Params(frequency_words={**oportunos.Params().frequency_words, "por ciclo escolar": "P1Y"})
    assert run(ctx(with_freq("Por ciclo escolar"), updated(300)), params).status is Status.PASS


def test_oportunos_retired_is_not_applicable():
    assert run(ctx(retired=True)).status is Status.NOT_APPLICABLE
