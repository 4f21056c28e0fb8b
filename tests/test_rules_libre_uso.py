from __future__ import annotations

import pytest
from test_rules_builders import ctx, dataset

from rules import libre_uso, licenses
from rules.base import Status

P = libre_uso.Params()

PORTAL_LICENSES = {
    "mx-terminos-libre-uso": {"id": "mx-terminos-libre-uso", "title": "Términos de Libre Uso MX",
                              "url": "https://datos.gob.mx/libreusomx"},
    "licencia-estatal": {"id": "licencia-estatal", "title": "Licencia estatal de datos",
                         "url": "https://creativecommons.org/licenses/by/4.0/"},
    "abierta-local": {"id": "abierta-local", "title": "Licencia local", "url": "", "od_conformance": "approved"},
}


def run(ds):
    return libre_uso.evaluate(ctx(ds, licenses=PORTAL_LICENSES), P)


@pytest.mark.parametrize(
    ("license_id", "title", "url", "status"),
    [
        ("cc-by", "", "", Status.PASS),
        ("cc-by-4.0", "", "", Status.PASS),
        ("CC-BY-4.0", "", "", Status.PASS),
        ("cc-zero", "", "", Status.PASS),
        ("odc-pddl", "", "", Status.PASS),
        ("odc-by", "", "", Status.PASS),
        ("mx-terminos-libre-uso", "", "", Status.PASS),
        ("uk-ogl", "", "", Status.PASS),
        ("", "Creative Commons Attribution 4.0", "", Status.PASS),
        ("", "", "https://creativecommons.org/licenses/by/4.0/deed.es", Status.PASS),
        ("", "Atribución 4.0 Internacional (CC BY 4.0)", "", Status.PASS),
        ("licencia-estatal", "", "", Status.PASS),  # resolved through the portal's license_list URL
        ("cc-by-sa", "", "", Status.PARTIAL),
        ("cc-by-sa-4.0", "", "", Status.PARTIAL),
        ("odc-odbl", "", "", Status.PARTIAL),
        ("", "Open Data Commons Open Database License (ODbL)", "", Status.PARTIAL),
        ("other-open", "", "", Status.PARTIAL),
        ("abierta-local", "", "", Status.PARTIAL),  # unknown to us, but the portal says OD-conformant
        ("cc-nc", "", "", Status.FAIL),
        ("cc-by-nc-sa-4.0", "", "", Status.FAIL),
        ("cc-by-nd", "", "", Status.FAIL),
        ("", "", "https://creativecommons.org/licenses/by-nc/4.0/", Status.FAIL),
        ("other-closed", "", "", Status.FAIL),
        ("notspecified", "License not specified", "", Status.FAIL),
        ("", "", "", Status.FAIL),
        ("licencia-rara", "", "", Status.FAIL),
    ],
)
def test_libre_uso_table(license_id, title, url, status):
    result = run(dataset(license_id=license_id, license_title=title, license_url=url))
    assert result.status is status, result.evidence
    if status is not Status.PASS:
        assert result.findings[0].remediation_es


@pytest.mark.parametrize(
    ("license_id", "code", "review"),
    [("cc-by-sa-4.0", "licencia_compartir_igual", False), ("other-open", "licencia_abierta_por_revisar", True),
     ("cc-nc", "licencia_no_comercial", False), ("cc-by-nd-4.0", "licencia_sin_derivadas", False),
     ("other-closed", "licencia_cerrada", False), ("notspecified", "licencia_no_especificada", False),
     ("", "licencia_no_especificada", False), ("xyz", "licencia_desconocida", True)],
)
def test_libre_uso_reason_codes(license_id, code, review):
    result = run(dataset(license_id=license_id, license_title="", license_url=""))
    (finding,) = result.findings
    assert finding.code == code and finding.manual_review is review
    if license_id:
        assert finding.observed == license_id


def test_libre_uso_vocabulary_is_configurable():
    params = libre_uso.Params(license_vocabulary={**P.license_vocabulary, "licencia-rara": "attribution"})
    result = libre_uso.evaluate(ctx(dataset(license_id="licencia-rara", license_title="")), params)
    assert result.status is Status.PASS


def test_libre_uso_rejects_unknown_category():
    with pytest.raises(ValueError, match="categoría"):
        libre_uso.Params(license_vocabulary={"x": "libre"})


@pytest.mark.parametrize(
    ("value", "category"),
    [("CC BY-NC-SA 2.5 MX", licenses.NON_COMMERCIAL), ("Creative Commons Non-Commercial (Any)", licenses.NON_COMMERCIAL),
     ("http://www.opendefinition.org/licenses/cc-zero", licenses.PUBLIC_DOMAIN), ("CC0 1.0", licenses.PUBLIC_DOMAIN),
     ("https://opendatacommons.org/licenses/odbl/1-0/", licenses.SHARE_ALIKE),
     ("Reconocimiento-CompartirIgual 4.0 Creative Commons", licenses.SHARE_ALIKE),
     ("Términos de Libre Uso", licenses.ATTRIBUTION)],
)
def test_licence_classification(value, category):
    assert licenses.classify(value) == category


def test_libre_uso_retired_is_not_applicable():
    assert libre_uso.evaluate(ctx(retired=True), P).status is Status.NOT_APPLICABLE


def test_an_open_licence_on_a_dataset_without_obtainable_data_is_not_applicable():
    from test_rules_builders import ev, failed, resource

    nothing = ctx(resources=[ev(resource(), failed("dns_error"))])
    result = libre_uso.evaluate(nothing, libre_uso.Params())
    assert result.status is Status.NOT_APPLICABLE and result.findings[0].code == "sin_datos_obtenibles"
    empty = libre_uso.evaluate(ctx(resources=[]), libre_uso.Params())
    assert empty.status is Status.NOT_APPLICABLE and empty.findings[0].code == "sin_recursos"
    closed = ctx(dataset(license_id="cc-nc"), resources=[])
    assert libre_uso.evaluate(closed, libre_uso.Params()).status is Status.FAIL  # a bad licence still fails
