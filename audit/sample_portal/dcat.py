"""DCAT portals on loopback, built from real catalogue metadata (``shared/data/real``) or a DCAT-AP Turtle
catalogue written here, with every distribution URL rewritten to a file the same local server serves.

- :func:`datajson_catalog` — a ``data.json`` (DCAT-US 1.1) at ``/data.json``; serve with
  ``SamplePortal(catalog_factory=…, ckan_api=False)``.
- :func:`ckan_catalog_from_datajson` — the same records as a CKAN portal (what a CKAN that publishes this
  ``data.json`` holds: publisher → organization, theme → group, the DCAT dates and frequency as extras).
- :func:`turtle_catalog` — a DCAT-AP catalogue in Turtle, in two Hydra pages (``/catalogo.ttl``, ``?page=2``).
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.sample_portal import files as F
from audit.sample_portal.catalog import Catalog, ServedFile
from audit.textnorm import slug

REAL_DATA_DIRS = (Path(os.environ.get("AUDIT_REAL_DATA", "")), Path(__file__).resolve().parents[3] / "shared" /
                  "data" / "real", Path("/work/shared/data/real"))
DATAJSON_FILE = "ar_datosgobar_data.json"
#: served files keep this Last-Modified, so both portals built from one catalogue answer identically
FILES_MODIFIED = datetime(2017, 6, 22, tzinfo=UTC)


def real_data_file(name: str) -> Path | None:
    """A file of the shared real-data folder (outside the repository: its reuse terms are unstated)."""
    for folder in REAL_DATA_DIRS:
        if str(folder) not in ("", ".") and (folder / name).is_file():
            return folder / name
    return None


def _slug(text: str) -> str:
    return slug(text)[:100]


def _zip_of(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo(name, date_time=(2017, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


_RAR = b"Rar!\x1a\x07\x00" + bytes(64)  # a RAR signature: a proprietary archive as published


def _file_for(fmt: str, seed: str) -> tuple[str, str, Callable[[], bytes]] | None:
    """(suffix, content type, factory) of a plausible file for a declared format; every 11th is missing."""
    topic = F.TOPICS[sum(map(ord, seed)) % len(F.TOPICS)]
    f = fmt.strip().lower()
    if f == "csv":
        return ".csv", "text/csv; charset=utf-8", lambda: F.csv_bytes(topic, 40, seed=seed)
    if f == "json":
        return ".json", "application/json", lambda: F.json_records_bytes(topic, 30, seed=seed)
    if f in ("xls", "xlsx"):
        return ".xls", "application/vnd.ms-excel", F.xls_bytes
    if f == "zip":
        return ".zip", "application/zip", lambda: _zip_of("datos.csv", F.csv_bytes(topic, 40, seed=seed))
    if f == "rar":
        return ".rar", "application/x-rar-compressed", lambda: _RAR
    return ".bin", "application/octet-stream", lambda: b"\x00\x01datos"


def _localize(doc: dict[str, Any], base_url: str, catalog: Catalog) -> dict[str, Any]:
    """Rewrite every distribution URL to a file of ``catalog`` (some missing: a realistic 404 share)."""
    doc = copy.deepcopy(doc)
    n = 0
    for ds in doc.get("dataset") or []:
        for dist in ds.get("distribution") or []:
            n += 1
            spec = _file_for(str(dist.get("format") or ""), f"{ds.get('identifier')}-{n}")
            suffix = spec[0] if spec else ".bin"
            path = f"/files/ar/{n:04d}{suffix}"
            for key in ("downloadURL", "accessURL"):
                if dist.get(key):
                    dist[key] = base_url + path
            if spec and n % 11:
                catalog.files[path] = ServedFile(spec[1], factory=spec[2], last_modified=FILES_MODIFIED)
    return doc


def load_datajson() -> dict[str, Any]:
    path = real_data_file(DATAJSON_FILE)
    if path is None:
        raise FileNotFoundError(f"{DATAJSON_FILE} no está en {', '.join(map(str, REAL_DATA_DIRS))}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def datajson_catalog(doc: dict[str, Any]) -> Callable[[str, datetime], Catalog]:
    """Factory of a portal that serves ``doc`` (rewritten to local files) at ``/data.json``."""
    def build(base_url: str, now: datetime) -> Catalog:
        catalog = Catalog(base_url=base_url, site_title=str(doc.get("title") or "Catálogo DCAT"), now=now)
        local = _localize(doc, base_url, catalog)
        catalog.files["/data.json"] = ServedFile("application/json; charset=utf-8",
                                                 body=json.dumps(local, ensure_ascii=False).encode("utf-8"))
        return catalog

    return build


def ckan_catalog_from_datajson(doc: dict[str, Any]) -> Callable[[str, datetime], Catalog]:
    """Factory of a CKAN portal holding the same records as ``doc`` (the dataset's name and id are its DCAT
    identifier, so outputs of both portals line up)."""
    def build(base_url: str, now: datetime) -> Catalog:
        catalog = Catalog(base_url=base_url, site_title=str(doc.get("title") or "Portal CKAN"), now=now)
        local = _localize(doc, base_url, catalog)
        labels = {t["id"]: t["label"] for t in doc.get("themeTaxonomy") or [] if isinstance(t, dict)}
        for ds in local.get("dataset") or []:
            publisher = (ds.get("publisher") or {}).get("name") or ""
            org = _slug(publisher)
            if org and org not in catalog.organizations:
                catalog.organizations[org] = {"id": org, "name": org, "title": publisher, "type": "organization",
                                              "description": "", "image_url": "", "created": "2017-01-01T00:00:00",
                                              "is_organization": True, "approval_status": "approved",
                                              "state": "active"}
            group_names = []
            for theme in ds.get("theme") or []:
                title = labels.get(theme, theme)
                gname = _slug(title)
                catalog.groups.setdefault(gname, {"id": gname, "name": gname, "title": title,
                                                  "display_name": title, "description": "",
                                                  "image_display_url": ""})
                group_names.append({"name": gname})
            extras = [{"key": k, "value": str(ds[k])} for k in ("accrualPeriodicity", "issued", "modified")
                      if ds.get(k)]
            catalog.add_dataset({
                "id": ds["identifier"], "name": ds["identifier"], "title": ds.get("title"),
                "notes": ds.get("description") or "", "owner_org": org or None,
                "license_id": ds.get("license") or "", "license_title": ds.get("license") or None,
                "url": ds.get("landingPage"), "author": publisher,
                "author_email": (ds.get("publisher") or {}).get("mbox"),
                "metadata_created": ds.get("issued"), "metadata_modified": ds.get("modified"),
                "tags": [{"name": k} for k in ds.get("keyword") or []], "groups": group_names, "extras": extras,
                "resources": [{
                    "id": f"{ds['identifier']}-{i}", "name": d.get("title") or "",
                    "description": d.get("description") or "", "format": d.get("format") or "",
                    "url": d.get("downloadURL") or d.get("accessURL") or "",
                    "issued": d.get("issued"), "modified": d.get("modified"),
                } for i, d in enumerate(ds.get("distribution") or [])],
            })
        return catalog

    return build


# ------------------------------------------------------------------------------------------ DCAT-AP in Turtle
_TTL_HEAD = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix freq: <http://publications.europa.eu/resource/authority/frequency/> .
@prefix ft: <http://publications.europa.eu/resource/authority/file-type/> .
@prefix theme: <http://publications.europa.eu/resource/authority/data-theme/> .
"""

_TTL_PAGE1 = """
<{base}/catalogo> a dcat:Catalog ;
    dct:title "Catálogo de datos abiertos del Estado de Hidalgo (muestra DCAT-AP)"@es ;
    dct:publisher <{base}/org/finanzas> ;
    dcat:dataset <{base}/conjunto/ingresos-2024>, <{base}/conjunto/padron-proveedores> .

<{base}/catalogo.ttl> a hydra:PagedCollection ;
    hydra:totalItems 3 ; hydra:itemsPerPage 2 ;
    hydra:firstPage <{base}/catalogo.ttl> ; hydra:nextPage <{base}/catalogo.ttl?page=2> .

<{base}/org/finanzas> a foaf:Organization ; foaf:name "Secretaría de Finanzas"@es ;
    foaf:mbox <mailto:datos@finanzas.example.invalid> .

theme:ECON skos:prefLabel "Economía y finanzas"@es .
theme:GOVE skos:prefLabel "Gobierno y sector público"@es .

<{base}/conjunto/ingresos-2024> a dcat:Dataset ;
    dct:identifier "hgo-ingresos-2024" ;
    dct:title "Ingresos públicos 2024"@es , "Public revenue 2024"@en ;
    dct:description "Ingresos mensuales del gobierno estatal por rubro, con clave de municipio."@es ;
    dct:publisher <{base}/org/finanzas> ;
    dcat:contactPoint [ a vcard:Organization ; vcard:fn "Unidad de Transparencia" ;
                        vcard:hasEmail <mailto:transparencia@finanzas.example.invalid> ] ;
    dcat:keyword "ingresos"@es , "finanzas públicas"@es ;
    dcat:theme theme:ECON ;
    dct:issued "2024-01-15"^^xsd:date ; dct:modified "{modified}"^^xsd:dateTime ;
    dct:accrualPeriodicity freq:MONTHLY ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2024-01-01"^^xsd:date ; dcat:endDate "2024-12-31"^^xsd:date ] ;
    dct:spatial [ a dct:Location ; skos:prefLabel "Hidalgo"@es ] ;
    dct:license <https://creativecommons.org/licenses/by/4.0/> ;
    dct:conformsTo <{base}/files/hgo/diccionario-ingresos.csv> ;
    dcat:distribution <{base}/conjunto/ingresos-2024/csv> .

<{base}/conjunto/ingresos-2024/csv> a dcat:Distribution ;
    dct:title "Ingresos 2024 (CSV)"@es ;
    dcat:downloadURL <{base}/files/hgo/ingresos-2024.csv> ;
    dcat:accessURL <{base}/conjunto/ingresos-2024> ;
    dct:format ft:CSV ; dcat:mediaType <https://www.iana.org/assignments/media-types/text/csv> ;
    dct:modified "{modified}"^^xsd:dateTime ;
    dct:license <https://creativecommons.org/licenses/by/4.0/> .

<{base}/conjunto/padron-proveedores> a dcat:Dataset ;
    dct:title "Padrón de proveedores"@es ;
    dct:description "Proveedores registrados ante la Secretaría de Finanzas."@es ;
    dct:publisher <{base}/org/finanzas> ;
    dcat:theme theme:GOVE ;
    dct:issued "2019-03-01"^^xsd:date ; dct:modified "2019-03-01"^^xsd:date ;
    dct:accrualPeriodicity freq:ANNUAL ;
    dct:license <https://creativecommons.org/licenses/by-nc/4.0/> ;
    dcat:distribution [ a dcat:Distribution ; dct:title "Padrón (PDF)"@es ;
                        dcat:accessURL <{base}/files/hgo/padron.pdf> ; dct:format ft:PDF ] .
"""

_TTL_PAGE2 = """
<{base}/conjunto/borrador-interno> a dcat:Dataset ;
    dct:identifier "hgo-borrador-interno" ; dct:title "Borrador interno (no público)"@es ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC> .

<{base}/catalogo.ttl?page=2> a hydra:PagedCollection ;
    hydra:totalItems 3 ; hydra:itemsPerPage 2 ; hydra:previousPage <{base}/catalogo.ttl> .

<{base}/catalogo> a dcat:Catalog ; dcat:dataset <{base}/conjunto/obra-publica> .

<{base}/conjunto/obra-publica> a dcat:Dataset ;
    dct:identifier "hgo-obra-publica" ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/PUBLIC> ;
    dct:title "Obra pública contratada"@es ;
    dct:description "Contratos de obra pública por municipio."@es ;
    dct:publisher [ a foaf:Organization ; foaf:name "Secretaría de Obras Públicas"@es ] ;
    dcat:keyword "obra pública"@es ;
    dct:accrualPeriodicity freq:QUARTERLY ;
    dct:modified "{modified}"^^xsd:dateTime ;
    dct:rights "Términos de Libre Uso MX"@es ;
    dcat:distribution [ a dcat:Distribution ; dct:title "Contratos (XLSX)"@es ;
                        dcat:downloadURL <{base}/files/hgo/obra-publica.xlsx> ;
                        dct:format ft:XLSX ] ,
                      [ a dcat:Distribution ; dct:title "Contratos (liga rota)"@es ;
                        dcat:downloadURL <{base}/files/hgo/no-existe.csv> ; dct:format ft:CSV ] .
"""

#: what the Turtle catalogue's datasets are keyed by (identifier, else a slug of the title and a hash)
TURTLE_KEYS = ("hgo-ingresos-2024", "hgo-obra-publica")


def turtle_catalog(base_url: str, now: datetime) -> Catalog:
    """A DCAT-AP catalogue of three datasets in two Turtle pages, with its files."""
    catalog = Catalog(base_url=base_url, site_title="Catálogo DCAT-AP de muestra", now=now)
    modified = now.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    fill = {"base": base_url, "modified": modified}
    catalog.files["/catalogo.ttl"] = ServedFile("text/turtle; charset=utf-8",
                                                body=(_TTL_HEAD + _TTL_PAGE1.format(**fill)).encode("utf-8"))
    catalog.files["/catalogo.ttl?page=2"] = ServedFile("text/turtle; charset=utf-8",
                                                       body=(_TTL_HEAD + _TTL_PAGE2.format(**fill)).encode("utf-8"))
    catalog.files["/files/hgo/ingresos-2024.csv"] = ServedFile(
        "text/csv; charset=utf-8", factory=lambda: F.csv_bytes("ingresos", 60, seed="hgo"), last_modified=now)
    catalog.files["/files/hgo/diccionario-ingresos.csv"] = ServedFile(
        "text/csv; charset=utf-8", factory=lambda: F.dictionary_csv_bytes("ingresos"))
    catalog.files["/files/hgo/padron.pdf"] = ServedFile(
        "application/pdf", factory=lambda: F.pdf_bytes("Padrón de proveedores"))
    catalog.files["/files/hgo/obra-publica.xlsx"] = ServedFile(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        factory=lambda: F.xlsx_bytes("ingresos", 50, seed="obra"), last_modified=now)
    return catalog
