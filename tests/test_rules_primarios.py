from __future__ import annotations

import pytest
from test_rules_builders import content, ctx, dataset, dictionary, ev, failed, probe, resource

from rules import primarios
from rules.base import Status

P = primarios.Params()


def run(c):
    return primarios.evaluate(c, P)


def codes(result):
    return [f.code for f in result.findings]


def fuente(value):
    return dataset(extras=[{"key": "fuente", "value": value}])


@pytest.mark.parametrize(
    ("ds", "resources", "status", "code"),
    [
        (dataset(), [ev(c=content())], Status.PASS, None),
        (dataset(), None, Status.PASS, None),  # no content checks: judged on source and formats
        (fuente("INEGI, Censo de Población y Vivienda 2020"), None, Status.FAIL, "fuente_externa"),
        (dataset(source="Secretaría de Finanzas"), None, Status.FAIL, "fuente_externa"),
        (fuente("Secretaría de Salud del Estado de México"), None, Status.PASS, None),
        (fuente("Dirección de Epidemiología, Secretaría de Salud"), None, Status.PASS, None),
        (fuente("Elaboración propia"), None, Status.PASS, None),
        (fuente("Elaboración propia con datos del INEGI"), None, Status.FAIL, "fuente_externa"),
        (fuente("Dirección General de Información en Salud (DGIS), Secretaría de Salud federal"), None, Status.FAIL,
         "fuente_externa"),
        (fuente("Secretaría de Economía, Gobierno de México"), None, Status.FAIL, "fuente_externa"),
        (fuente("La Secretaría de Finanzas"), None, Status.FAIL, "fuente_externa"),
        (dataset(), [ev(resource("Informe", "PDF"), probe(sniffed="pdf")), ev(resource("Mapa", "PNG"), probe(sniffed="png"))],
         Status.FAIL, "solo_productos_derivados"),
        (dataset(), [ev(resource("Tablero", "CSV"), probe("landing_page", sniffed="html"))], Status.FAIL,
         "solo_productos_derivados"),
        (dataset(), [ev(resource("Informe", "PDF"), probe(sniffed="pdf")), ev(c=content())], Status.PASS, None),
        (dataset(), [ev(c=content(rows=4, summary_rows=4))], Status.FAIL, "solo_resumen"),
        (dataset(), [ev(c=content(rows=126, summary_rows=1))], Status.PARTIAL, "filas_de_totales"),
        (dataset(), [ev(resource("A"), c=content()), ev(resource("B"), c=content(rows=3, summary_rows=3))],
         Status.PARTIAL, "solo_resumen"),
        (dataset(), [ev(c=content(disaggregation_keys=()))], Status.PARTIAL, "sin_claves_desagregacion"),
        (dataset(), [ev(c=content(rows=5))], Status.PARTIAL, "pocos_registros"),
        (dataset(), [ev(dictionary(), probe(sniffed="pdf"))], Status.FAIL, "sin_recursos_de_datos"),
    ],
    ids=["record_level", "no_content_checks", "source_inegi", "source_other_secretariat", "source_is_publisher",
         "source_names_publisher_unit", "source_self", "self_with_inegi_data", "federal_namesake", "federal_body",
         "other_secretariat_with_article", "only_pdf_and_image", "dashboard_link", "pdf_plus_csv",
         "summary_only", "total_row", "one_summary_table_of_two", "no_disaggregation_keys", "few_rows",
         "only_documentation"],
)
def test_primarios_table(ds, resources, status, code):
    result = run(ctx(ds, resources))
    assert result.status is status, result.findings
    if code:
        assert code in codes(result)
    if status is Status.PARTIAL:
        assert 0 < result.score < 1


def test_primarios_external_source_is_flagged_for_manual_review():
    result = run(ctx(fuente("CONAPO")))
    finding = next(f for f in result.findings if f.code == "fuente_externa")
    assert finding.manual_review and finding.observed == "CONAPO"


def test_primarios_source_matching_organization_acronym_is_the_publisher():
    ds = fuente("IGECEM")
    ds["organization"] = {"name": "igecem", "title": "Instituto de Información e Investigación Geográfica, "
                          "Estadística y Catastral del Estado de México"}
    assert run(ctx(ds)).status is Status.PASS


def test_primarios_unreachable_csv_is_not_derived_but_cannot_be_verified():
    resources = [ev(resource("Datos", "CSV"), failed("not_found", "http_404", 404))]
    result = run(ctx(resources=resources))
    assert result.status is Status.NOT_APPLICABLE
    assert "nada_descargable" in codes(result)


def test_primarios_unreachable_data_with_external_source_still_fails():
    resources = [ev(resource("Datos", "CSV"), failed("auth_required", "http_401", 401))]
    assert run(ctx(fuente("INEGI"), resources)).status is Status.FAIL


def test_primarios_total_row_in_a_numeric_column_is_seen_in_failed_expectations():
    failed_check = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "anio"},
                    "result": {"unexpected_count": 1, "partial_unexpected_list": ["Total"]}}
    c = content(rows=6, summary_rows=0, disaggregation_keys=("anio",), expectations={"failed": [failed_check]})
    result = run(ctx(resources=[ev(c=c)]))
    assert result.status is Status.FAIL
    assert "solo_resumen" in codes(result)


def test_primarios_retired_is_not_applicable():
    assert run(ctx(retired=True)).status is Status.NOT_APPLICABLE


PERSONAL = ({"column": "curp", "kind": "curp", "count": 40, "examples": ["GOMA••••••••••••07"]},)


@pytest.mark.parametrize("setting,status", [("none", Status.PASS), ("partial", Status.PARTIAL), ("fail", Status.FAIL)])
def test_primarios_personal_data_is_an_alert_unless_configured_to_count(setting, status):
    result = primarios.evaluate(ctx(resources=[ev(c=content(personal_data=PERSONAL))]),
                                primarios.Params(personal_data_status=setting))
    assert result.status is status
    finding = next(f for f in result.findings if f.code == "posibles_datos_personales")
    assert finding.manual_review and "GOMA••••••••••••07" in finding.message_es and "CURP" in finding.message_es
    assert "anonimice" in finding.remediation_es


def test_the_remedy_asks_for_the_greatest_disaggregation_possible_never_simply_individual_records():
    summary = content(rows=6, summary_rows=1, disaggregation_keys=())
    result = primarios.evaluate(ctx(resources=[ev(c=summary)]), primarios.Params())
    remedies = [f.remediation_es for f in result.findings]
    assert remedies and all("registros individuales" not in r for r in remedies)
    assert any("mayor nivel de desagregación posible" in r and "datos personales" in r for r in remedies)
