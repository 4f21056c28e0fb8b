"""Shared helpers: format normalisation, documentation detection, metadata look-up, frequency parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_rules_builders import ctx, dataset, dictionary, ev, probe, resource

from rules._common import (
    RuleParams,
    data_resources,
    effective_type,
    find_metadata,
    frequency_duration,
    is_blank,
    is_documentation,
    make_result,
    normalize_format,
    parse_datetime,
)
from rules.base import Status
from rules.frequency import parse_frequency

P = RuleParams()


@pytest.mark.parametrize(
    ("declared", "normal"),
    [(" csv", "csv"), (".XLS", "xls"), ("Csv", "csv"), ("CSV", "csv"), ("text/csv", "csv"), ("CSV (UTF-8)", "csv"),
     ("XLSX", "xlsx"), ("application/vnd.ms-excel", "xls"), ("Excel", "xls"), ("GeoJSON", "geojson"),
     ("SHP", "shapefile-zip"), ("jpg", "jpeg"), ("", ""), (None, ""), ("  ", ""), ("API", "api"),
     ("text/csv; charset=utf-8", "csv"), (".pdf", "pdf"), ("Página web", "html")],
)
def test_normalize_format_handles_messy_declared_formats(declared, normal):
    assert normalize_format(declared) == normal


@pytest.mark.parametrize(
    ("name", "description", "is_doc"),
    [
        ("Diccionario de datos", "", True),
        ("diccionario_datos.csv", "", True),
        ("Metodología", "", True),
        ("Nota técnica 2024", "", True),
        ("Manual de usuario", "", True),
        ("Documentación del conjunto", "", True),
        ("Ficha", "Diccionario de datos del conjunto", True),
        ("Campos", "Diccionario de los campos del archivo", True),
        ("Ficha técnica", "Metodología de cálculo de los indicadores", True),
        ("Anexo", "El glosario de términos usados en el conjunto", True),
        ("Casos 2024", "Casos calculados con la metodología del INEGI", False),
        ("Casos 2024", "Registro de casos; consulte el diccionario de datos para cada campo", False),
        ("Casos de dengue 2025", "Registro de casos", False),
        ("Padrón de beneficiarios", "Captura manual de los registros en ventanilla", False),
        ("Manualidades artesanales", "", False),
    ],
)
def test_documentation_resources_are_recognised_by_name_and_description_words(name, description, is_doc):
    assert is_documentation({"name": name, "description": description}, P) is is_doc


def test_data_resources_exclude_documentation():
    c = ctx(resources=[ev(), ev(dictionary(), probe(sniffed="pdf"))])
    assert [r.label for r in data_resources(c, P)] == ["Casos de dengue 2025"]


def test_effective_type_prefers_sniffed_type_of_reachable_resource():
    assert effective_type(ev(resource(fmt="CSV"), probe(sniffed="pdf"))) == ("pdf", "sniffed")
    assert effective_type(ev(resource(fmt=" csv"), None)) == ("csv", "declared")
    assert effective_type(ev(resource(fmt="", url="https://x.example.invalid/a.xlsx"), None)) == ("xlsx", "url")


@pytest.mark.parametrize(
    "ds",
    [
        dataset(extras=[], frecuencia="mensual"),  # scheming top-level field
        dataset(extras=[{"key": "Frecuencia", "value": "mensual"}]),  # extras, capitalised key
        dataset(extras={"frecuencia": "mensual"}),  # extras as a dict
    ],
)
def test_find_metadata_looks_in_top_level_fields_and_extras(ds):
    assert find_metadata(ds, ["frequency", "frecuencia"])[1] == "mensual"


def test_find_metadata_respects_key_order_and_skips_blanks():
    ds = dataset(extras=[{"key": "frequency", "value": ""}, {"key": "periodicidad", "value": "anual"}])
    assert find_metadata(ds, ["frequency", "periodicidad"]) == ("periodicidad", "anual")


@pytest.mark.parametrize("value", [None, "", "  ", "N/A", "-", "sin información", [], {}, {"start": ""}])
def test_blank_values(value):
    assert is_blank(value)


@pytest.mark.parametrize(
    ("raw", "kind", "days"),
    [
        ("R/P1M", "periodic", 30.44), ("R/P0.5M", "periodic", 15.22), ("R/P1Y", "periodic", 365.25),
        ("R/P3M", "periodic", 91.31), ("R/P1D", "periodic", 1), ("P1W", "periodic", 7), ("R/PT1H", "periodic", 0.04),
        ("Mensual", "periodic", 30.44), ("mensualmente", "periodic", 30.44), ("Diaria", "periodic", 1),
        ("semanal", "periodic", 7), ("quincenal", "periodic", 15), ("bimestral", "periodic", 60.88),
        ("trimestral", "periodic", 91.31), ("cuatrimestral", "periodic", 121.75), ("semestral", "periodic", 182.63),
        ("Anual", "periodic", 365.25), ("bienal", "periodic", 730.5), ("Actualización anual", "periodic", 365.25),
        ("cada tres meses", "periodic", 91.31), ("weekly", "periodic", 7), ("annual", "periodic", 365.25),
        ("http://publications.europa.eu/resource/authority/frequency/QUARTERLY", "periodic", 91.31),
        ("http://publications.europa.eu/resource/authority/frequency/ANNUAL_2", "periodic", 182.63),
        ("http://purl.org/cld/freq/monthly", "periodic", 30.44),
        ("Tiempo real", "continuous", 1), ("real time", "continuous", 1),
        ("irregular", "irregular", None), ("Eventual", "irregular", None), ("No planeada", "irregular", None),
        ("as needed", "irregular", None),
        ("http://publications.europa.eu/resource/authority/frequency/IRREG", "irregular", None),
        ("", "unknown", None), ("cuando haya presupuesto", "unknown", None), ("2020-01-01/P1M", "unknown", None),
        ("http://publications.europa.eu/resource/authority/frequency/UNKNOWN", "unknown", None),
    ],
)
def test_parse_frequency(raw, kind, days):
    freq = parse_frequency(raw)
    assert freq.kind == kind
    if days is None:
        assert freq.days is None
    else:
        assert freq.days == pytest.approx(days, abs=0.01)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-06-22T20:44:14.308368", datetime(2017, 6, 22, 20, 44, 14, 308368, tzinfo=UTC)),
        ("2021-05-24T14:35:41+01:00", datetime(2021, 5, 24, 13, 35, 41, tzinfo=UTC)),
        ("Mon, 24 May 2021 14:35:41 GMT", datetime(2021, 5, 24, 14, 35, 41, tzinfo=UTC)),
        ("24/05/2021", datetime(2021, 5, 24, tzinfo=UTC)),  # day first, as in Mexico
        ("May 2021", datetime(2021, 5, 1, tzinfo=UTC)),  # month precision: the 1st, never today's day
        ("mayo de 2021", datetime(2021, 5, 1, tzinfo=UTC)),
        ("22 de junio de 2017", datetime(2017, 6, 22, tzinfo=UTC)),
        ("miércoles 3 de marzo de 2021", datetime(2021, 3, 3, tzinfo=UTC)),
        ("dic 2020", datetime(2020, 12, 1, tzinfo=UTC)),
        ("2017-06", datetime(2017, 6, 1, tzinfo=UTC)),
        ("2021", datetime(2021, 1, 1, tzinfo=UTC)),
        ("24 de mayo", None),  # no year: not a date
        ("12:30", None),
        ("0000-00-00", None),
        ("pronto", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_datetime(raw, expected):
    assert parse_datetime(raw) == expected


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("1 mes", "P1M"), ("30 días", "P30D"), ("30 días.", "P30D"), ("cada 2 semanas", "P2W"),
        ("every 2 weeks", "P2W"), ("Every 3 months", "P3M"), ("cada 15 días hábiles", "P15D"),
        ("Actualización cada 6 meses", "P6M"), ("cada 1.5 meses", "P1.5M"), ("cada 1,5 meses", "P1.5M"),
        ("cada trimestre", "P3M"), ("cada quincena", "P15D"), ("cada dos años", "P2Y"), ("cada once días", "P11D"),
        ("dos veces al año", "P6M"), ("una vez al mes", "P1M"), ("1 vez al año", "P1Y"), ("once a year", "P1Y"),
        ("3 veces por semana", "P2.3333D"), ("twice a month", "P15.2188D"), ("2 weeks", "P2W"), ("cada 12 horas", "PT12H"),
        ("Mensual", None), ("R/P1M", None), ("cada primer lunes", None), ("cada 0 días", None),
        ("Mensual, con 2 meses de rezago", None), ("", None), (None, None),
    ],
)
def test_frequency_duration_reads_a_count_and_a_unit(raw, iso):
    assert frequency_duration(raw) == iso


@pytest.mark.parametrize(
    ("status", "given", "score"),
    [(Status.PASS, 0.83, 1.0), (Status.FAIL, 0.2, 0.0), (Status.NOT_APPLICABLE, None, 0.0),
     (Status.PARTIAL, 0.6, 0.6), (Status.PARTIAL, 1.0, 0.99), (Status.PARTIAL, 0.0, 0.01), (Status.PARTIAL, None, 0.5)],
)
def test_status_maps_to_score_with_partial_graded_strictly_inside(status, given, score):
    assert make_result("accesibles", status, score=given).score == score


@pytest.mark.parametrize(("text", "days"), [
    ("1 mes", 30.4375), ("30 días", 30.0), ("every 2 weeks", 14.0), ("cada 2 semanas", 14.0),
    ("once a year", 365.25), ("cada once días", 11.0),
])
def test_parse_frequency_reads_a_count_and_a_unit(text, days):
    freq = parse_frequency(text)
    assert freq.kind == "periodic" and freq.days == pytest.approx(days)


def test_parse_frequency_once_alone_is_irregular():
    assert parse_frequency("once").kind == "irregular"
