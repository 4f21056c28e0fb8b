"""Loaders: real files generated here (CSV in several encodings/dialects, workbooks, JSON, GeoJSON, hostile input)."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import pandas as pd
import pytest

from audit.content.load import column_kinds, detect_header, load_table

ROWS = [("2024-01-%02d" % (i % 28 + 1), "15", "%03d" % (i % 125 + 1), "Toluca de Lerdo" if i % 2 else "Metepec", i * 1.5)
        for i in range(60)]


def _csv(sep: str = ",", title_rows: tuple[str, ...] = ()) -> str:
    lines = list(title_rows) + [sep.join(["fecha", "cve_ent", "cve_mun", "municipio", "monto"])]
    lines += [sep.join([a, b, c, d, str(e)]) for a, b, c, d, e in ROWS]
    return "\n".join(lines) + "\n"


def test_load_utf8_csv_keeps_inegi_codes_as_text():
    t = load_table(_csv().encode("utf-8"), "csv", max_rows=1000)
    assert t.parsed_ok and t.encoding == "utf-8" and t.delimiter == ","
    assert t.df.shape == (60, 5)
    assert t.df["cve_mun"].iloc[0] == "001"  # leading zeros survive
    assert t.df["monto"].dtype == "float64"
    assert str(t.df["municipio"].dtype) == "str"  # pandas 3 text dtype


def test_load_utf8_bom_csv_detects_bom():
    t = load_table(b"\xef\xbb\xbf" + _csv().encode("utf-8"), "csv", max_rows=1000)
    assert t.encoding == "utf-8-sig"
    assert list(t.df.columns)[0] == "fecha"  # no BOM glued to the first name


def test_load_latin1_csv_decodes_accents():
    text = _csv().replace("Metepec", "Tlalnepantla de Baz").replace("monto", "año")
    text = text.replace("Toluca de Lerdo", "Nicolás Romero")
    t = load_table(text.encode("latin-1"), "csv", max_rows=1000)
    assert t.encoding in ("cp1252", "latin-1")
    assert "año" in t.df.columns
    assert "Nicolás Romero" in set(t.df["municipio"])
    assert "replacement_characters" not in t.problems


def test_load_semicolon_csv_detects_delimiter():
    t = load_table(_csv(sep=";").encode(), "csv", max_rows=1000)
    assert t.delimiter == ";"
    assert t.df.shape == (60, 5)


def test_load_tsv_uses_tab():
    t = load_table(_csv(sep="\t").encode(), "tsv", max_rows=1000)
    assert t.delimiter == "\t" and t.df.shape == (60, 5)


def test_load_quoted_fields_with_delimiter_inside():
    data = 'nombre,descripcion,valor\n"Pérez, Juan","dijo ""hola""",1\n"López, Ana","x",2\n'.encode()
    t = load_table(data, "csv", max_rows=10)
    assert t.quotechar == '"'
    assert t.df.loc[0, "nombre"] == "Pérez, Juan"
    assert t.df.loc[0, "descripcion"] == 'dijo "hola"'


def test_load_skips_title_rows_above_header():
    data = _csv(title_rows=("Secretaría de Finanzas del Estado de México", "Cifras al 31 de diciembre de 2024", "")).encode()
    t = load_table(data, "csv", max_rows=1000)
    assert t.header_row == 3  # 0-based line of the header: title, title, blank, header
    assert "title_rows_above_header" in t.problems
    assert list(t.df.columns) == ["fecha", "cve_ent", "cve_mun", "municipio", "monto"]
    assert len(t.df) == 60


def test_load_headerless_csv_reports_no_header():
    data = "\n".join(f"{i},{i * 2},{i * 3}" for i in range(20)).encode()
    t = load_table(data, "csv", max_rows=100)
    assert t.has_header is False and "no_header" in t.problems
    assert len(t.df) == 20


def test_load_caps_rows_at_max_rows():
    t = load_table(_csv().encode(), "csv", max_rows=10)
    assert len(t.df) == 10 and "rows_truncated" in t.problems


def test_detect_header_picks_first_full_width_row():
    rows = [["Informe anual"], ["", "", ""], ["a", "b", "c"], ["1", "2", "3"]]
    assert detect_header(rows) == (2, True)


def _xlsx_two_sheets() -> bytes:
    bio = io.BytesIO()
    with pd.ExcelWriter(bio, engine="openpyxl") as xw:
        title = pd.DataFrame([["Padrón de beneficiarios 2024", None, None]])
        title.to_excel(xw, sheet_name="Datos", header=False, index=False, startrow=0)
        body = pd.DataFrame({"folio": ["A1", "A2", "A3"], "cve_mun": ["001", "002", "003"], "monto": [10.5, 20, 30]})
        body.to_excel(xw, sheet_name="Datos", index=False, startrow=2)
        pd.DataFrame({"nota": ["Fuente: SEFIN"]}).to_excel(xw, sheet_name="Notas", index=False)
    return bio.getvalue()


def test_load_xlsx_first_sheet_lists_sheets_and_skips_title():
    t = load_table(_xlsx_two_sheets(), "xlsx", max_rows=1000)
    assert t.parsed_ok, t.problems
    assert t.sheet_names == ("Datos", "Notas")
    assert "multiple_sheets" in t.problems and "title_rows_above_header" in t.problems
    assert list(t.df.columns) == ["folio", "cve_mun", "monto"]
    assert t.df["cve_mun"].tolist() == ["001", "002", "003"]
    assert t.df["monto"].dtype.kind == "f"


# --------------------------------------------------------------------------- legacy XLS, written from scratch
# No xls writer is installed (xlwt is unmaintained), so the test builds a real Excel 97-2003 file: BIFF8
# records (BOF, CODEPAGE, XF, BOUNDSHEET, LABEL, NUMBER, EOF) inside an OLE2 compound file.


def _rec(rtype: int, data: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(data)) + data


def _ustr(text: str, lenlen: int) -> bytes:
    try:
        raw, flags = text.encode("latin-1"), 0
    except UnicodeEncodeError:
        raw, flags = text.encode("utf-16-le"), 1
    return struct.pack("<H" if lenlen == 2 else "<B", len(text)) + bytes([flags]) + raw


def make_xls(rows: list[list[object]], sheet: str = "Hoja1") -> bytes:
    """A legacy Excel 97-2003 workbook (BIFF8 in an OLE2 compound file), written from scratch."""
    bof = lambda kind: _rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))  # noqa: E731
    cells = b""
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, (int, float)):
                cells += _rec(0x0203, struct.pack("<HHHd", r, c, 0, float(v)))
            else:
                cells += _rec(0x0204, struct.pack("<HHH", r, c, 0) + _ustr(str(v), 2))
    ncols = max(len(r) for r in rows)
    sheet_stream = bof(0x10) + _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, ncols, 0)) + cells + _rec(0x000A, b"")
    xf = _rec(0x00E0, bytes(20))
    head = bof(0x05) + _rec(0x0042, struct.pack("<H", 1200)) + xf * 16
    bs_len = 4 + 6 + len(_ustr(sheet, 1))
    offset = len(head) + bs_len + 4
    globals_ = head + _rec(0x0085, struct.pack("<IBB", offset, 0, 0) + _ustr(sheet, 1)) + _rec(0x000A, b"")
    stream = globals_ + sheet_stream
    stream += bytes(max(0, 4096 - len(stream)))  # at least the mini-stream cutoff: a regular stream
    stream += bytes(-len(stream) % 512)
    n = len(stream) // 512
    # sectors: 0 = FAT, 1..n = Workbook, n+1 = directory
    fat = [0xFFFFFFFD] + [i + 2 for i in range(n - 1)] + [0xFFFFFFFE, 0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    difat = struct.pack("<I", 0) + struct.pack("<I", 0xFFFFFFFF) * 108
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, 1, n + 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)) + difat
    assert len(header) == 512, len(header)

    def entry(name: str, etype: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), etype, 1)
                + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, child) + bytes(16) + bytes(4) + bytes(16)
                + struct.pack("<IIHH", start, size, 0, 0)[:8] + bytes(4))

    directory = entry("Root Entry", 5, 1, 0xFFFFFFFE, 0) + entry("Workbook", 2, 0xFFFFFFFF, 1, len(stream))
    directory += bytes(512 - len(directory))
    return header + struct.pack("<128I", *fat) + stream + directory


def _legacy_xls() -> bytes:
    return make_xls([["clave", "municipio", "población"], ["001", "Acambay", 60918], ["002", "Acolman", 171507],
                     ["003", "Acolman", 1.5]], sheet="Municipios")


def test_load_legacy_xls():
    data = _legacy_xls()
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2, as Excel writes it
    t = load_table(data, "xls", max_rows=100)
    assert t.parsed_ok, t.problems
    assert t.sheet_names == ("Municipios",)
    assert list(t.df.columns) == ["clave", "municipio", "población"]
    assert t.df["clave"].tolist() == ["001", "002", "003"]  # text cells keep their zeros
    assert t.df["población"].tolist() == [60918, 171507, 1.5]


def test_load_sample_portal_xls():
    from importlib import resources

    data = resources.files("audit.sample_portal").joinpath("static/unidades_economicas.xls").read_bytes()
    t = load_table(data, "xls", max_rows=100)
    assert t.parsed_ok and t.sheet_names == ("unidades",)
    assert str(t.df["cve_mun"].dtype) == "str" and t.df["cve_mun"].str.len().eq(5).all()  # codes stay text


def test_load_truncated_legacy_xls_is_a_problem():
    data = _legacy_xls()
    t = load_table(data[: len(data) // 3], "xls", max_rows=100)
    assert not t.parsed_ok and "broken_workbook" in t.problems


def test_load_truncated_workbook_is_a_problem_not_a_crash():
    data = _xlsx_two_sheets()
    t = load_table(data[: len(data) // 2], "xlsx", max_rows=100)
    assert not t.parsed_ok and "broken_workbook" in t.problems


def test_load_zip_bomb_workbook_refused_before_opening():
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (8 * 1024 * 1024))
    t = load_table(bio.getvalue(), "xlsx", max_rows=100, max_unzipped_bytes=4 * 1024 * 1024)
    assert not t.parsed_ok and t.problems == ["zip_bomb"]


def test_load_json_records():
    data = json.dumps([{"id": 1, "fecha": "2024-01-01", "valor": 3.5}, {"id": 2, "fecha": "2024-01-02", "valor": 4}]).encode()
    t = load_table(data, "json", max_rows=100)
    assert t.parsed_ok and t.df.shape == (2, 3)
    assert t.df["valor"].tolist() == [3.5, 4.0]


def test_load_json_wrapped_records():
    data = json.dumps({"result": {"records": [{"a": 1}, {"a": 2}, {"a": 3}]}}).encode()
    t = load_table(data, "json", max_rows=100)
    assert t.df["a"].tolist() == [1, 2, 3]


def test_load_json_that_is_not_records():
    t = load_table(json.dumps({"version": 1, "name": "x"}).encode(), "json", max_rows=100)
    assert not t.parsed_ok and "not_records" in t.problems


def test_load_geojson_properties_and_geometry_type():
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"cvegeo": "15106", "nombre": "Toluca"},
         "geometry": {"type": "Point", "coordinates": [-99.6, 19.3]}},
        {"type": "Feature", "properties": {"cvegeo": "15054", "nombre": "Metepec"},
         "geometry": {"type": "Point", "coordinates": [-99.5, 19.2]}},
    ]}
    t = load_table(json.dumps(fc).encode(), "geojson", max_rows=100)
    assert t.kind == "geojson" and t.df.shape == (2, 3)
    assert t.df["cvegeo"].tolist() == ["15106", "15054"]
    assert set(t.df["geometry_type"]) == {"Point"}


@pytest.mark.parametrize(
    ("data", "kind", "problem"),
    [
        (b"", "csv", "empty_file"),
        (b"a" * (2 * 1024 * 1024), "csv", "huge_line"),
        (b"\x00\x01\x02binary\x00" * 100, "csv", "bad_encoding"),
        (b"{not json", "json", "invalid_json"),
        (b"PK\x03\x04garbage", "xlsx", "broken_workbook"),
        (b"\xd0\xcf\x11\xe0garbage", "xls", "broken_workbook"),
        (b"whatever", "pdf", "unsupported_type"),
    ],
)
def test_load_hostile_input_is_recorded_never_raised(data, kind, problem):
    t = load_table(data, kind, max_rows=100)
    assert not t.parsed_ok
    assert problem in t.problems


def test_column_kinds_on_pandas3_dtypes():
    df = pd.DataFrame({
        "n": [1, 2, 3], "t": pd.Series(["a", "b", "c"], dtype="str"), "f": pd.Series(["2024-01-01"] * 3, dtype="str"),
        "mixed": pd.Series(["1", "2", "x"], dtype="str"), "nums_as_text": pd.Series(["1", "2", "3.5"], dtype="str"),
        "vacia": [None, None, None], "cve_ent": pd.Series(["15", "15", "09"], dtype="str"),
    })
    k = column_kinds(df, share_min=0.8)
    assert k == {"n": "numeric", "t": "text", "f": "date", "mixed": "text", "nums_as_text": "numeric_text",
                 "vacia": "empty", "cve_ent": "code"}


def test_notes_below_the_data_are_dropped_and_recorded():
    body = "".join(f"{i},2024-01-{i % 28 + 1:02d},Municipio {i},{i * 3}\n" for i in range(1, 21))
    data = ("id,fecha,municipio,valor\n" + body + ",,,\nFuente: INEGI, Censo 2020,,\n"
            "* Cifras preliminares al cierre del ejercicio fiscal 2024,,,\n").encode()
    table = load_table(data, "csv", max_rows=1000)
    assert "notes_below_data" in table.problems and len(table.df) == 20
    assert str(table.df["id"].dtype) == "int64" and table.df["valor"].tolist()[-1] == 60


def test_a_short_last_record_is_not_mistaken_for_a_note():
    data = b"municipio,poblacion,superficie\nToluca,910608,420.1\nMetepec,,\n"
    table = load_table(data, "csv", max_rows=1000)
    assert "notes_below_data" not in table.problems and len(table.df) == 2
    narrow = load_table(b"municipio,nota\nToluca,ok\nFuente: INEGI,\n", "csv", max_rows=1000)
    assert "notes_below_data" not in narrow.problems and len(narrow.df) == 2  # too narrow to tell


def test_notes_below_a_workbook_table_are_dropped():
    bio = io.BytesIO()
    with pd.ExcelWriter(bio, engine="openpyxl") as xw:
        pd.DataFrame({"folio": ["A1", "A2", "A3"], "monto": [1, 2, 3], "mun": ["x", "y", "z"]}).to_excel(
            xw, index=False, startrow=2)
        sheet = xw.sheets["Sheet1"]
        sheet["A1"] = "Secretaría de Finanzas"
        sheet["A8"] = "Fuente: elaboración propia con datos del registro estatal"
    table = load_table(bio.getvalue(), "xlsx", max_rows=1000)
    assert {"title_rows_above_header", "notes_below_data"} <= set(table.problems)
    assert len(table.df) == 3 and str(table.df["monto"].dtype) == "int64"


def test_placeholders_do_not_turn_a_numeric_column_into_text():
    df = pd.DataFrame({"monto": pd.Series(["10.5", "N/D", "20", "-", "S/D", "31.2"], dtype="str"),
                       "nombre": pd.Series(["a", "b", "N/D", "c", "d", "e"], dtype="str")})
    assert column_kinds(df, share_min=0.8) == {"monto": "numeric_text", "nombre": "text"}
