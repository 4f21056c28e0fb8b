"""Real file type by content ("sniffing"), never trusting the declared format or Content-Type alone.

Works on the first bytes of a resource (``truncated=True`` when the read stopped at the byte cap). Defensive by
construction: ZIP members are listed from the central directory (or, for a truncated download, from the local
headers) and at most a few KiB of one member are decompressed; XML is parsed only with defusedxml and only when
the whole document was read; CSV detection looks at a bounded number of bounded lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

#: the vocabulary the rules use (keep exactly)
TYPES = (
    "csv", "tsv", "json", "geojson", "xml", "rdf", "kml", "kmz", "xlsx", "xls", "ods", "docx", "doc", "pdf",
    "html", "zip", "shapefile-zip", "png", "jpeg", "gif", "rar", "7z", "parquet", "gpkg", "text", "unknown",
)
TEXT_TYPES = frozenset({"csv", "tsv", "json", "geojson", "xml", "rdf", "kml", "html", "text"})
#: the types the content stage loads and validates (and downloads whole)
TABULAR_TYPES = frozenset({"csv", "tsv", "xlsx", "xls", "ods", "json", "geojson"})

MEMBER_PEEK_BYTES = 64 * 1024  # decompressed bytes read from one zip member (or a gzip body) to classify it
MAX_ZIP_MEMBERS_LISTED = 10_000
MAX_CSV_LINES = 50
MAX_LINE_CHARS = 64 * 1024
TEXT_WINDOW = 256 * 1024  # characters of text examined for structure


@dataclass(frozen=True)
class Sniffed:
    type: str
    detail: str | None = None
    encoding: str | None = None


# ---------------------------------------------------------------------------------------------- binary formats

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"PAR1", "parquet"),
)


def _sniff_ole2(data: bytes) -> Sniffed:
    # Directory entry names are UTF-16LE; the workbook / document stream names tell XLS from DOC.
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") + b"\x00\x00" in data:
        return Sniffed("xls", "ole2")
    if "WordDocument".encode("utf-16-le") in data:
        return Sniffed("doc", "ole2")
    return Sniffed("unknown", "ole2")


def _sniff_sqlite(data: bytes) -> Sniffed:
    app_id = data[68:72]
    if app_id in (b"GPKG", b"GP10", b"GP11"):
        return Sniffed("gpkg")
    return Sniffed("unknown", "sqlite")


def _local_zip_entries(data: bytes) -> tuple[list[str], dict[str, bytes]]:
    """Member names from the local file headers (usable when the central directory was not downloaded).

    Also returns the raw bytes of small *stored* members (e.g. the ODF ``mimetype``)."""
    names: list[str] = []
    stored: dict[str, bytes] = {}
    pos = 0
    while len(names) < MAX_ZIP_MEMBERS_LISTED and pos + 30 <= len(data) and data[pos:pos + 4] == b"PK\x03\x04":
        (flags, method, csize, name_len, extra_len) = (
            struct.unpack_from("<H", data, pos + 6)[0],
            struct.unpack_from("<H", data, pos + 8)[0],
            struct.unpack_from("<I", data, pos + 18)[0],
            struct.unpack_from("<H", data, pos + 26)[0],
            struct.unpack_from("<H", data, pos + 28)[0],
        )
        name = data[pos + 30:pos + 30 + name_len].decode("utf-8", "replace")
        names.append(name)
        body = pos + 30 + name_len + extra_len
        if method == 0 and csize <= 1024:
            stored[name] = data[body:body + csize]
        if flags & 0x08 and csize == 0:  # sizes in a data descriptor: cannot skip reliably
            break
        pos = body + csize
    return names, stored


def _peek_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zf.open(info) as fh:
            return fh.read(MEMBER_PEEK_BYTES)  # read() with a size never inflates more than asked
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error, EOFError):
        return b""


def _classify_zip_names(names: list[str], mimetype: bytes | None) -> Sniffed | None:
    lower = [n.lower() for n in names]
    if mimetype is not None:
        mt = mimetype.strip().decode("ascii", "replace")
        if mt == "application/vnd.oasis.opendocument.spreadsheet":
            return Sniffed("ods")
        if mt.startswith("application/vnd.oasis.opendocument"):
            return Sniffed("zip", f"odf: {mt}")
    if "[content_types].xml" in lower or any(n.startswith(("xl/", "word/")) for n in lower):
        if any(n.startswith("xl/") for n in lower):
            return Sniffed("xlsx")
        if any(n.startswith("word/") for n in lower):
            return Sniffed("docx")
    exts = {n.rsplit(".", 1)[-1] for n in lower if "." in n.rsplit("/", 1)[-1]}
    if "shp" in exts:
        return Sniffed("shapefile-zip", _members_detail(names))
    if "doc.kml" in lower or ("kml" in exts and len(exts - {"kml", "png", "jpg", "jpeg", "gif"}) == 0):
        return Sniffed("kmz", _members_detail(names))
    return None


def _members_detail(names: list[str], limit: int = 10) -> str:
    files = [n for n in names if not n.endswith("/")]
    shown = ", ".join(files[:limit])
    more = f" (+{len(files) - limit})" if len(files) > limit else ""
    return f"miembros: {shown}{more}"


def _sniff_zip(data: bytes, truncated: bool) -> Sniffed:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        zf = None
    if zf is None:
        names, stored = _local_zip_entries(data)
        found = _classify_zip_names(names, stored.get("mimetype"))
        if found:
            return found
        detail = _members_detail(names) if names else "zip incompleto"
        return Sniffed("zip", detail + (" (lectura parcial)" if truncated else ""))
    with zf:
        infos = zf.infolist()[:MAX_ZIP_MEMBERS_LISTED]
        names = [i.filename for i in infos]
        mimetype = None
        for info in infos:
            if info.filename == "mimetype" and info.file_size <= 1024:
                mimetype = _peek_member(zf, info)
                break
        found = _classify_zip_names(names, mimetype)
        if found:
            return found
        # A zip of data files: say what the (first) member really is, without inflating it all.
        files = [i for i in infos if not i.is_dir()]
        inner_types: list[str] = []
        for info in files[:3]:
            inner = sniff(_peek_member(zf, info), filename=info.filename, truncated=info.file_size > MEMBER_PEEK_BYTES)
            inner_types.append(inner.type)
        kinds = ",".join(sorted(set(inner_types))) or "vacío"
        return Sniffed("zip", f"contiene: {kinds}; {_members_detail(names)}")


def _sniff_gzip(data: bytes) -> Sniffed:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inner_bytes = d.decompress(data, MEMBER_PEEK_BYTES)  # max_length: a gzip bomb inflates only this much
    except zlib.error:
        return Sniffed("unknown", "gzip dañado")
    inner = sniff(inner_bytes, truncated=True) if inner_bytes else Sniffed("unknown")
    return Sniffed("unknown", f"gzip (contiene {inner.type})", inner.encoding)


# ------------------------------------------------------------------------------------------------ text formats

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


def _decode(data: bytes, truncated: bool) -> tuple[str, str] | None:
    """(text, encoding name) or None for binary data."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name, "replace"), ("utf-8" if name == "utf-8-sig" else name)
            except LookupError:  # pragma: no cover
                return None
    head = data[:8192]
    if b"\x00" in head:
        return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the byte cap is still UTF-8.
        if truncated and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8"), "utf-8"
    if _CP1252_ONLY.search(data):
        text = data.decode("windows-1252", "replace")
        name = "windows-1252"
    else:
        text = data.decode("iso-8859-1")
        name = "iso-8859-1"
    # Too many control characters: binary, not Latin-1 text.
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t\f\v")
    if controls > max(4, len(text[:4096]) // 50):
        return None
    return text, name


_HTML_HINT = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>|<script[\s>]|<div[\s>]", re.I)
_XML_ROOT = re.compile(r"<(?![?!/])([A-Za-z_][\w:.\-]*)")
_XML_PROLOG = re.compile(r"^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*", re.S | re.I)


def _sniff_markup(text: str, truncated: bool, encoding: str) -> Sniffed:
    head = text[:4096]
    if _HTML_HINT.search(head) and not head.lstrip().lower().startswith(("<?xml", "<rdf", "<kml")):
        return Sniffed("html", None, encoding)
    prolog = _XML_PROLOG.match(text[:TEXT_WINDOW])
    rest = text[prolog.end() if prolog else 0:]
    m = _XML_ROOT.match(rest.lstrip())
    root = m.group(1) if m else ""
    local = root.split(":")[-1].lower()
    detail = None
    if not truncated:
        detail = _xml_wellformed(text)
    if local == "html":
        return Sniffed("html", None, encoding)
    if local == "rdf" or "www.w3.org/1999/02/22-rdf-syntax-ns" in head and local in ("rdf", ""):
        return Sniffed("rdf", detail, encoding)
    if local == "kml":
        return Sniffed("kml", detail, encoding)
    if not root:
        return Sniffed("text", "marcado sin elemento raíz", encoding)
    return Sniffed("xml", detail or f"raíz: {root}", encoding)


def _xml_wellformed(text: str) -> str | None:
    """None if defusedxml parses it; else a short problem (entity bombs are refused, never expanded)."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        # Encoding declarations are meaningless once decoded; parse the text.
        DET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1))
    except DefusedXmlException as exc:
        return f"xml rechazado: {exc.__class__.__name__}"
    except (ParseError, ValueError) as exc:
        return f"xml mal formado: {exc}"[:200]
    return None


def _sniff_json(text: str, truncated: bool, encoding: str) -> Sniffed | None:
    stripped = text.strip()
    head = stripped[:8192]
    geo = ('"FeatureCollection"' in head or '"Feature"' in head) and '"type"' in head
    if truncated:
        # Cannot parse half a document; a plausible opening is enough.
        if re.match(r'^(\{\s*("|\})|\[\s*(\{|\[|"|-?\d|true|false|null|\]))', head):
            return Sniffed("geojson" if geo else "json", "lectura parcial", encoding)
        return None
    try:
        doc = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature", "GeometryCollection"):
        return Sniffed("geojson", None, encoding)
    return Sniffed("json", None, encoding)


_NUMBER = re.compile(r"^\s*[-+]?[\d.,]+\s*$")


def _sniff_delimited(text: str, truncated: bool) -> tuple[str, str] | None:
    """(delimiter, detail) when the text is consistently delimited, else None."""
    lines: list[str] = []
    for line in text[:TEXT_WINDOW].splitlines():
        if len(line) > MAX_LINE_CHARS:
            return None
        if line.strip():
            lines.append(line)
        if len(lines) >= MAX_CSV_LINES + 1:
            break
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line is probably cut
    if not lines:
        return None
    best: tuple[float, str, list[list[str]]] | None = None
    for delim in (",", ";", "\t", "|"):
        if delim not in lines[0]:
            continue
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        widths = [len(r) for r in rows]
        first = widths[0]
        if first < 2:
            continue
        consistent = sum(1 for w in widths if w == first) / len(widths)
        if consistent < 0.8:
            continue
        score = consistent * 10 + first
        if best is None or score > best[0]:
            best = (score, delim, rows)
    if best is None:
        return None
    _, delim, rows = best
    header = _looks_like_header(rows)
    shown = "\\t" if delim == "\t" else delim
    return delim, f"delimitador={shown!s}; encabezado={'sí' if header else 'no'}; columnas={len(rows[0])}"


def _looks_like_header(rows: list[list[str]]) -> bool:
    """A header row is all non-empty, non-numeric, distinct labels."""
    first = [c.strip() for c in rows[0]]
    if any(not c or _NUMBER.match(c) for c in first):
        return False
    return len(set(first)) == len(first)


def _sniff_text(data: bytes, truncated: bool, content_type: str | None, filename: str | None) -> Sniffed | None:
    decoded = _decode(data, truncated)
    if decoded is None:
        return None
    text, encoding = decoded
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        return Sniffed("text", "solo espacios", encoding)
    if body[0] in "{[":
        found = _sniff_json(body, truncated, encoding)
        if found:
            return found
    if body[0] == "<":
        return _sniff_markup(body, truncated, encoding)
    delimited = _sniff_delimited(body, truncated)
    if delimited:
        delim, detail = delimited
        return Sniffed("tsv" if delim == "\t" else "csv", detail, encoding)
    hint = ((content_type or "") + " " + (filename or "")).lower()
    if "csv" in hint and "\n" in body:
        return Sniffed("csv", "una columna", encoding)
    return Sniffed("text", None, encoding)


# ------------------------------------------------------------------------------------------------------- entry


def sniff(
    data: bytes, *, content_type: str | None = None, filename: str | None = None, truncated: bool = False
) -> Sniffed:
    """Identify ``data`` (the first bytes of a resource). ``content_type``/``filename`` only break ties."""
    if not data:
        return Sniffed("unknown", "vacío")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return Sniffed(kind)
    if data.startswith(_OLE2):
        return _sniff_ole2(data)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data, truncated)
    if data.startswith(b"SQLite format 3\x00"):
        return _sniff_sqlite(data)
    if data.startswith(b"\x1f\x8b"):
        return _sniff_gzip(data)
    found = _sniff_text(data, truncated, content_type, filename)
    if found is not None:
        return found
    return Sniffed("unknown", "binario")
