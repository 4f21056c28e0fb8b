"""DCAT / DCAT-AP catalogues in RDF (Turtle, RDF/XML, JSON-LD, N-Triples) → DCAT-US records.

Reading RDF into the ``data.json`` record shape keeps one mapping to the normalized dataset
(``audit.sources.dcat_map``). Pages follow Hydra: ``hydra:next`` (Hydra core) or ``hydra:nextPage`` (the older
paged-collection terms that CKAN's DCAT extension emits).
"""

from __future__ import annotations

from typing import Any

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDFS, SKOS
from rdflib.term import Node

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SCHEMA = Namespace("http://schema.org/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
WDRS = Namespace("http://www.w3.org/2007/05/powder-s#")
POD = Namespace("https://project-open-data.cio.gov/v1.1/schema#")

#: Content-Type → rdflib parser name
RDF_FORMATS = {
    "text/turtle": "turtle", "application/x-turtle": "turtle", "text/n3": "n3",
    "application/rdf+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "application/ld+json": "json-ld", "application/n-triples": "nt", "application/trig": "trig",
}
#: file suffix → rdflib parser name (servers often send text/plain or octet-stream)
RDF_SUFFIXES = {".ttl": "turtle", ".rdf": "xml", ".xml": "xml", ".jsonld": "json-ld", ".nt": "nt", ".n3": "n3"}
PREFERRED_LANGS = ("es", "es-mx", "es-ar", None, "en")


def rdf_format(content_type: str, url: str) -> str | None:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in RDF_FORMATS:
        return RDF_FORMATS[ctype]
    path = url.split("?")[0].lower()
    return next((fmt for suffix, fmt in RDF_SUFFIXES.items() if path.endswith(suffix)), None)


def parse(body: bytes, fmt: str, base: str) -> Graph:
    graph = Graph()
    graph.parse(data=body, format=fmt, publicID=base)
    return graph


def _str(node: Node | None) -> str | None:
    if node is None:
        return None
    text = str(node).strip()
    return text or None


def _literal(graph: Graph, subject: Node, *preds: URIRef) -> str | None:
    """The best literal for a predicate: Spanish first, then untagged, then English, then any."""
    for pred in preds:
        values = list(graph.objects(subject, pred))
        if not values:
            continue
        ranked = sorted(values, key=lambda v: PREFERRED_LANGS.index(v.language.lower())
                        if isinstance(v, Literal) and v.language and v.language.lower() in PREFERRED_LANGS
                        else PREFERRED_LANGS.index(None) if isinstance(v, Literal) and not v.language
                        else len(PREFERRED_LANGS))
        return _str(ranked[0])
    return None


def _label(graph: Graph, node: Node) -> str | None:
    """A resource's human name (foaf:name, vcard:fn, skos:prefLabel, dct:title, rdfs:label), else its URI."""
    if isinstance(node, Literal):
        return _str(node)
    return _literal(graph, node, FOAF.name, VCARD.fn, SKOS.prefLabel, DCTERMS.title, RDFS.label) or (
        _str(node) if isinstance(node, URIRef) else None)


def _one(graph: Graph, subject: Node, pred: URIRef) -> Node | None:
    return next(iter(graph.objects(subject, pred)), None)


def _email(graph: Graph, node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):  # vcard:hasEmail [ vcard:value <mailto:…> ]
        node = _one(graph, node, VCARD.value)
    text = _str(node)
    return text[7:] if text and text.lower().startswith("mailto:") else text


def _format(graph: Graph, node: Node | None) -> str | None:
    """dct:format / dcat:mediaType: a literal, an IANA or EU file-type URI (its last segments), or a node with a
    value or label."""
    if node is None:
        return None
    if isinstance(node, BNode):
        return _literal(graph, node, RDF.value, RDFS.label, SKOS.prefLabel)
    text = _str(node) or ""
    if isinstance(node, URIRef):
        if "/media-types/" in text:
            return text.split("/media-types/", 1)[1]
        return text.rstrip("/").rsplit("/", 1)[-1]
    return text


def _temporal(graph: Graph, node: Node | None) -> str | None:
    if node is None or isinstance(node, Literal):
        return _str(node)
    start = _one(graph, node, DCAT.startDate) or _one(graph, node, SCHEMA.startDate)
    end = _one(graph, node, DCAT.endDate) or _one(graph, node, SCHEMA.endDate)
    if start or end:
        return f"{_str(start) or '..'}/{_str(end) or '..'}"
    return _str(node) if isinstance(node, URIRef) else None


def _spatial(graph: Graph, node: Node | None) -> str | None:
    if node is None or isinstance(node, Literal | URIRef):
        return _str(node)
    return _literal(graph, node, SKOS.prefLabel, RDFS.label, DCAT.bbox, LOCN.geometry, DCAT.centroid)


def _uris(graph: Graph, subject: Node, *preds: URIRef) -> list[str]:
    out = []
    for pred in preds:
        for o in graph.objects(subject, pred):
            text = _label(graph, o) if isinstance(o, BNode) else _str(o)
            if text:
                out.append(text)
    return out


def _license(graph: Graph, node: Node | None) -> Any:
    if node is None:
        return None
    if isinstance(node, BNode):
        return _literal(graph, node, DCTERMS.title, RDFS.label, SKOS.prefLabel)
    if isinstance(node, URIRef):
        title = _literal(graph, node, DCTERMS.title, RDFS.label, SKOS.prefLabel)
        return {"@id": str(node), "title": title} if title else str(node)
    return _str(node)


def _access_level(node: Node | None) -> str | None:
    """dct:accessRights (EU access-right table: PUBLIC, RESTRICTED, NON_PUBLIC) as DCAT-US accessLevel."""
    code = (_str(node) or "").rstrip("/").rsplit("/", 1)[-1].upper()
    return {"PUBLIC": "public", "RESTRICTED": "restricted public", "NON_PUBLIC": "non-public"}.get(code)


def _rights(graph: Graph, subject: Node) -> str | None:
    node = _one(graph, subject, DCTERMS.rights)
    return _label(graph, node) if node is not None else None


def _distribution(graph: Graph, node: Node) -> dict[str, Any]:
    return {k: v for k, v in {
        "@id": _str(node) if isinstance(node, URIRef) else None,
        "identifier": _literal(graph, node, DCTERMS.identifier),
        "title": _literal(graph, node, DCTERMS.title),
        "description": _literal(graph, node, DCTERMS.description),
        "downloadURL": _str(_one(graph, node, DCAT.downloadURL)),
        "accessURL": _str(_one(graph, node, DCAT.accessURL)),
        "format": _format(graph, _one(graph, node, DCTERMS["format"])),
        "mediaType": _format(graph, _one(graph, node, DCAT.mediaType)),
        "issued": _str(_one(graph, node, DCTERMS.issued)),
        "modified": _str(_one(graph, node, DCTERMS.modified)),
        "license": _license(graph, _one(graph, node, DCTERMS.license)),
        "rights": _rights(graph, node),
        "conformsTo": ", ".join(_uris(graph, node, DCTERMS.conformsTo)) or None,
        "describedBy": ", ".join(_uris(graph, node, WDRS.describedby, POD.describedBy)) or None,
        "byteSize": _str(_one(graph, node, DCAT.byteSize)),
    }.items() if v}


def _dataset(graph: Graph, node: Node) -> dict[str, Any]:
    pub = _one(graph, node, DCTERMS.publisher)
    publisher: dict[str, Any] | None = None
    if pub is not None:
        publisher = {"name": _label(graph, pub)}
        if isinstance(pub, URIRef):
            publisher["@id"] = str(pub)
        if (mbox := _email(graph, _one(graph, pub, FOAF.mbox))) is not None:
            publisher["mbox"] = mbox
    cp = _one(graph, node, DCAT.contactPoint)
    contact = None
    if cp is not None:
        contact = {"fn": _literal(graph, cp, VCARD.fn, VCARD["organization-name"]),
                   "hasEmail": _email(graph, _one(graph, cp, VCARD.hasEmail))}
    dists = [_distribution(graph, d) for d in graph.objects(node, DCAT.distribution)]
    dists.sort(key=lambda d: (d.get("title") or "", d.get("downloadURL") or d.get("accessURL") or ""))
    licence = _license(graph, _one(graph, node, DCTERMS.license)) or next(
        (d["license"] for d in dists if d.get("license")), None)
    record: dict[str, Any] = {
        "@id": _str(node) if isinstance(node, URIRef) else None,
        "identifier": _literal(graph, node, DCTERMS.identifier),
        "title": _literal(graph, node, DCTERMS.title),
        "description": _literal(graph, node, DCTERMS.description),
        "keyword": sorted(t for o in graph.objects(node, DCAT.keyword) if (t := _str(o))),
        "theme": sorted(t for o in graph.objects(node, DCAT.theme) if (t := _str(o))),
        "publisher": publisher,
        "contactPoint": contact,
        "issued": _str(_one(graph, node, DCTERMS.issued)),
        "modified": _str(_one(graph, node, DCTERMS.modified)),
        "accrualPeriodicity": _str(_one(graph, node, DCTERMS.accrualPeriodicity)),
        "license": licence,
        "rights": _rights(graph, node),
        "temporal": _temporal(graph, _one(graph, node, DCTERMS.temporal)),
        "spatial": _spatial(graph, _one(graph, node, DCTERMS.spatial)),
        "conformsTo": ", ".join(_uris(graph, node, DCTERMS.conformsTo)) or None,
        "describedBy": ", ".join(_uris(graph, node, WDRS.describedby, POD.describedBy)) or None,
        "landingPage": _str(_one(graph, node, DCAT.landingPage)),
        "accessLevel": _access_level(_one(graph, node, DCTERMS.accessRights)),
        "language": ", ".join(_uris(graph, node, DCTERMS.language)) or None,
        "distribution": dists,
    }
    return {k: v for k, v in record.items() if v not in (None, [], "")}


def theme_labels(graph: Graph) -> dict[str, str]:
    """Labels of the theme concepts the graph describes (skos:prefLabel)."""
    out: dict[str, str] = {}
    for theme in set(graph.objects(None, DCAT.theme)):
        label = _literal(graph, theme, SKOS.prefLabel, RDFS.label) if not isinstance(theme, Literal) else None
        if label:
            out[str(theme)] = label
    return out


def catalog_title(graph: Graph) -> str | None:
    cat = next(iter(graph.subjects(RDF.type, DCAT.Catalog)), None)
    return _literal(graph, cat, DCTERMS.title) if cat is not None else None


def is_catalog(graph: Graph) -> bool:
    return any(True for _ in graph.subjects(RDF.type, DCAT.Catalog)) or any(
        True for _ in graph.subjects(RDF.type, DCAT.Dataset))


def records(graph: Graph) -> list[dict[str, Any]]:
    """Every dcat:Dataset of the graph as a DCAT-US record, in a stable order (by URI/identifier)."""
    nodes = set(graph.subjects(RDF.type, DCAT.Dataset)) | set(graph.objects(None, DCAT.dataset))
    out = [_dataset(graph, n) for n in nodes if not isinstance(n, Literal)]
    out.sort(key=lambda r: (r.get("@id") or "", r.get("identifier") or "", r.get("title") or ""))
    return out


def next_page(graph: Graph) -> str | None:
    """The next page's URL (hydra:next or hydra:nextPage), if the document is one page of a collection."""
    for pred in (HYDRA.next, HYDRA.nextPage):
        for obj in graph.objects(None, pred):
            if isinstance(obj, URIRef | Literal) and _str(obj):
                return _str(obj)
    return None
