"""Which kind of catalogue a URL is: a CKAN Action API, a DCAT-US ``data.json`` or a DCAT RDF catalogue.

``portal_type: ckan | dcat`` in config.yaml forces the kind; ``auto`` (the default) tries CKAN's ``status_show``
first and then the DCAT documents (the URL itself, then the usual places: ``/data.json`` as DKAN, Socrata, ArcGIS
Hub and ckanext-dcat publish it, ``/catalog.ttl``, ``/catalog.rdf``, ``/catalog.jsonld``). A URL that already
names a document (``…/data.json``, ``…/catalog.ttl``) is tried as DCAT first. A portal that cannot be reached at
all stops the detection at once: no other kind would answer either.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from audit.config import AuditConfig
from audit.errors import NotCKANError, PortalUnreachable
from audit.sources.base import CatalogSource, PortalInfo
from audit.sources.ckan import CKANSource
from audit.sources.dcat import DCATSource
from audit.sources.fetch import DocumentFetcher

DOCUMENT_SUFFIXES = (".json", ".jsonld", ".ttl", ".rdf", ".xml", ".nt", ".n3")
DCAT_PATHS = ("/data.json", "/catalog.ttl", "/catalog.rdf", "/catalog.jsonld")


class NotACatalogError(NotCKANError):
    """The URL answers, but as none of the catalogue kinds the auditor reads."""


def _dcat_candidates(url: str) -> list[str]:
    base = url.rstrip("/")
    if urlsplit(base).path.lower().endswith(DOCUMENT_SUFFIXES):
        return [base]
    return [base] + [base + p for p in DCAT_PATHS]


def _try_ckan(url: str, cfg: AuditConfig) -> tuple[CatalogSource, PortalInfo]:
    source = CKANSource(url, cfg)
    try:
        return source, source.identify()
    except BaseException:
        source.close()
        raise


def _try_dcat(url: str, cfg: AuditConfig, tried: list[str]) -> tuple[CatalogSource, PortalInfo] | None:
    fetcher = DocumentFetcher(cfg.http, allow_hosts=cfg.probe.allow_hosts)
    for candidate in _dcat_candidates(url):
        source = DCATSource(candidate, cfg, fetcher=fetcher)
        try:
            return source, source.identify()
        except NotCKANError as exc:  # NotDCATError: answered, but not with a catalogue
            tried.append(f"DCAT en {candidate} ({exc.message})")
        except PortalUnreachable as exc:
            if candidate == url.rstrip("/") and not tried:
                fetcher.close()
                raise
            tried.append(f"DCAT en {candidate} ({exc.message})")
    fetcher.close()
    return None


def open_source(url: str, cfg: AuditConfig) -> tuple[CatalogSource, PortalInfo]:
    """The catalogue source for ``url`` (identified), per ``cfg.portal_type``; the caller closes it."""
    kind = cfg.portal_type
    tried: list[str] = []
    if kind == "ckan":
        return _try_ckan(url, cfg)
    document_first = urlsplit(url).path.lower().endswith(DOCUMENT_SUFFIXES)
    if kind == "auto" and not document_first:
        try:
            return _try_ckan(url, cfg)
        except NotCKANError as exc:
            tried.append(f"API de CKAN ({exc.message})")
    found = _try_dcat(url, cfg, tried)
    if found is not None:
        return found
    if kind == "auto" and document_first:
        try:
            return _try_ckan(url, cfg)
        except NotCKANError as exc:
            tried.append(f"API de CKAN ({exc.message})")
    what = "un catálogo DCAT" if kind == "dcat" else "un portal CKAN ni un catálogo DCAT"
    raise NotACatalogError(
        f"No es {what}: {url}. Se intentó: " + "; ".join(tried) + ".",
        hint="Indique la URL base de un portal CKAN, la de su data.json o la de su catálogo RDF (Turtle, RDF/XML, "
        "JSON-LD); portal_type en config.yaml fija el tipo (auto, ckan, dcat).",
        portal=url,
    )
