from __future__ import annotations

import pytest
from test_rules_builders import content, ctx, dataset, dictionary, ev, probe, resource

from rules import integrales
from rules.base import Status

P = integrales.Params()


def run(c, params=P):
    return integrales.evaluate(c, params)


def codes(result):
    return [f.code for f in result.findings]


@pytest.mark.parametrize(
    ("ds", "resources", "status"),
    [
        (dataset(), None, Status.PASS),
        # weights: mandatory metadata of the Guía 2, optional 1 (22 in all). Missing frequency (2), temporal (1),
        # spatial (1), dictionary (2) and landing page (2): 14/22 = 0.64
        (dataset(extras=[]), [ev()], Status.PARTIAL),
        # missing spatial (1) and dictionary (2), with a landing page: 19/22 = 0.86, still passes (threshold 0.8)
        (dataset(url="https://salud.edomex.gob.mx/dengue",
                 extras=[{"key": "frecuencia", "value": "mensual"}, {"key": "periodo", "value": "2024"}]), [ev()],
         Status.PASS),
        # 2/11: only a title and a licence
        (dataset(notes="Casos.", tags=[], groups=[], maintainer_email="", extras=[]), [], Status.FAIL),
    ],
    ids=["complete", "missing_four", "missing_two", "almost_nothing"],
)
def test_integrales_table(ds, resources, status):
    result = run(ctx(ds, resources))
    assert result.status is status
    if status is Status.PARTIAL:
        assert 0 < result.score < 1
        assert result.score == pytest.approx(result.evidence["completeness"], abs=0.01)


def test_integrales_partial_lists_each_missing_item():
    result = run(ctx(dataset(extras=[]), [ev()]))
    assert {"sin_frecuencia", "sin_cobertura_temporal", "sin_cobertura_espacial", "sin_diccionario"} <= set(codes(result))
    assert result.evidence["completeness"] == pytest.approx(14 / 22, abs=1e-3)


def test_integrales_finds_metadata_in_scheming_top_level_fields():
    ds = dataset(extras=[], accrual_periodicity="R/P1M", temporal_coverage="2020/2025", spatial="Estado de México")
    result = run(ctx(ds))
    assert result.evidence["items"]["frecuencia"] == 1
    assert result.evidence["frequency_key"] == "accrual_periodicity"
    assert result.evidence["temporal_key"] == "temporal_coverage"
    assert result.evidence["spatial_key"] == "spatial"


@pytest.mark.parametrize(
    "extras",
    [
        [{"key": "accrualPeriodicity", "value": "R/P1M"}, {"key": "temporal", "value": "2020"},
         {"key": "spatial_coverage", "value": "Toluca"}],
        [{"key": "Periodicidad", "value": "anual"}, {"key": "periodo", "value": "2024"},
         {"key": "cobertura espacial", "value": "Estatal"}],
        {"update_frequency": "weekly", "temporal_coverage": "2024", "cobertura_espacial": "Estatal"},
    ],
    ids=["english_extras", "spanish_extras_spaced_key", "extras_as_dict"],
)
def test_integrales_finds_metadata_in_extras_under_english_and_spanish_keys(extras):
    result = run(ctx(dataset(extras=extras)))
    items = result.evidence["items"]
    assert items["frecuencia"] == items["cobertura_temporal"] == items["cobertura_espacial"] == 1


def test_integrales_treats_placeholder_values_as_missing():
    ds = dataset(extras=[{"key": "frecuencia", "value": "N/A"}, {"key": "temporal", "value": "-"},
                         {"key": "spatial", "value": "sin información"}])
    result = run(ctx(ds))
    assert {"sin_frecuencia", "sin_cobertura_temporal", "sin_cobertura_espacial"} <= set(codes(result))


def test_integrales_html_tags_do_not_count_towards_the_description_length():
    notes = "<p><strong>" + "x" * 90 + "</strong></p>" + " " * 20
    result = run(ctx(dataset(notes=notes)))
    assert "descripcion_insuficiente" in codes(result)


def test_integrales_description_shorter_than_100_characters_is_reported_with_its_length():
    result = run(ctx(dataset(notes="Casos de dengue por municipio.")))
    finding = next(f for f in result.findings if f.code == "descripcion_insuficiente")
    assert finding.observed == "30"


@pytest.mark.parametrize(
    ("maintainer_email", "author_email", "ok"),
    [("epi@salud.gob.mx", "", True), ("", "autor@edomex.gob.mx", True), ("no-tiene", "", False), ("", "", False)],
)
def test_integrales_contact_needs_a_valid_email(maintainer_email, author_email, ok):
    result = run(ctx(dataset(maintainer_email=maintainer_email, author_email=author_email)))
    assert result.evidence["items"]["contacto"] == (1.0 if ok else 0.0)


@pytest.mark.parametrize("license_id", ["", "notspecified"])
def test_integrales_missing_or_unspecified_licence_is_missing(license_id):
    result = run(ctx(dataset(license_id=license_id, license_title="")))
    assert "sin_licencia" in codes(result)


def test_integrales_every_resource_needs_name_format_and_description():
    res = resource("Datos", "", description="")
    result = run(ctx(resources=[ev(), ev(res), ev(dictionary(), probe(sniffed="pdf"))]))
    finding = next(f for f in result.findings if f.code == "recurso_sin_metadatos")
    assert finding.resource == "Datos"
    assert finding.observed == "formato, descripción"
    assert result.evidence["items"]["recursos_descritos"] == 0


def test_integrales_dictionary_from_datastore_fields_with_descriptions():
    res = resource(datastore_fields=[{"id": "cve_mun", "type": "text", "info": {"notes": "Clave INEGI"}}])
    result = run(ctx(resources=[ev(res)]))
    assert result.evidence["items"]["diccionario"] == 1


def test_integrales_datastore_fields_without_descriptions_are_not_a_dictionary():
    res = resource(datastore_fields=[{"id": "cve_mun", "type": "text"}])
    result = run(ctx(resources=[ev(res)]))
    assert "sin_diccionario" in codes(result)


def test_integrales_content_checks_header_and_empty_columns():
    resources = [
        ev(resource("A"), c=content()),
        ev(resource("B"), c=content(has_header=False)),
        ev(resource("C"), c=content(empty_columns=("col_7", "col_8"))),
        ev(dictionary(), probe(sniffed="pdf")),
    ]
    result = run(ctx(resources=resources))
    assert result.evidence["items"]["contenido_tabular"] == pytest.approx(1 / 3, abs=1e-3)
    assert {"sin_encabezado", "columnas_vacias"} <= set(codes(result))
    empty = next(f for f in result.findings if f.code == "columnas_vacias")
    assert empty.resource == "C" and empty.observed == "col_7, col_8"


def test_integrales_without_content_checks_does_not_count_the_content_item():
    result = run(ctx())
    assert "contenido_tabular" not in result.evidence["items"]


def test_integrales_thresholds_are_configurable():
    strict = integrales.Params(pass_threshold=0.95)
    ds = dataset(url="https://salud.edomex.gob.mx/dengue",
                 extras=[{"key": "frecuencia", "value": "mensual"}, {"key": "periodo", "value": "2024"}])
    assert run(ctx(ds, [ev()])).status is Status.PASS
    result = run(ctx(ds, [ev()]), strict)
    assert result.status is Status.PARTIAL


def test_integrales_rejects_partial_threshold_above_pass_threshold():
    with pytest.raises(ValueError):
        integrales.Params(pass_threshold=0.5, partial_threshold=0.8)


def test_integrales_content_dictionary_agency_nulls_and_duplicates():
    dictionary_result = {"suites": [{"name": "diccionario_de_datos", "source": "dictionary", "success": False, "failed": [
        {"type": "expect_table_columns_to_match_set", "kwargs": {}, "meta": {"check": "dictionary_columns"},
         "result": {"details": {"mismatched": {"missing": ["clave_programa"]}}}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "monto"},
         "meta": {"check": "dictionary_type", "kind": "numeric"}, "result": {}},
    ]}]}
    agency_result = {"suites": [{"name": "padron-agencia", "source": "agency", "success": False, "failed": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "monto"}, "result": {}}],
        "invalid": [{"type": "expect_column_values_to_not_be_null", "error": "column_missing"}]}]}
    resources = [
        ev(resource("A"), c=content(dictionary_conformance=False, expectations=dictionary_result)),
        ev(resource("B"), c=content(agency_success=False, expectations=agency_result)),
        ev(resource("C"), c=content(null_share={"observaciones": 0.92, "telefono": 0.61})),
        ev(resource("D"), c=content(problems=("duplicate_rows",), duplicate_share=0.25)),
        ev(resource("E"), c=content(agency_success=True, dictionary_conformance=True)),
    ]
    result = run(ctx(resources=resources))
    assert result.evidence["items"]["contenido_tabular"] == pytest.approx((0 + 0 + 0.5 + 0.5 + 1) / 5, abs=1e-3)
    by_code = {f.code: f for f in result.findings}
    assert by_code["no_coincide_con_diccionario"].observed == "faltan: clave_programa; tipo distinto: monto (se esperaba numeric)"
    assert by_code["validaciones_de_la_dependencia"].resource == "B"
    assert "expect_column_values_to_be_between(monto)" in by_code["validaciones_de_la_dependencia"].observed
    assert "column_missing" in by_code["validaciones_de_la_dependencia"].observed
    nulls = by_code["columnas_casi_vacias"]
    assert nulls.observed == "observaciones (92%), telefono (61%)" and nulls.manual_review
    assert by_code["filas_duplicadas"].observed == "25.0%" and by_code["filas_duplicadas"].manual_review


@pytest.mark.parametrize(("key", "value"), [
    ("dcat_publisher_email", "dnpcvi@jus.gov.ar"),  # ckanext-dcat JSON harvester
    ("publisher_email", "datos@hacienda.gob.ar"),  # ckanext-dcat RDF profile
    ("mbox", "mailto:contacto@inegi.org.mx"),  # DCAT-AP contact point
])
def test_integrales_contact_of_harvested_datasets(key, value):
    ds = dataset(maintainer_email="", author_email="")
    ds["extras"] = [*ds["extras"], {"key": key, "value": value}]
    result = run(ctx(ds))
    assert "sin_contacto" not in codes(result) and result.evidence["items"]["contacto"] == 1


# ------------------------------------------------------------------ issue 12: evidence that counts, weights
def _agency_failure():
    suite = {"name": "padron-dependencia", "source": "agency", "success": False, "failed": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "estacion"},
         "result": {"unexpected_percent": 56.0, "unexpected_count": 280, "element_count": 500,
                    "partial_unexpected_list": ["XAL", "NEZ", "ATI"]}}]}
    return content(agency_success=False, expectations={"suites": [suite]})


def test_a_failed_agency_suite_keeps_complete_metadata_from_passing():
    url = "https://salud.edomex.gob.mx/dengue"
    clean = run(ctx(dataset(url=url), [ev(c=content()), ev(dictionary(), probe(sniffed="pdf"))]))
    assert clean.status is Status.PASS
    result = run(ctx(dataset(url=url), [ev(c=_agency_failure()), ev(dictionary(), probe(sniffed="pdf"))]))
    assert result.evidence["completeness"] >= 0.8 and result.status is Status.PARTIAL
    finding = next(f for f in result.findings if f.code == "validaciones_de_la_dependencia")
    assert "suite «padron-dependencia»" in finding.message_es and "«estacion»" in finding.message_es
    assert "56 % de las filas revisadas (280 de 500)" in finding.message_es and "«XAL»" in finding.message_es
    assert result.evidence["contradicted_by_content"] == ["Casos de dengue 2025"]


def test_a_few_rows_off_the_dictionary_type_do_not_contradict_it():
    suite = {"name": "diccionario", "source": "dictionary", "success": False, "failed": [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "fecha"},
         "meta": {"check": "dictionary_type", "kind": "date"},
         "result": {"unexpected_percent": 0.33, "unexpected_count": 1, "element_count": 301,
                    "partial_unexpected_list": ["Total"]}}]}
    c = content(dictionary_conformance=False, expectations={"suites": [suite]})
    result = run(ctx(dataset(url="https://x.example.invalid"), [ev(c=c), ev(dictionary(), probe(sniffed="pdf"))]))
    assert result.status is Status.PASS and "pocas_filas_fuera_del_diccionario" in codes(result)
    assert all(f.advisory for f in result.findings)  # the findings of a pass are recommendations
    strict = run(ctx(dataset(url="https://x.example.invalid"), [ev(c=c), ev(dictionary(), probe(sniffed="pdf"))]),
                 integrales.Params(dictionary_type_tolerance=0))
    assert strict.status is Status.PARTIAL and "no_coincide_con_diccionario" in codes(strict)


@pytest.mark.parametrize(
    ("resources", "code"),
    [([], "sin_recursos"),
     ([ev(resource(), probe("not_found", sniffed=None)), ev(dictionary(), probe(sniffed="pdf"))], "sin_datos_obtenibles")],
    ids=["zero_resources", "only_the_dictionary_downloads"],
)
def test_complete_metadata_without_obtainable_data_is_not_integral(resources, code):
    result = run(ctx(dataset(url="https://x.example.invalid"), resources))
    assert result.status is Status.FAIL and result.findings[0].code == code


def test_mandatory_metadata_of_the_guia_weigh_double():
    # missing one mandatory item (frequency, weight 2) costs what two optional ones (tags and groups) cost
    no_frequency = run(ctx(dataset(url="https://x.example.invalid", extras=[
        {"key": "periodo", "value": "2024"}, {"key": "cobertura_espacial", "value": "Estatal"}])))
    no_tags_groups = run(ctx(dataset(url="https://x.example.invalid", tags=[], groups=[])))
    assert no_frequency.evidence["completeness"] == pytest.approx(no_tags_groups.evidence["completeness"])
    assert "frecuencia" in no_frequency.evidence["mandatory_items"]
    assert "etiquetas" not in no_frequency.evidence["mandatory_items"]
    assert {"modificacion", "pagina_de_acceso"} <= set(no_frequency.evidence["items"])
