from __future__ import annotations

from datetime import timedelta

import pytest
from test_rules_builders import AUDIT, ago, content, ctx, dataset, dictionary, ev, hist, hres, probe, resource

from rules import oportunos
from rules._common import parse_datetime
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


def test_oportunos_dates_slightly_in_the_future_count_as_age_zero():
    result = run(ctx(with_freq("mensual"), updated(-1)))  # clock skew, time zones
    assert result.status is Status.PASS
    assert result.evidence["age_days"] == 0


def test_oportunos_implausible_future_dates_are_not_believed():
    res = resource(last_modified="9999-12-31T00:00:00", created=ago(400))
    result = run(ctx(with_freq("mensual"), [ev(res)]))
    assert result.status is Status.FAIL  # judged by the resource's creation, 400 days ago
    assert result.evidence["last_update_source"] == "resource_created"
    assert result.evidence["ignored_future_dates"] == ["resource_last_modified=9999-12-31"]


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


# ---------------------------------------------------------------------------------------------------------------
# Harvested datasets (ckanext-harvest / ckanext-dcat): CKAN's own dates are the harvest time, not the data's

HARVEST_EXTRAS = [
    {"key": "harvest_object_id", "value": "ho-1"},
    {"key": "harvest_source_id", "value": "hs-datosgobar"},
    {"key": "harvest_source_title", "value": "datos.gob.ar data.json"},
    {"key": "guid", "value": "justicia_1.2"},
]


def harvested(*extras, frequency="R/P1Y", **kw):
    """A dataset as ckanext-dcat's harvester leaves it: CKAN dates = harvest time (20 days before the audit)."""
    kw.setdefault("metadata_created", ago(25))
    kw.setdefault("metadata_modified", ago(20))
    return dataset(extras=[*HARVEST_EXTRAS, {"key": "frequency", "value": frequency}, *extras], **kw)


def harvested_resource(name="Normativa provincial", **kw):
    """A distribution as harvested: ``created`` at harvest time, no ``last_modified``."""
    kw.setdefault("last_modified", None)
    kw.setdefault("created", ago(25))
    return resource(name, **kw)


def test_harvested_dataset_is_judged_by_the_source_modification_date_not_the_harvest_time():
    ds = harvested({"key": "dcat_modified", "value": "2017-06-22T20:44:14.308368"},
                   {"key": "dcat_issued", "value": "2016-03-01"})
    result = run(ctx(ds, [ev(harvested_resource(), probe(last_modified=None))]))
    assert result.status is Status.FAIL
    assert result.evidence["last_update_source"] == "dcat_modified"
    assert result.evidence["last_update"].startswith("2017-06-22")
    assert result.evidence["harvested"] is True
    finding = next(f for f in result.findings if f.code == "desactualizado")
    assert "según la fecha de modificación declarada por la fuente (dcat_modified)" in finding.message_es
    assert "2017-06-22" in finding.message_es and "dcat_modified" in finding.observed
    assert "catálogo de origen" in finding.remediation_es


def test_harvested_dataset_without_source_dates_takes_the_no_date_path_and_says_it_was_harvested():
    result = run(ctx(harvested(), [ev(harvested_resource(), probe(last_modified=None))]))
    assert result.status is Status.FAIL  # like any dataset with no date of its data (docs/reglas.md)
    assert result.evidence["last_update_source"] == "none"
    assert result.evidence["last_update"] is None
    finding = next(f for f in result.findings if f.code == "sin_fecha_actualizacion")
    assert "cosechado" in finding.message_es and "harvest_object_id" in finding.message_es
    assert "fechas de CKAN" in finding.message_es
    assert finding.manual_review
    assert "fecha_solo_metadatos" not in [f.code for f in result.findings]


def test_harvested_dataset_trusts_the_file_server_and_the_distribution_dates():
    http = run(ctx(harvested(), [ev(harvested_resource(), probe(last_modified=AUDIT - timedelta(days=30)))]))
    assert http.status is Status.PASS
    assert http.evidence["last_update_source"] == "http_last_modified"
    dist = harvested_resource(modified="2026-05-02", issued="2015-01-01")
    result = run(ctx(harvested({"key": "dcat_modified", "value": "2017-06-22"}), [ev(dist, probe(last_modified=None))]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "resource_modified"


def test_harvested_resource_created_and_metadata_dates_are_never_evidence():
    res = harvested_resource(created=ago(1))
    ds = harvested({"key": "dcat_issued", "value": "2017-01-15"}, metadata_modified=ago(1))
    result = run(ctx(ds, [ev(res, probe(last_modified=None))]))
    assert result.status is Status.FAIL
    assert result.evidence["last_update_source"] == "dcat_issued"
    finding = next(f for f in result.findings if f.code == "desactualizado")
    assert "fecha de publicación declarada por la fuente (dcat_issued)" in finding.message_es


@pytest.mark.parametrize("marker", ["harvest_source_id", "harvest_url", "source_hash", "guid"])
def test_harvested_dataset_is_recognised_by_any_harvest_extra(marker):
    ds = dataset(extras=[{"key": "frequency", "value": "R/P1Y"}, {"key": marker, "value": "x"}])
    result = run(ctx(ds, [ev(harvested_resource(), probe(last_modified=None))]))
    assert result.evidence["harvested"] is True and result.evidence["harvest_key"] == marker
    assert result.status is Status.FAIL


def test_harvest_keys_are_configurable():
    params = oportunos.Params(harvest_keys=["origen_cosecha"])
    ds = harvested()  # the standard extras no longer mark it
    result = run(ctx(ds, [ev(harvested_resource(), probe(last_modified=None))]), params)
    assert result.evidence["harvested"] is False
    assert result.evidence["last_update_source"] == "resource_created"


# ---------------------------------------------------------------------------------------------------------------
# The newest trustworthy date across resources (no tier hides a newer date)


def test_recent_resource_last_modified_beats_an_old_file_with_http_last_modified():
    old = ev(resource("Serie 2019", last_modified=None), probe(last_modified=AUDIT - timedelta(days=3 * 365)))
    new = ev(resource("Serie 2026", last_modified=ago(12)), probe(last_modified=None))
    result = run(ctx(with_freq("mensual"), [old, new]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "resource_last_modified"
    assert result.evidence["age_days"] == pytest.approx(12, abs=0.1)


def test_new_upload_with_only_a_creation_date_is_not_hidden_by_an_old_file():
    old = ev(resource("Serie 2019", last_modified=None), probe(last_modified=AUDIT - timedelta(days=3 * 365)))
    new = ev(resource("Serie 2026", last_modified=None, created=ago(9)), probe(last_modified=None))
    result = run(ctx(with_freq("mensual"), [old, new]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "resource_created"


def test_re_registering_an_old_file_is_not_an_update():
    res = resource(last_modified=None, created=ago(3))  # link added 3 days ago to a file last changed in 2023
    result = run(ctx(with_freq("mensual"), [ev(res, probe(last_modified=AUDIT - timedelta(days=3 * 365)))]))
    assert result.status is Status.FAIL
    assert result.evidence["last_update_source"] == "http_last_modified"


def test_dataset_modification_date_declared_in_metadata_counts():
    ds = dataset(extras=[{"key": "frecuencia", "value": "anual"}], fecha_actualizacion="2026-03-31")
    result = run(ctx(ds, [ev(resource(last_modified=ago(900)), probe(last_modified=None))]))
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "fecha_actualizacion"
    assert result.evidence["harvested"] is False


def test_stale_finding_names_the_resource_field():
    result = run(ctx(with_freq("mensual"), [ev(resource(last_modified=ago(400)), probe(last_modified=None))]))
    finding = next(f for f in result.findings if f.code == "desactualizado")
    assert "según la fecha de modificación del recurso (last_modified)" in finding.message_es


def test_source_date_keys_are_configurable():
    params = oportunos.Params(dataset_modified_keys=["fecha_corte"])
    ds = dataset(extras=[{"key": "frecuencia", "value": "anual"}, {"key": "fecha_corte", "value": "31/03/2026"}])
    result = run(ctx(ds, [ev(resource(last_modified=ago(900)), probe(last_modified=None))]), params)
    assert result.status is Status.PASS
    assert result.evidence["last_update_source"] == "fecha_corte"


def test_month_precision_source_date_counts_from_the_first_of_the_month():
    ds = harvested({"key": "dcat_modified", "value": "May 2021"})
    result = run(ctx(ds, [ev(harvested_resource(), probe(last_modified=None))]))
    assert result.evidence["last_update"] == parse_datetime("2021-05-01").isoformat()


# ---------------------------------------------------------------------------------------------------------------
# Frequency phrases


@pytest.mark.parametrize(
    ("freq", "days"),
    [("1 mes", 30.44), ("30 días", 30), ("cada 2 semanas", 14), ("every 2 weeks", 14), ("Cada 15 días hábiles", 15),
     ("dos veces al año", 182.63), ("once a year", 365.25), ("cada once días", 11), ("cada trimestre", 91.31)],
)
def test_count_and_unit_frequency_phrases(freq, days):
    result = run(ctx(with_freq(freq), updated(5)))
    assert result.evidence["frequency_kind"] == "periodic"
    assert result.evidence["period_days"] == pytest.approx(days, abs=0.01)
    assert result.status is Status.PASS


@pytest.mark.parametrize("freq", ["no se actualiza", "No se actualiza.", "Ya no se actualiza", "Not updated",
                                  "no longer updated", "No longer updated (discontinued)", "sin actualizaciones"])
def test_declared_no_updates_is_treated_like_eventual(freq):
    recent = run(ctx(with_freq(freq), updated(100)))
    assert recent.evidence["frequency_kind"] == "irregular"
    assert recent.status is Status.PASS
    old = run(ctx(with_freq(freq), updated(3 * 365)))
    assert old.status is Status.PARTIAL
    assert "irregular_antiguo" in [f.code for f in old.findings]


def test_custom_frequency_word_beats_the_count_and_unit_reading():
    params = oportunos.Params(frequency_words={**oportunos.Params().frequency_words, "cada 2 semanas": "P1M"})
    result = run(ctx(with_freq("cada 2 semanas"), updated(5)), params)
    assert result.evidence["period_days"] == pytest.approx(30.44, abs=0.01)


# ------------------------------------------------------------------ issue 12 §3: freshness that cannot be faked
def _monthly_stale(**probe_kw):
    """Monthly data whose own dates are 200 days old; the server's Last-Modified says otherwise."""
    res = resource(last_modified=ago(200), created=ago(400))
    return res, ev(res, probe(**probe_kw))


def test_last_modified_within_a_day_of_the_probe_is_a_generated_header():
    _, e = _monthly_stale(last_modified=AUDIT - timedelta(hours=2), sha256="h1")
    result = oportunos.evaluate(ctx(resources=[e]), oportunos.Params())
    assert result.status is Status.FAIL
    assert result.evidence["last_update_source"] == "resource_last_modified"
    finding = next(f for f in result.findings if f.code == "last_modified_no_confiable")
    assert finding.advisory and "(generated)" in (finding.observed or "")


def test_last_modified_newer_than_an_earlier_run_that_saw_the_same_content_is_not_an_update():
    res, e = _monthly_stale(last_modified=AUDIT - timedelta(days=5), sha256="h1")
    c = ctx(resources=[e], history=(hist(30, [hres(res, sha="h1")]),), has_previous_runs=True)
    result = oportunos.evaluate(c, oportunos.Params())
    assert result.status is Status.FAIL  # 5 days claimed, but the file is the one seen 30 days ago
    finding = next(f for f in result.findings if f.code == "last_modified_no_confiable")
    assert "revisión del" in finding.message_es and "(unchanged)" in (finding.observed or "")


def test_last_modified_is_evidence_when_nothing_contradicts_it():
    res, e = _monthly_stale(last_modified=AUDIT - timedelta(days=5), sha256="h2")
    alone = oportunos.evaluate(ctx(resources=[e]), oportunos.Params())
    assert alone.status is Status.PASS and alone.evidence["last_update_source"] == "http_last_modified"
    changed = ctx(resources=[e], history=(hist(30, [hres(res, sha="h1")]),), has_previous_runs=True)
    result = oportunos.evaluate(changed, oportunos.Params())
    assert result.status is Status.PASS  # the content did change since the earlier run: the header is believed
    assert "ignored_http_last_modified" not in result.evidence
    assert "el encabezado HTTP Last-Modified" in alone.evidence["last_update_evidence"]


def test_a_hash_change_is_dated_by_the_run_that_saw_it_unless_the_file_is_regenerated():
    res = resource(last_modified=ago(200), created=ago(400))
    history = (hist(30, [hres(res, sha="h1")]),)
    changed = ev(res, probe(sha256="h2"))
    result = oportunos.evaluate(ctx(resources=[changed], history=history, has_previous_runs=True), oportunos.Params())
    assert result.status is Status.PASS and result.evidence["last_update_source"] == "hash_change"
    assert "revisión del 2026-06-30" in result.evidence["last_update_evidence"]
    volatile = ev(res, probe(sha256="h2"), c=content(regenerated=True))
    result = oportunos.evaluate(ctx(resources=[volatile], history=history, has_previous_runs=True), oportunos.Params())
    assert result.status is Status.FAIL and result.evidence["regenerated"] == [res["name"]]
    assert any(f.code == "archivo_generado_en_cada_descarga" and f.advisory for f in result.findings)


@pytest.mark.parametrize(
    ("resources", "code"),
    [
        ([], "sin_recursos"),
        ([ev(dictionary(), probe(sniffed="pdf"))], "sin_recursos_de_datos"),
        ([ev(resource(), probe("not_found", sniffed=None)), ev(resource("B", url="ftp://x.invalid/b.csv"),
                                                                 probe("unsupported_scheme", sniffed=None))],
         "sin_datos_obtenibles"),
        ([ev(resource(), probe("landing_page", sniffed="html"))], "sin_datos_obtenibles"),
    ],
    ids=["zero_resources", "only_documentation", "nothing_reachable", "only_a_web_page"],
)
def test_fresh_metadata_without_obtainable_data_is_not_oportuno(resources, code):
    result = oportunos.evaluate(ctx(resources=resources), oportunos.Params())
    assert result.status is Status.FAIL
    assert result.findings[0].code == code and result.evidence["data"] != "obtained"


def test_a_metadata_only_audit_still_judges_the_declared_dates():
    result = oportunos.evaluate(ctx(resources=[ev(resource(), None)]), oportunos.Params())
    assert result.status is Status.PASS and result.evidence["data"] == "not_probed"
