"""Real type by content: magic bytes and structure, never the declared format."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from faultserver import (
    CSV_LATIN1,
    CSV_UTF8,
    GEOJSON,
    JSON_DOC,
    KML,
    LANDING_HTML,
    PDF,
    RDF,
    XML_BOMB,
    make_ods,
    make_xlsx,
    make_zip,
)

from audit.sniff import TYPES, sniff


def ole2(stream_name: str) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + stream_name.encode("utf-16-le") + b"\x00\x00"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF, "pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        (b"GIF89a" + b"\x00" * 20, "gif"),
        (b"Rar!\x1a\x07\x01\x00", "rar"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"),
        (b"PAR1" + b"\x00" * 20, "parquet"),
        (b"SQLite format 3\x00" + b"\x00" * 52 + b"GPKG" + b"\x00" * 30, "gpkg"),
        (ole2("Workbook"), "xls"),
        (ole2("WordDocument"), "doc"),
        (CSV_UTF8, "csv"),
        (CSV_LATIN1, "csv"),
        (b"a\tb\tc\n1\t2\t3\n4\t5\t6\n", "tsv"),
        (JSON_DOC, "json"),
        (GEOJSON, "geojson"),
        (KML, "kml"),
        (RDF, "rdf"),
        (b"<?xml version='1.0'?><catalogo><item/></catalogo>", "xml"),
        (LANDING_HTML, "html"),
        (b"Este archivo es solo texto libre.\nSin columnas.\n", "text"),
        (b"\x00\x01\x02\x03\xfe\xff" * 50, "unknown"),
        (b"", "unknown"),
    ],
)
def test_sniff_identifies_type_by_content(data: bytes, expected: str) -> None:
    assert sniff(data).type == expected
    assert expected in TYPES


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"mun.shp": b"x", "mun.dbf": b"x", "mun.shx": b"x"}, "shapefile-zip"),
        ({"doc.kml": KML}, "kmz"),
        ({"a.csv": CSV_UTF8}, "zip"),
    ],
)
def test_sniff_looks_inside_zip(members: dict[str, bytes], expected: str) -> None:
    assert sniff(make_zip(members)).type == expected


def test_sniff_recognises_office_containers() -> None:
    assert sniff(make_xlsx()).type == "xlsx"
    assert sniff(make_ods()).type == "ods"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("word/document.xml", b"<w:document/>")
    assert sniff(buf.getvalue()).type == "docx"


def test_sniff_xlsx_from_truncated_download_uses_local_headers() -> None:
    data = make_xlsx()
    assert sniff(data[:2000], truncated=True).type == "xlsx"


def test_sniff_zip_of_csv_says_what_is_inside() -> None:
    assert "csv" in (sniff(make_zip({"a.csv": CSV_UTF8, "b.csv": CSV_UTF8})).detail or "")


def test_sniff_zip_bomb_inflates_only_a_peek() -> None:
    bomb = make_zip({"big.csv": b"a,b\n" + b"0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    result = sniff(bomb)  # would take a 20 MiB inflate if it read the member
    assert result.type == "zip"


def test_sniff_gzip_bomb_is_bounded() -> None:
    result = sniff(gzip.compress(b"\x00" * (20 * 1024 * 1024)))
    assert result.type == "unknown"
    assert "gzip" in (result.detail or "")


def test_sniff_xml_entity_bomb_is_refused_not_expanded() -> None:
    result = sniff(XML_BOMB)
    assert result.type == "xml"
    assert "rechazado" in (result.detail or "")


def test_sniff_reports_encoding_for_mexican_text() -> None:
    assert sniff(CSV_UTF8).encoding == "utf-8"
    assert sniff(CSV_LATIN1).encoding == "iso-8859-1"
    assert sniff("nombre,región\n“Toluca”,Centro\n".encode("cp1252")).encoding == "windows-1252"
    assert sniff(b"\xef\xbb\xbfa,b\n1,2\n").encoding == "utf-8"


def test_sniff_csv_detail_has_delimiter_and_header() -> None:
    detail = sniff(CSV_LATIN1).detail or ""
    assert "delimitador=;" in detail and "encabezado=sí" in detail


def test_sniff_truncated_utf8_character_is_still_utf8() -> None:
    data = ("municipio,nombre\n" + "1,Atizapán\n" * 50).encode()
    cut = data[: data.index("á".encode()) + 1]  # cut in the middle of "á"
    assert sniff(cut, truncated=True).encoding == "utf-8"


def test_sniff_truncated_json_is_still_json() -> None:
    data = b'[{"a": 1, "b": "' + b"x" * 1000
    assert sniff(data, truncated=True).type == "json"


def test_sniff_very_long_line_is_not_csv() -> None:
    assert sniff(b"a," * 100_000, truncated=True).type == "text"
