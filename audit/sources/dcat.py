"""DCAT catalogues as a source: DCAT-US 1.1 ``data.json`` and DCAT / DCAT-AP RDF (paged with Hydra).

The whole catalogue is read first (one ``data.json``, or every Hydra page up to ``MAX_PAGES``), because its
organizations, themes and licences are only known from its datasets; datasets are then handed to the crawl in
pages of ``crawl.page_size``. A resumed crawl reads the catalogue again and skips the datasets already stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import Any
from urllib.parse import urljoin

from audit.config import AuditConfig
from audit.errors import NotCKANError, PortalResponseError
from audit.sources import dcat_map
from audit.sources.base import DatasetPage, ErrorSink, PortalInfo
from audit.sources.fetch import Document, DocumentFetcher

log = logging.getLogger(__name__)
MAX_PAGES = 10_000  # a Hydra collection longer than this is cut (a loop guard as much as a limit)
DATA_JSON = "DCAT-US 1.1 (data.json)"
RDF = "DCAT (RDF)"


class NotDCATError(NotCKANError):
    """The URL answers, but not with a DCAT catalogue."""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


def looks_like_data_json(doc: Any) -> bool:
    """DCAT-US: an object with a ``dataset`` list (1.1), or a bare list of dataset objects (1.0)."""
    if isinstance(doc, dict):
        return isinstance(doc.get("dataset"), list)
    return isinstance(doc, list) and bool(doc) and all(isinstance(d, dict) and "title" in d for d in doc[:5])


class DCATSource:
    kind = "dcat"

    def __init__(self, url: str, cfg: AuditConfig, *, fetcher: DocumentFetcher | None = None,
                 first: Document | None = None) -> None:
        self.url = url
        self.cfg = cfg
        self.fetcher = fetcher or DocumentFetcher(cfg.http, allow_hosts=cfg.probe.allow_hosts)
        self._first = first
        self._packages: list[dict[str, Any]] | None = None
        self._info: PortalInfo | None = None

    def close(self) -> None:
        self.fetcher.close()

    # -- reading --------------------------------------------------------------------------------------------
    def _document(self) -> Document:
        if self._first is None:
            self._first = self.fetcher.get(self.url)
        return self._first

    def identify(self) -> PortalInfo:
        if self._info is None:
            self._load()
        assert self._info is not None
        return self._info

    def _load(self) -> list[dict[str, Any]]:
        if self._packages is not None:
            return self._packages
        doc = self._document()
        if doc.status >= 400:
            raise NotDCATError(f"No es un catálogo DCAT: {self.url} respondió HTTP {doc.status}.", portal=self.url)
        parsed = _json(doc.body)
        if looks_like_data_json(parsed):
            self._packages, title = self._from_data_json(parsed)
            self._info = PortalInfo("dcat", title, DATA_JSON, {"format": "data.json", "url": doc.url})
        else:
            self._packages, title = self._from_rdf(doc, parsed)
            self._info = PortalInfo("dcat", title, RDF, {"format": "rdf", "url": doc.url})
        log.info("dcat catalogue %s: %d datasets", self.url, len(self._packages))
        return self._packages

    def _from_data_json(self, doc: Any) -> tuple[list[dict[str, Any]], str | None]:
        records = (doc.get("dataset") if isinstance(doc, dict) else doc) or []
        labels: dict[str, str] = {}
        if isinstance(doc, dict):
            for theme in doc.get("themeTaxonomy") or []:  # datos.gob.ar's profile: theme ids with labels
                if isinstance(theme, dict) and theme.get("id") and theme.get("label"):
                    labels[str(theme["id"])] = str(theme["label"])
        packages = [dcat_map.package(r, theme_labels=labels) for r in records if isinstance(r, dict)]
        title = doc.get("title") if isinstance(doc, dict) else None
        return packages, (str(title) if title else None)

    def _from_rdf(self, doc: Document, parsed_json: Any) -> tuple[list[dict[str, Any]], str | None]:
        from audit.sources import dcat_rdf

        packages: list[dict[str, Any]] = []
        title: str | None = None
        seen_pages: set[str] = set()
        url: str | None = doc.url
        current: Document | None = doc
        while url and url not in seen_pages and len(seen_pages) < MAX_PAGES:
            seen_pages.add(url)
            if current is None:
                current = self.fetcher.get(url)
                if current.status >= 400:
                    raise PortalResponseError(f"La página {url} del catálogo DCAT respondió HTTP {current.status}.",
                                              portal=self.url)
            graph = self._graph(current, parsed_json if current is doc else None)
            if not dcat_rdf.is_catalog(graph):
                if current is doc:
                    raise NotDCATError(f"No es un catálogo DCAT: {self.url} no describe un dcat:Catalog ni "
                                       "dcat:Dataset.", portal=self.url)
                break
            title = title or dcat_rdf.catalog_title(graph)
            labels = dcat_rdf.theme_labels(graph)
            packages.extend(dcat_map.package(r, theme_labels=labels, uri=r.get("@id"))
                            for r in dcat_rdf.records(graph))
            nxt = dcat_rdf.next_page(graph)
            url = urljoin(url, nxt) if nxt else None
            current = None
        return packages, title

    def _graph(self, doc: Document, parsed_json: Any) -> Any:
        from audit.sources import dcat_rdf

        fmt = dcat_rdf.rdf_format(doc.content_type, doc.url)
        body = doc.body
        if fmt is None and parsed_json is not None:
            fmt = "json-ld"
        if fmt is None:
            raise NotDCATError(f"No es un catálogo DCAT: {self.url} respondió «{doc.content_type or 'sin tipo'}», "
                               "que no es data.json ni RDF (Turtle, RDF/XML, JSON-LD).", portal=self.url)
        if fmt == "json-ld":
            body = self._inline_contexts(parsed_json if parsed_json is not None else _json(body), doc.url)
        elif fmt == "xml":
            _refuse_xml_entities(body, self.url)
        try:
            return dcat_rdf.parse(body, fmt, doc.url)
        except Exception as exc:  # noqa: BLE001 - rdflib raises many kinds; all mean "not readable RDF"
            raise NotDCATError(f"No es un catálogo DCAT legible: {doc.url} no se pudo leer como {fmt}: "
                               f"{str(exc)[:200]}", portal=self.url) from exc

    def _inline_contexts(self, doc: Any, base: str) -> bytes:
        """Remote JSON-LD contexts are fetched here, under the HTTP policy (rdflib would fetch them itself)."""
        if doc is None:
            raise NotDCATError(f"No es un catálogo DCAT: {base} no es JSON válido.", portal=self.url)
        cache: dict[str, Any] = {}

        def resolve(ctx: Any) -> Any:
            if isinstance(ctx, list):
                return [resolve(c) for c in ctx]
            if isinstance(ctx, str):
                url = urljoin(base, ctx)
                if url not in cache:
                    fetched = _json(self.fetcher.get(url).body)
                    cache[url] = fetched.get("@context", {}) if isinstance(fetched, dict) else {}
                return cache[url]
            return ctx

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: (resolve(v) if k == "@context" else walk(v)) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node

        return json.dumps(walk(doc)).encode()

    # -- the CatalogSource interface -----------------------------------------------------------------------
    def organizations(self) -> list[dict[str, Any]]:
        orgs: dict[str, dict[str, Any]] = {}
        for pkg in self._load():
            org = pkg.get("organization")
            if isinstance(org, dict):
                entry = orgs.setdefault(org["name"], dict(org, package_count=0))
                entry["package_count"] += 1
        return list(orgs.values())

    def groups(self) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = {}
        for pkg in self._load():
            for g in pkg.get("groups") or []:
                entry = groups.setdefault(g["name"], dict(g, package_count=0))
                entry["package_count"] += 1
        return list(groups.values())

    def licenses(self) -> list[dict[str, Any]]:
        return dcat_map.licenses(self._load())

    def dataset_pages(self, start: int, rows: int, on_error: ErrorSink) -> Generator[DatasetPage, None, None]:
        packages = self._load()
        total = len(packages)
        for pos in range(start, total, rows):
            chunk = packages[pos: pos + rows]
            yield DatasetPage(chunk, pos + len(chunk), total)


def _refuse_xml_entities(body: bytes, url: str) -> None:
    """RDF/XML is parsed by expat through rdflib: refuse DTD entity tricks (billion laughs, external entities)."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        DET.fromstring(body)
    except DefusedXmlException as exc:
        raise NotDCATError(f"El catálogo RDF/XML {url} declara entidades XML; no se lee por seguridad.",
                           portal=url) from exc
    except Exception:  # noqa: BLE001, S110 - malformed XML is reported by the RDF parser with its own message
        pass
