"""Real files through the content checks (pandas + Great Expectations) and into the rules that use them."""

from __future__ import annotations

import io

import pandas as pd
from test_rules_builders import ctx, ev, probe, resource

from audit.config import ContentSettings
from audit.content.expectations import parse_dictionary
from audit.content.load import load_table
from audit.content.stage import check_bytes
from rules import integrales, legibles_por_maquinas, primarios

SETTINGS = ContentSettings()


def _check(data: bytes, kind: str = "csv", **kw):  # type: ignore[no-untyped-def]
    return check_bytes(data, kind, settings=SETTINGS, suites=kw.pop("suites", []), filename=f"datos.{kind}", **kw)


def _codes(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {f.code: f for f in result.findings}


def _messy_csv() -> bytes:
    """What government spreadsheets exported to CSV look like: a title, a source line, then the table, notes below."""
    lines = ["Secretaría de Finanzas;;;;", "Padrón de contribuyentes 2024 (cifras preliminares);;;;", ";;;;",
             "folio;fecha;cve_mun;municipio;monto"]
    for i in range(1, 121):
        monto = "N/D" if i % 4 == 0 else f"{i * 10.5:.2f}"
        cve = str(i % 125 + 1)  # leading zeros lost by a spreadsheet: "5" instead of "005"
        lines.append(f"{i};2024-{i % 12 + 1:02d}-15;{cve};Municipio {i % 125 + 1};{monto}")
    lines += [";;;;", "Fuente: Dirección General de Recaudación;;;;", "Nota: N/D = no disponible;;;;"]
    return "\n".join(lines).encode("cp1252")


def test_a_messy_but_readable_csv_passes_legibles_with_concrete_observations():
    content = _check(_messy_csv())
    assert content.parsed_ok and content.rows == 120 and content.header_row == 3
    assert {"title_rows_above_header", "notes_below_data", "type_inconsistent", "invalid_inegi_codes"} <= set(content.problems)
    assert content.dtypes["folio"] == "int64"  # the notes below no longer turn the id column into text

    result = legibles_por_maquinas.evaluate(ctx(resources=[ev(resource("Padrón", "CSV"), probe(sniffed="csv"), c=content)]),
                                            legibles_por_maquinas.Params())
    assert result.status.value == "pass"
    found = _codes(result)
    assert {"filas_de_titulo", "notas_al_pie", "tipos_mezclados", "claves_inegi_invalidas"} <= set(found)
    assert found["tipos_mezclados"].observed == "monto"  # type: ignore[attr-defined]
    assert found["claves_inegi_invalidas"].observed == "cve_mun"  # type: ignore[attr-defined]
    assert found["filas_de_titulo"].observed == "encabezado en la fila 4"  # type: ignore[attr-defined]


def test_a_file_that_breaks_its_dictionary_and_the_agency_suite_is_incomplete():
    dictionary = parse_dictionary(load_table(
        "campo,tipo,descripción\nfolio,entero,Folio\nfecha,fecha,Fecha\nmonto,numérico,Monto\nclave_programa,texto,Programa\n"
        .encode(), "csv", max_rows=100).df)
    data = ("folio,fecha,monto\n" + "".join(f"{i},2024-01-{i % 28 + 1:02d},{'$' + str(i * 100) if i % 2 else i * 100}\n"
                                             for i in range(1, 41))).encode()
    suite = {"name": "padron-dependencia", "meta": {"source": "agency"}, "expectations": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "folio", "min_value": 1, "max_value": 30}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "curp"}},
    ]}
    content = _check(data, suites=[suite], dictionary_fields=dictionary)
    assert content.parsed_ok and content.dictionary_conformance is False and content.agency_success is False

    result = integrales.evaluate(ctx(resources=[ev(resource("Padrón", "CSV"), probe(sniffed="csv"), c=content)]),
                                 integrales.Params())
    found = _codes(result)
    assert result.evidence["items"]["contenido_tabular"] == 0
    assert found["no_coincide_con_diccionario"].observed == (  # type: ignore[attr-defined]
        "faltan: clave_programa; tipo distinto: monto (se esperaba numeric)")
    agency = found["validaciones_de_la_dependencia"].observed  # type: ignore[attr-defined]
    assert "padron-dependencia" in agency and "expect_column_values_to_be_between(folio)" in agency
    assert "(curp)" in agency  # the suite names a column the file does not have


def test_summary_rows_in_a_workbook_make_primarios_partial():
    df = pd.DataFrame({"municipio": [f"Municipio {i}" for i in range(1, 31)] + ["Total"],
                       "fecha": ["2024-01-01"] * 31, "casos": list(range(1, 31)) + [465]})
    bio = io.BytesIO()
    with pd.ExcelWriter(bio, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name="Casos", index=False)
        pd.DataFrame({"nota": ["Fuente: SSA"]}).to_excel(xw, sheet_name="Notas", index=False)
    content = _check(bio.getvalue(), "xlsx")
    assert content.parsed_ok and content.summary_rows == 1 and "multiple_sheets" in content.problems

    data = [ev(resource("Casos", "XLSX"), probe(sniffed="xlsx"), c=content)]
    prim = primarios.evaluate(ctx(resources=data), primarios.Params())
    assert prim.status.value == "partial" and "filas_de_totales" in _codes(prim)
    legibles = legibles_por_maquinas.evaluate(ctx(resources=data), legibles_por_maquinas.Params())
    assert legibles.status.value == "pass" and "varias_hojas" in _codes(legibles)


def test_names_that_start_with_total_or_suma_are_records_not_summaries():
    rows = ["folio,fecha,cve_mun,proveedor,monto"]
    for i in range(1, 121):
        supplier = "TOTAL PLAY TELECOMUNICACIONES, S.A.P.I. DE C.V." if i % 2 else "Suma por la Educación A.C."
        rows.append(f'{i},2024-{i % 12 + 1:02d}-01,{i % 125 + 1:03d},"{supplier}",{i * 100}')
    rows.append(",,,Total,999999")
    content = _check(("\n".join(rows) + "\n").encode())
    assert content.summary_rows == 1  # only the real Total row
    prim = primarios.evaluate(ctx(resources=[ev(resource("Contratos", "CSV"), probe(sniffed="csv"), c=content)]),
                              primarios.Params())
    assert "solo_resumen" not in _codes(prim)


def test_a_pivot_table_header_of_years_is_a_header_and_layout_leftovers_are_dropped():
    pivot = "Municipio,2021,2022,2023\n" + "".join(f"Municipio {i},{i},{i + 1},{i + 2}\n" for i in range(1, 40))
    content = _check(pivot.encode())
    assert content.has_header is True and list(content.dtypes)[:2] == ["Municipio", "2021"]
    lines = ["folio,fecha,monto,"]
    for i in range(1, 121):
        lines.append(f"{i},2024-01-{i % 28 + 1:02d},{i * 10},")
        if i % 50 == 0:
            lines.append("folio,fecha,monto,")
    messy = _check(("\n".join(lines) + "\n").encode())
    assert messy.rows == 120 and not messy.empty_columns and messy.dtypes["monto"] == "int64"
    assert {"trailing_delimiter", "repeated_header_rows"} <= set(messy.problems)
    found = _codes(legibles_por_maquinas.evaluate(
        ctx(resources=[ev(resource("Pagos", "CSV"), probe(sniffed="csv"), c=messy)]), legibles_por_maquinas.Params()))
    assert {"delimitador_final", "encabezado_repetido"} <= set(found)


def test_a_datastore_dump_with_fields_first_loads_the_records():
    import json

    doc = {"help": "", "success": True, "result": {
        "fields": [{"id": "_id", "type": "int"}, {"id": "municipio", "type": "text"}, {"id": "casos", "type": "int"}],
        "records": [{"_id": i, "municipio": f"Municipio {i}", "casos": i * 3} for i in range(1, 101)]}}
    content = _check(json.dumps(doc).encode(), "json")
    assert content.rows == 100 and content.columns == 3


def test_a_workbook_with_a_notes_sheet_first_is_judged_by_its_data_sheet():
    bio = io.BytesIO()
    with pd.ExcelWriter(bio, engine="openpyxl") as xw:
        pd.DataFrame({"Notas": ["Fuente: Secretaría de Salud", "Cifras preliminares", "Contacto: datos@edomex.gob.mx"]}
                     ).to_excel(xw, sheet_name="Notas", index=False)
        pd.DataFrame({"folio": range(1, 501), "fecha": ["2024-01-01"] * 500, "cve_mun": ["001"] * 500,
                      "casos": range(500)}).to_excel(xw, sheet_name="Datos", index=False)
    content = _check(bio.getvalue(), "xlsx")
    assert content.sheet_used == "Datos" and content.rows == 500
    found = _codes(legibles_por_maquinas.evaluate(
        ctx(resources=[ev(resource("Casos", "XLSX"), probe(sniffed="xlsx"), c=content)]), legibles_por_maquinas.Params()))
    assert found["varias_hojas"].observed == "revisada: «Datos»; hojas: Notas, Datos"  # type: ignore[attr-defined]


def test_excel_serial_dates_and_decimal_commas_are_noted():
    rows = ["folio;fecha_de_registro;monto"] + [f"{i};{45292 + i};{i},{i % 100:02d}" for i in range(1, 61)]
    content = _check(("\n".join(rows) + "\n").encode())
    assert {"excel_serial_dates", "decimal_comma"} <= set(content.problems)
    found = _codes(legibles_por_maquinas.evaluate(
        ctx(resources=[ev(resource("Registro", "CSV"), probe(sniffed="csv"), c=content)]), legibles_por_maquinas.Params()))
    assert {"fechas_como_numero", "coma_decimal"} <= set(found)
    clean = _check(("folio,fecha,monto\n" + "".join(f"{i},2024-01-{i % 28 + 1:02d},{i}.5\n" for i in range(1, 61))).encode())
    assert not {"excel_serial_dates", "decimal_comma"} & set(clean.problems)


def test_a_two_row_header_with_merged_cells_is_read_as_one():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Población y viviendas por municipio, 2020"])
    ws.append(["Municipio", "Población", None, "Viviendas", None])
    ws.append([None, "Hombres", "Mujeres", "Particulares", "Colectivas"])
    for i in range(1, 41):
        ws.append([f"Municipio {i}", i * 100, i * 110, i * 30, i])
    ws.merge_cells("B2:C2")
    ws.merge_cells("D2:E2")
    bio = io.BytesIO()
    wb.save(bio)
    content = _check(bio.getvalue(), "xlsx")
    assert content.rows == 40 and "two_row_header" in content.problems
    assert list(content.dtypes) == ["Municipio", "Población Hombres", "Población Mujeres", "Viviendas Particulares",
                                    "Viviendas Colectivas"]
    assert content.dtypes["Población Mujeres"] == "int64"
    found = _codes(legibles_por_maquinas.evaluate(
        ctx(resources=[ev(resource("Población", "XLSX"), probe(sniffed="xlsx"), c=content)]),
        legibles_por_maquinas.Params()))
    assert "encabezado_en_dos_filas" in found and "tipos_mezclados" not in found
