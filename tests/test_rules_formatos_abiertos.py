from __future__ import annotations

import pytest
from test_rules_builders import ctx, dictionary, ev, failed, probe, resource

from rules import formatos_abiertos as formatos
from rules.base import Status

P = formatos.Params()


def run(c, params=P):
    return formatos.evaluate(c, params)


def sniffed(kind, fmt="CSV", name="Datos", **kw):
    return ev(resource(name, fmt), probe(sniffed=kind, **kw))


@pytest.mark.parametrize(
    ("resources", "status"),
    [
        ([sniffed("csv"), ev(dictionary(), probe(sniffed="pdf"))], Status.PASS),
        ([sniffed("csv", name="A"), sniffed("xls", "XLS", name="B")], Status.PARTIAL),
        ([sniffed("xls", "XLS")], Status.FAIL),
        ([sniffed("pdf", "PDF")], Status.FAIL),
        ([], Status.FAIL),
    ],
    ids=["csv_plus_pdf_dictionary", "csv_and_xls", "xls_only", "pdf_only", "no_resources"],
)
def test_formatos_table(resources, status):
    assert run(ctx(resources=resources)).status is status


@pytest.mark.parametrize("kind", ["csv", "tsv", "json", "geojson", "xml", "rdf", "kml", "kmz", "ods", "gpkg",
                                  "parquet", "xlsx", "shapefile-zip"])
def test_formatos_open_by_default(kind):
    assert run(ctx(resources=[sniffed(kind)])).status is Status.PASS


@pytest.mark.parametrize("fmt", ["XLS", "DOC", "MDB", "DBF", "SAV", "PDF", "PNG", ".xls", " Excel "])
def test_formatos_proprietary_and_document_formats_are_not_open(fmt):
    result = run(ctx(resources=[ev(resource("Datos", fmt), None)]))  # not probed: the declared format decides
    assert result.status is Status.FAIL
    assert result.findings[0].code == "formato_no_abierto"


@pytest.mark.parametrize("fmt", [" csv", ".CSV", "Csv", "text/csv", "CSV (UTF-8)", "json", "GeoJSON"])
def test_formatos_messy_declared_open_formats_are_normalised(fmt):
    assert run(ctx(resources=[ev(resource("Datos", fmt), None)])).status is Status.PASS


def test_formatos_sniffed_type_beats_declared_format():
    assert run(ctx(resources=[sniffed("pdf", "CSV")])).status is Status.FAIL
    assert run(ctx(resources=[sniffed("csv", "XLS")])).status is Status.PASS
    assert run(ctx(resources=[ev(resource("Datos", "CSV"), probe("landing_page", sniffed="html"))])).status is Status.FAIL


def test_formatos_xlsx_is_configurable():
    assert run(ctx(resources=[sniffed("xlsx", "XLSX")]), formatos.Params(xlsx_is_open=False)).status is Status.FAIL


def test_formatos_xls_remediation_asks_for_csv():
    result = run(ctx(resources=[sniffed("xls", "XLS")]))
    assert "CSV" in result.findings[0].remediation_es


def test_formatos_unknown_format_needs_review():
    result = run(ctx(resources=[ev(resource("Datos", "", url="https://x.example.invalid/descarga"), None)]))
    assert result.status is Status.FAIL
    assert result.findings[0].code == "formato_desconocido" and result.findings[0].manual_review


def test_formatos_zip_of_csv_is_open():
    assert run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail="a.csv, b.csv")])).status is Status.PASS
    assert run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail="a.csv, b.xls")])).status is Status.FAIL
    detail = "contiene: csv,text; miembros: datos.csv, LEEME.txt"
    assert run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail=detail)])).status is Status.PASS
    assert run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail="contiene: pdf; miembros: informe.pdf")])
               ).status is Status.FAIL


def test_formatos_retired_is_not_applicable():
    assert run(ctx(retired=True)).status is Status.NOT_APPLICABLE


def test_formatos_a_zipped_shapefile_is_open_with_its_reason():
    result = run(ctx(resources=[sniffed("shapefile-zip", "SHP", sniffed_detail="miembros: a.shp, a.shx, a.dbf")]))
    assert result.status is Status.PASS
    assert "Guía recomienda SHP" in result.evidence["detail"][0]["reason"]


def test_formatos_every_format_is_judged_by_the_same_legal_test_and_the_finding_says_why():
    for kind, (is_open, why) in formatos.FORMATS.items():
        assert why, kind
        assert (kind in formatos.OPEN_FORMATS or kind == "xlsx") == is_open, kind
    xls = run(ctx(resources=[sniffed("xls", "XLS")])).findings[0]
    assert "no una norma pública" in xls.message_es
    pdf = run(ctx(resources=[sniffed("pdf", "PDF")])).findings[0]
    assert "no una estructura lógica para almacenar datos" in pdf.message_es


def test_formatos_a_declared_open_format_that_could_not_be_obtained_does_not_pass():
    result = run(ctx(resources=[ev(resource("A", "CSV"), failed("dns_error")),
                                ev(resource("B", "CSV", url="ftp://x.example.invalid/b.csv"), failed("unsupported_scheme"))]))
    assert result.status is Status.FAIL
    assert result.findings[0].code == "sin_datos_obtenibles"
    # with one file obtained, the unreachable one is still judged by its declared format
    mixed = run(ctx(resources=[sniffed("csv", name="A"), ev(resource("B", "CSV"), failed("timeout"))]))
    assert mixed.status is Status.PASS
