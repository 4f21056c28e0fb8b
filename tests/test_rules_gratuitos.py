from __future__ import annotations

import pytest
from test_rules_builders import LONG_NOTES, ctx, dataset, dictionary, ev, failed, probe, resource

from rules import gratuitos
from rules.base import Status

P = gratuitos.Params()


def run(c):
    return gratuitos.evaluate(c, P)


def codes(result):
    return [f.code for f in result.findings]


def extras(**kv):
    return [{"key": k, "value": v} for k, v in kv.items()]


@pytest.mark.parametrize(
    ("ds", "resources", "status", "code"),
    [
        (dataset(), None, Status.PASS, None),
        (dataset(), [ev(), ev(resource("Pago"), failed("payment_required", "http_402", 402))], Status.FAIL,
         "recurso_de_pago"),
        (dataset(), [ev(p=probe("payment_required", sniffed="html", reason="payment_page"))], Status.FAIL,
         "recurso_de_pago"),
        (dataset(extras=extras(costo="350")), None, Status.FAIL, "precio_declarado"),
        (dataset(extras=extras(tarifa="$1,500.00 MXN por consulta")), None, Status.FAIL, "precio_declarado"),
        (dataset(price=25), None, Status.FAIL, "precio_declarado"),
        (dataset(extras=extras(precio="0")), None, Status.PASS, None),
        (dataset(extras=extras(costo="Gratuito")), None, Status.PASS, None),
        (dataset(extras=extras(cost="$0.00")), None, Status.PASS, None),
        (dataset(notes=LONG_NOTES + " Los datos completos se entregan previo pago de derechos."), None, Status.FAIL,
         "pago_en_metadatos"),
        (dataset(notes=LONG_NOTES + " La descarga del archivo tiene un costo."), None, Status.FAIL,
         "pago_en_metadatos"),
        (dataset(), [ev(resource("A"), failed("not_found", "http_404", 404))], Status.NOT_APPLICABLE,
         "nada_descargable"),
        (dataset(), [ev(p=None)], Status.NOT_APPLICABLE, "sin_evidencia"),
        (dataset(), [], Status.NOT_APPLICABLE, "sin_recursos"),
    ],
    ids=["free", "http_402", "payment_page", "price_extra", "fare_with_amount", "price_top_level", "price_zero",
         "price_gratuito", "cost_zero_pesos", "previo_pago", "tiene_un_costo", "nothing_downloadable", "no_probe",
         "no_resources"],
)
def test_gratuitos_table(ds, resources, status, code):
    result = run(ctx(ds, resources))
    assert result.status is status
    if code:
        assert code in codes(result)
        finding = next(f for f in result.findings if f.code == code)
        assert finding.message_es and finding.remediation_es


def test_gratuitos_price_declared_on_a_resource_fails():
    res = resource(precio="120")
    result = run(ctx(resources=[ev(res)]))
    assert result.status is Status.FAIL
    assert result.findings[0].observed.startswith("precio")


@pytest.mark.parametrize(
    ("title", "notes"),
    [
        ("Tarifas del transporte público", "Tarifas vigentes del transporte público concesionado por ruta. "
         "El pago de derechos por concesión tiene un costo que se actualiza cada año."),
        ("Costos de trámites vehiculares", "Información sobre el costo y el pago de derechos de cada trámite "
         "vehicular: alta, baja, refrendo y reposición de placas."),
        ("Recaudación estatal", "Montos mensuales recaudados por pago de derechos y tenencia, por municipio."),
    ],
    ids=["fares", "procedure_costs", "tax_collection"],
)
def test_gratuitos_does_not_flag_datasets_about_costs(title, notes):
    result = run(ctx(dataset(title=title, notes=notes)))
    assert result.status is Status.PASS, result.findings


def test_gratuitos_flags_dataset_about_costs_that_also_charges_for_the_data():
    notes = "Tarifas del transporte por ruta. La descarga de la base de datos completa requiere pago previo pago de derechos."
    result = run(ctx(dataset(title="Tarifas del transporte público", notes=notes)))
    assert result.status is Status.FAIL


@pytest.mark.parametrize(
    "notes",
    [
        "Información disponible previo pago de derechos.",
        "Los archivos se proporcionan en CSV. Previo pago de derechos en la ventanilla de la dependencia.",
        "La consulta de la base de datos completa tiene un costo de 500 pesos.",
    ],
)
def test_gratuitos_flags_payment_phrases_about_obtaining_the_data(notes):
    result = run(ctx(dataset(notes=LONG_NOTES + " " + notes)))
    assert result.status is Status.FAIL
    assert "pago_en_metadatos" in codes(result)


def test_gratuitos_payment_phrase_about_something_else_is_not_flagged():
    notes = LONG_NOTES + " Cada trámite tiene un costo establecido en la ley de ingresos."
    assert run(ctx(dataset(title="Catálogo de trámites y servicios", notes=notes))).status is Status.PASS


def test_gratuitos_uninterpretable_price_needs_manual_review_but_does_not_fail():
    result = run(ctx(dataset(extras=extras(costo="Consultar con la dependencia"))))
    assert result.status is Status.PASS
    assert result.findings[0].code == "precio_por_revisar"
    assert result.findings[0].manual_review is True


def test_gratuitos_only_documentation_reachable_is_not_applicable():
    resources = [ev(resource("Datos"), failed("timeout")), ev(dictionary(), probe(sniffed="pdf"))]
    result = run(ctx(resources=resources))
    assert result.status is Status.NOT_APPLICABLE


def test_gratuitos_retired_is_not_applicable():
    assert run(ctx(retired=True)).status is Status.NOT_APPLICABLE


def test_gratuitos_flags_payment_phrase_in_a_resource_description():
    res = resource("Base completa", description="El archivo completo se entrega previo pago de derechos.")
    result = run(ctx(resources=[ev(res)]))
    assert result.status is Status.FAIL
    assert "Base completa" in next(f for f in result.findings if f.code == "pago_en_metadatos").message_es


def test_gratuitos_reports_a_repeated_payment_sentence_once():
    text = LONG_NOTES + " Los datos se entregan previo pago de derechos."
    result = run(ctx(dataset(notes=text, description=text)))
    assert [f.code for f in result.findings].count("pago_en_metadatos") == 1


def test_gratuitos_web_pages_instead_of_files_cannot_confirm_free_access():
    from test_rules_builders import ctx, ev, probe, resource

    from rules import gratuitos

    result = gratuitos.evaluate(ctx(resources=[ev(resource("Datos", "XLS"), probe("landing_page", sniffed="html"))]),
                                gratuitos.Params())
    assert result.status.value == "not_applicable"
    assert [f.code for f in result.findings] == ["solo_paginas_web"] and result.findings[0].manual_review
    mixed = gratuitos.evaluate(ctx(resources=[ev(resource("A", "XLS"), probe("landing_page", sniffed="html")),
                                              ev(resource("B", "CSV"), probe(sniffed="csv"))]), gratuitos.Params())
    assert mixed.status.value == "pass"
