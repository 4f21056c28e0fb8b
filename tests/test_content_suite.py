"""The built-in GX suite, agency suites and data-dictionary expectations, on real generated files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from audit.config import ContentSettings
from audit.content.expectations import parse_dictionary, validate
from audit.content.load import load_table
from audit.content.stage import check_bytes
from audit.content.suites import suites_for

S = ContentSettings()


def _records(n: int = 40) -> list[str]:
    return [f"2024-{i % 12 + 1:02d}-15,15,{i % 125 + 1:03d},Municipio {i},{i * 10}" for i in range(n)]


def _csv(lines: list[str], header: str = "fecha,cve_ent,cve_mun,municipio,monto") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def _failed_checks(ev) -> set[str]:  # type: ignore[no-untyped-def]
    return {f["meta"].get("check") for f in ev.expectations["failed"]}


def test_clean_csv_passes_builtin_suite():
    ev = check_bytes(_csv(_records()), "csv", settings=S, suites=[])
    assert ev.parsed_ok and ev.rows == 40 and ev.columns == 5
    assert ev.expectations["success"] is True, ev.expectations["failed"]
    assert ev.has_header and ev.type_consistent and ev.summary_rows == 0 and ev.empty_columns == ()
    assert set(ev.disaggregation_keys) >= {"fecha", "cve_ent", "cve_mun"}
    builtin = ev.expectations["suites"][0]
    assert builtin["name"] == "builtin" and builtin["statistics"]["evaluated_expectations"] >= 5
    json.dumps(ev.expectations)  # stored as JSON


def test_total_row_is_a_summary_row():
    ev = check_bytes(_csv(_records() + [",,,Total,9999"]), "csv", settings=S, suites=[])
    assert ev.summary_rows == 1 and "summary_rows" in ev.problems
    assert "summary_rows" in _failed_checks(ev)


@pytest.mark.parametrize("label", ["Subtotal", "TOTAL GENERAL", "Suma", "Gran total"])
def test_summary_labels_detected(label):
    ev = check_bytes(_csv(_records() + [f",,,{label},1"]), "csv", settings=S, suites=[])
    assert ev.summary_rows == 1


def test_total_label_in_a_year_column_is_a_summary_row():
    data = b"anio,defunciones,tasa\n2020,100,1.5\n2021,120,1.7\n2022,90,1.2\nTotal,310,1.47\n"
    ev = check_bytes(data, "csv", settings=S, suites=[])
    assert ev.summary_rows == 1 and "summary_rows" in _failed_checks(ev)


def test_totalmente_is_not_a_summary_row():
    ev = check_bytes(_csv(_records() + ["2024-01-01,15,001,Totalmente nuevo,1"]), "csv", settings=S, suites=[])
    assert ev.summary_rows == 0


def test_empty_column_fails():
    lines = [r + "," for r in _records()]
    ev = check_bytes(_csv(lines, header="fecha,cve_ent,cve_mun,municipio,monto,observaciones"), "csv", settings=S, suites=[])
    assert ev.empty_columns == ("observaciones",)
    assert "empty_columns" in ev.problems and "null_share" in _failed_checks(ev)


def test_mostly_null_column_reported_with_share():
    lines = [r + ("," if i % 4 else ",x") for i, r in enumerate(_records())]
    ev = check_bytes(_csv(lines, header="fecha,cve_ent,cve_mun,municipio,monto,nota"), "csv", settings=S, suites=[])
    assert ev.null_share == {"nota": 0.75} and "high_null_share" in ev.problems


def test_numbers_mixed_with_text_are_type_inconsistent():
    lines = _records()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",N/D"
    ev = check_bytes(_csv(lines), "csv", settings=S, suites=[])
    assert ev.type_consistent is False and "type_inconsistent" in ev.problems
    failed = [f for f in ev.expectations["failed"] if f["meta"].get("check") == "type_consistency"]
    assert failed[0]["kwargs"]["column"] == "monto" and failed[0]["result"]["partial_unexpected_list"] == ["N/D"]


def test_invalid_inegi_state_code():
    lines = _records()
    lines[3] = lines[3].replace(",15,", ",99,", 1)
    ev = check_bytes(_csv(lines), "csv", settings=S, suites=[])
    assert ev.invalid_codes == ("cve_ent",) and "invalid_inegi_codes" in ev.problems


def test_duplicate_rows_above_threshold():
    ev = check_bytes(_csv(_records(10) * 3), "csv", settings=S, suites=[])
    assert ev.duplicate_share == pytest.approx(0.6667, abs=1e-3)
    assert "duplicate_rows" in ev.problems and "duplicate_rows" in _failed_checks(ev)


def test_too_few_rows():
    ev = check_bytes(_csv([]), "csv", settings=S.model_copy(update={"min_rows": 5}), suites=[])
    assert ev.rows == 0 and "too_few_rows" in ev.problems and "min_rows" in _failed_checks(ev)


def test_no_disaggregation_keys():
    ev = check_bytes(b"categoria,valor\nA,1\nB,2\nC,3\n", "csv", settings=S, suites=[])
    assert ev.disaggregation_keys == () and "no_disaggregation_keys" in ev.problems


def test_duplicate_and_blank_header_names_are_problems():
    ev = check_bytes(b"a,a,,c\n1,2,3,4\n5,6,7,8\n", "csv", settings=S, suites=[])
    assert ev.parsed_ok and "duplicate_column_names" in ev.problems and "blank_column_names" in ev.problems


def test_builtin_suite_on_pandas3_dtypes():
    df = pd.DataFrame({
        "fecha": pd.Series(["2024-01-01", "2024-02-01", "2024-03-01", "sin fecha"], dtype="str"),
        "municipio": pd.Series(["Toluca", "Metepec", "Total", None], dtype="str"),
        "valor": pd.array([1, 2, None, 4], dtype="Int64"),
        "monto": [1.5, 2.5, 3.5, 4.5],
    })
    assert str(df["municipio"].dtype) == "str"
    out = validate(df, settings=S, extra_suites=[])
    failed = {(f["meta"]["check"], f["kwargs"].get("column")) for f in out["failed"]}
    assert failed == {("summary_rows", "municipio"), ("type_consistency", "fecha")}
    assert out["success"] is False and out["sample_rows"] == 4


def test_validation_sample_keeps_head_and_tail():
    lines = _records(3000) + [",,,Total,1"]
    ev = check_bytes(_csv(lines), "csv", settings=S.model_copy(update={"validation_sample_rows": 200}), suites=[])
    assert ev.rows == 3001 and ev.sample_rows == 200
    assert "summary_rows" in _failed_checks(ev)  # the last row is inside the sample


AGENCY_SUITE = {
    "name": "padron-agencia",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "monto"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "monto", "min_value": 0, "max_value": 100}},
    ],
}


def test_file_violating_agency_suite(tmp_path):
    (tmp_path / "padron.json").write_text(json.dumps(AGENCY_SUITE))
    suites, errors = suites_for(tmp_path, "padron", "Padrón 2024", "res-1")
    assert errors == [] and suites[0]["meta"]["source"] == "agency"
    ev = check_bytes(_csv(_records()), "csv", settings=S, suites=suites)
    agency = [s for s in ev.expectations["suites"] if s["source"] == "agency"]
    assert agency[0]["name"] == "padron-agencia" and agency[0]["success"] is False
    assert [f["type"] for f in agency[0]["failed"]] == ["expect_column_values_to_be_between"]
    assert ev.agency_success is False and "agency_suite_failed" in ev.problems
    # the built-in suite is kept separately and still passes
    assert ev.expectations["suites"][0]["success"] is True


def test_agency_suite_in_yaml_for_one_resource(tmp_path):
    (tmp_path / "padron__padron-2024.yaml").write_text(
        "name: solo-2024\nexpectations:\n  - type: expect_table_row_count_to_be_between\n    kwargs: {min_value: 1}\n"
    )
    suites, _ = suites_for(tmp_path, "padron", "Padrón 2024", "res-1")
    assert [s["name"] for s in suites] == ["solo-2024"]
    assert suites_for(tmp_path, "padron", "Otro", "res-2")[0] == []
    ev = check_bytes(_csv(_records()), "csv", settings=S, suites=suites)
    assert ev.agency_success is True


def test_malformed_agency_suite_is_reported_not_raised(tmp_path):
    (tmp_path / "padron.json").write_text("{ not json")
    suites, errors = suites_for(tmp_path, "padron", None, None)
    assert errors and "padron.json" in errors[0]
    ev = check_bytes(_csv(_records()), "csv", settings=S, suites=suites)
    assert ev.agency_success is False and "agency_suite_invalid" in ev.problems


def test_unknown_expectation_and_missing_column_in_agency_suite():
    suite = {"name": "mala", "expectations": [
        {"type": "expect_the_moon", "kwargs": {}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "no_existe"}},
    ]}
    ev = check_bytes(_csv(_records()), "csv", settings=S, suites=[suite])
    agency = ev.expectations["suites"][1]
    assert agency["success"] is False
    assert {i.get("type") for i in agency["invalid"]} == {"expect_the_moon", "expect_column_values_to_not_be_null"}


DICTIONARY = (
    "Nombre del campo,Tipo de dato,Descripción\n"
    "Fecha,Fecha,Fecha del registro\n"
    "cve_ent,Texto,Clave INEGI de la entidad\n"
    "monto,Numérico,Monto en pesos\n"
).encode()


def test_data_dictionary_becomes_expectations():
    fields = parse_dictionary(load_table(DICTIONARY, "csv", max_rows=100).df)
    assert fields == [{"name": "Fecha", "type": "date"}, {"name": "cve_ent", "type": "text"},
                      {"name": "monto", "type": "numeric"}]
    ok = check_bytes(_csv(_records()), "csv", settings=S, suites=[], dictionary_fields=fields)
    assert ok.dictionary_conformance is True
    # a column missing and a numeric field holding text
    bad_lines = [r.rsplit(",", 1)[0] + ",mil" for r in _records()]
    bad = check_bytes(_csv(bad_lines, header="fecha,entidad,cve_mun,municipio,monto"), "csv", settings=S, suites=[],
                      dictionary_fields=fields)
    assert bad.dictionary_conformance is False and "dictionary_mismatch" in bad.problems
    dict_suite = next(s for s in bad.expectations["suites"] if s["source"] == "dictionary")
    missing = next(f for f in dict_suite["failed"] if f["type"] == "expect_table_columns_to_match_set")
    assert missing["result"]["details"]["mismatched"]["missing"] == ["cve_ent"]
    assert any(f["type"] == "expect_column_values_to_match_regex" and f["kwargs"]["column"] == "monto"
               for f in dict_suite["failed"])
