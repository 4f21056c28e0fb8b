from __future__ import annotations

import pytest
from test_rules_builders import content, ctx, dictionary, ev, failed, probe, resource

from rules import legibles_por_maquinas as legibles
from rules.base import Status

P = legibles.Params()


def run(c):
    return legibles.evaluate(c, P)


def sniffed(kind, fmt="CSV", name="Datos", **kw):
    return ev(resource(name, fmt), probe(sniffed=kind, **kw))


@pytest.mark.parametrize(
    ("resources", "status"),
    [
        ([sniffed("csv"), ev(dictionary(), probe(sniffed="pdf"))], Status.PASS),
        ([sniffed("csv", name="A"), sniffed("pdf", "PDF", name="B")], Status.PARTIAL),
        ([sniffed("pdf", "PDF")], Status.FAIL),
        ([], Status.FAIL),
        ([ev(dictionary(), probe(sniffed="pdf"))], Status.FAIL),  # documentation only: no data resources
        ([ev(p=None)], Status.NOT_APPLICABLE),
    ],
    ids=["csv_plus_dictionary", "csv_and_pdf", "pdf_only", "no_resources", "documentation_only", "no_probe"],
)
def test_legibles_table(resources, status):
    assert run(ctx(resources=resources)).status is status


@pytest.mark.parametrize("kind", ["csv", "tsv", "json", "geojson", "xml", "rdf", "kml", "kmz", "xlsx", "xls", "ods",
                                  "shapefile-zip", "parquet", "gpkg"])
def test_legibles_counts_structured_types(kind):
    assert run(ctx(resources=[sniffed(kind)])).status is Status.PASS


@pytest.mark.parametrize("kind", ["pdf", "docx", "doc", "png", "jpeg", "gif", "html", "text", "unknown", "rar"])
def test_legibles_rejects_documents_images_pages_and_prose(kind):
    result = run(ctx(resources=[sniffed(kind)]))
    assert result.status is Status.FAIL
    assert result.findings[0].code == "no_legible"


def test_legibles_sniffed_type_beats_declared_format():
    pdf_as_csv = run(ctx(resources=[sniffed("pdf", "CSV")]))
    assert pdf_as_csv.status is Status.FAIL
    assert "declarado como CSV" in pdf_as_csv.findings[0].message_es
    csv_as_xlsx = run(ctx(resources=[sniffed("csv", "XLSX")]))
    assert csv_as_xlsx.status is Status.PASS
    xlsx_no_extension = run(ctx(resources=[ev(resource("Datos", "", url="https://x.example.invalid/descarga"),
                                              probe(sniffed="xlsx"))]))
    assert xlsx_no_extension.status is Status.PASS


def test_legibles_landing_page_declared_as_csv_is_not_readable():
    result = run(ctx(resources=[ev(resource("Datos", "CSV"), probe("landing_page", sniffed="html"))]))
    assert result.status is Status.FAIL


def test_legibles_file_that_does_not_parse_is_not_readable():
    result = run(ctx(resources=[ev(c=content(parsed_ok=False, problems=("bad_encoding",)))]))
    assert result.status is Status.FAIL
    assert result.findings[0].code == "no_se_puede_leer"
    assert result.findings[0].observed == "bad_encoding"


def test_legibles_zip_with_csv_members_counts():
    assert run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail="datos_2024.csv, leeme.txt")])).status is Status.PASS
    detail = "contiene: json; miembros: datos"  # member without extension, sniffed as JSON
    assert run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail=detail)])).status is Status.PASS
    result = run(ctx(resources=[sniffed("zip", "ZIP", sniffed_detail="informe.pdf")]))
    assert result.status is Status.FAIL and result.findings[0].manual_review


def test_legibles_unreachable_data_resource_does_not_count():
    resources = [sniffed("csv", name="A"), ev(resource("B"), failed("not_found", "http_404", 404))]
    result = run(ctx(resources=resources))
    assert result.status is Status.PARTIAL
    assert result.findings[0].code == "no_descargable"


def test_legibles_retired_is_not_applicable():
    assert run(ctx(retired=True)).status is Status.NOT_APPLICABLE


def test_legibles_valid_json_that_is_not_a_table_still_counts():
    result = run(ctx(resources=[ev(resource("API", "JSON"), probe(sniffed="json"),
                                   c=content(parsed_ok=False, problems=("not_records",)))]))
    assert result.status is Status.PASS and not result.findings


def test_legibles_structure_problems_are_observations_that_keep_the_verdict():
    c = content(problems=("title_rows_above_header", "notes_below_data", "type_inconsistent", "invalid_inegi_codes",
                          "multiple_sheets", "replacement_characters"),
                header_row=3, invalid_codes=("cve_mun",), sheet_names=("Datos", "Notas"),
                expectations={"failed": [{"type": "expect_column_values_to_match_regex", "kwargs": {"column": "monto"},
                                          "meta": {"check": "type_consistency"}}]})
    result = run(ctx(resources=[ev(resource("Padrón", "XLSX"), probe(sniffed="xlsx"), c=c)]))
    assert result.status is Status.PASS
    by_code = {f.code: f for f in result.findings}
    assert set(by_code) == {"filas_de_titulo", "notas_al_pie", "tipos_mezclados", "claves_inegi_invalidas",
                            "varias_hojas", "caracteres_ilegibles"}
    assert by_code["filas_de_titulo"].observed == "encabezado en la fila 4"
    assert by_code["tipos_mezclados"].observed == "monto"
    assert by_code["claves_inegi_invalidas"].observed == "cve_mun"
    assert by_code["varias_hojas"].manual_review and by_code["varias_hojas"].observed == "hojas: Datos, Notas"
    assert all(f.resource == "Padrón" and f.remediation_es for f in result.findings)


def test_structure_observations_are_advisory_even_when_the_rule_does_not_pass():
    messy = content(problems=("title_rows_above_header",), header_row=2)
    result = legibles.evaluate(
        ctx(resources=[ev(resource("A"), probe(sniffed="csv"), c=messy), ev(resource("B"), failed("not_found"))]),
        legibles.Params())
    assert result.status.value == "partial"
    by_code = {f.code: f for f in result.findings}
    assert by_code["filas_de_titulo"].advisory and not by_code["no_descargable"].advisory
