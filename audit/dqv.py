"""A year's measurements as linked data: W3C Data Quality Vocabulary (DQV) in Turtle and JSON-LD.

``OUT/Y/dqv.ttl`` and ``OUT/Y/dqv.jsonld`` hold the same graph:

- the vocabulary of the ten characteristics (``audit/vocab/caracteristicas.ttl``: one ``dqv:Dimension`` and one
  ``dqv:Metric`` per characteristic), each dimension with its legal text (``skos:definition``) and citation
  (``dct:source``) from the run's ``legal_basis``;
- the run as a ``prov:Activity`` (folio, start, end, configuration digest) associated with the software
  (``prov:SoftwareAgent``: version and the rules' digest, as ``audit.manifest`` gives them), using the portal
  (``dcat:Catalog``);
- every dataset × characteristic as a ``dqv:QualityMeasurement`` of the characteristic's metric, computed on the
  dataset's DCAT URI: ``dqv:value`` = the score (1 pass, 0–1 partial, 0 fail; none when not applicable) and
  ``ada:estado`` = the status as a SKOS concept;
- every manual review that decided a status as a ``dqv:QualityAnnotation`` (Web Annotation: target, body, motive).

The graph is written as text, streamed dataset by dataset (an rdflib graph of a 100,000-dataset portal would not
fit comfortably in memory); the tests parse both files with rdflib and validate them with the SHACL shapes of
``audit/vocab/dqv-shapes.ttl``. A dataset's URI is its DCAT URI when the catalogue gave one, its identifier when
that is an http(s) URL, ``<portal>/dataset/<id>`` for CKAN (as ckanext-dcat mints it), else ``<catalogue>#<key>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from audit.clock import utcnow
from audit.legal import DEFAULT_LEGAL_BASIS, LegalBasis
from audit.manifest import evaluation_folio, rules_version, software_version
from audit.store import AuditRun, DatasetSnapshot, ManualReview, RuleResultRecord, Store
from rules import CHARACTERISTICS

ADA = "urn:auditor-datos-abiertos:def:"
PREFIXES = {
    "ada": ADA,
    "dqv": "http://www.w3.org/ns/dqv#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
RDF_TYPE = PREFIXES["rdf"] + "type"
XSD_STRING = PREFIXES["xsd"] + "string"
STATUS_CONCEPT = {"pass": "cumple", "partial": "cumple-parcialmente", "fail": "no-cumple",
                  "not_applicable": "no-aplica"}
BATCH = 500  # datasets read from the store at a time


def _p(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return PREFIXES[prefix] + local


@dataclass(frozen=True)
class Iri:
    value: str


@dataclass(frozen=True)
class Lit:
    value: str
    datatype: str | None = None  # full IRI
    lang: str | None = None


Obj = Iri | Lit
Node = tuple[str, list[tuple[str, Obj]]]  # subject IRI, [(predicate IRI, object)]


# ----------------------------------------------------------------------------------------------- vocabulary
VOCAB_FILE = "caracteristicas.ttl"
SHAPES_FILE = "dqv-shapes.ttl"


def vocab_path(name: str = VOCAB_FILE) -> Path:
    return Path(str(resources.files("audit").joinpath("vocab", name)))


@lru_cache(maxsize=1)
def vocabulary_nodes() -> tuple[Node, ...]:
    """The vocabulary file's triples as nodes (parsed once; ~140 triples)."""
    from rdflib import BNode, Graph, Literal, URIRef

    graph = Graph()
    graph.parse(vocab_path(), format="turtle")
    nodes: dict[str, list[tuple[str, Obj]]] = {}
    for s, p, o in sorted(graph):
        if isinstance(s, BNode) or isinstance(o, BNode):
            continue  # the vocabulary has none; a blank node would need a stable label in two formats
        obj: Obj = Iri(str(o)) if isinstance(o, URIRef) else Lit(
            str(o), str(o.datatype) if isinstance(o, Literal) and o.datatype else None,
            o.language if isinstance(o, Literal) else None)
        nodes.setdefault(str(s), []).append((str(p), obj))
    return tuple(nodes.items())


# ------------------------------------------------------------------------------------------------- graph
def _dt(value: Any) -> Lit | None:
    if value is None:
        return None
    text = value.isoformat()
    if value.tzinfo is None:
        text += "Z"
    return Lit(text, _p("xsd:dateTime"))


def _iri(text: str) -> str:
    """An IRI that Turtle and JSON-LD accept: characters outside IRIs are percent-encoded."""
    return quote(text.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")


def dataset_uri(snap_raw: dict[str, Any], key: str, ckan_id: str, portal_url: str) -> str:
    if "dcat_uri" in snap_raw:  # a DCAT source
        uri = snap_raw.get("dcat_uri")
        if isinstance(uri, str) and uri.startswith(("http://", "https://", "urn:")):
            return _iri(uri)
        if key.startswith(("http://", "https://")):
            return _iri(key)
        return _iri(portal_url) + "#" + quote(key, safe="")
    return _iri(portal_url.rstrip("/")) + "/dataset/" + quote(ckan_id or key, safe="")


def _run_iri(portal_url: str, run_id: int) -> str:
    return f"urn:auditor-datos-abiertos:corrida:{hashlib.sha1(portal_url.encode()).hexdigest()[:12]}:{run_id}"  # noqa: S324


def _header_nodes(run: AuditRun, lb: LegalBasis) -> Iterator[Node]:
    yield from vocabulary_nodes()
    es = "es"
    yield ADA + "datos-abiertos", [(_p("dct:source"), Lit(lb.full_citation()))]
    for cid in CHARACTERISTICS:
        yield ADA + cid, [(_p("skos:definition"), Lit(lb.text(cid), lang=es)),
                          (_p("dct:source"), Lit(lb.citation(cid)))]
    software = "urn:auditor-datos-abiertos:software:" + software_version()
    yield software, [(RDF_TYPE, Iri(_p("prov:SoftwareAgent"))),
                     (_p("rdfs:label"), Lit("Auditor de Datos Abiertos", lang=es)),
                     (_p("dct:hasVersion"), Lit(software_version())),
                     (ADA + "versionReglas", Lit(rules_version()))]
    portal = run.portal
    catalog: list[tuple[str, Obj]] = [(RDF_TYPE, Iri(_p("dcat:Catalog")))]
    if portal.title:
        catalog.append((_p("dct:title"), Lit(portal.title)))
    yield _iri(portal.url), catalog
    activity: list[tuple[str, Obj]] = [
        (RDF_TYPE, Iri(_p("prov:Activity"))),
        (_p("rdfs:label"), Lit(f"Evaluación {run.year} de datos abiertos: {portal.title or portal.url}", lang=es)),
        (_p("dct:identifier"), Lit(evaluation_folio(portal.url, run.year or 0, run.id))),
        (_p("prov:wasAssociatedWith"), Iri(software)),
        (_p("prov:used"), Iri(_iri(portal.url))),
    ]
    for pred, value in (("prov:startedAtTime", run.started_at), ("prov:endedAtTime", run.finished_at)):
        if (lit := _dt(value)) is not None:
            activity.append((_p(pred), lit))
    if run.config_digest:
        activity.append((ADA + "huellaConfiguracion", Lit(run.config_digest)))
    yield _run_iri(portal.url, run.id), activity


def nodes(store: Store, run_id: int, legal_basis: LegalBasis, exported_at: datetime) -> Iterator[Node]:
    """Every node of the run's DQV graph, datasets streamed in batches."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        yield from _header_nodes(run, legal_basis)
        portal_url = run.portal.url
        run_iri = _run_iri(portal_url, run_id)
        generated = _dt(run.finished_at or exported_at)  # the export runs before the run is marked finished
        reviews = {r.id: r for r in s.scalars(select(ManualReview).where(ManualReview.portal_id == run.portal_id))}
        order = {c: i for i, c in enumerate(CHARACTERISTICS)}
        last_id = 0
        while True:
            snaps = s.execute(select(DatasetSnapshot.id, DatasetSnapshot.name, DatasetSnapshot.ckan_id,
                                     DatasetSnapshot.title, DatasetSnapshot.organization_name, DatasetSnapshot.raw)
                              .where(DatasetSnapshot.run_id == run_id, DatasetSnapshot.id > last_id)
                              .order_by(DatasetSnapshot.id).limit(BATCH)).all()
            if not snaps:
                return
            last_id = snaps[-1].id
            results: dict[int, list[Any]] = {}
            rr = RuleResultRecord
            for r in s.execute(select(rr.dataset_snapshot_id, rr.characteristic, rr.status, rr.score,
                                      rr.automatic_status, rr.manual_review_id).where(
                    rr.run_id == run_id, rr.dataset_snapshot_id.in_([x.id for x in snaps]))):
                results.setdefault(r.dataset_snapshot_id, []).append(r)
            for snap in snaps:
                recs = sorted(results.get(snap.id, []), key=lambda r: order.get(r.characteristic, 99))
                if not recs:
                    continue  # not scored (e.g. the export of a crawl-only run)
                yield from _dataset_nodes(snap, recs, reviews, portal_url, run_iri, generated)


def _dataset_nodes(snap: Any, recs: list[Any], reviews: dict[int, ManualReview], portal_url: str,
                   run_iri: str, generated: Lit | None) -> Iterator[Node]:
    raw = snap.raw if isinstance(snap.raw, dict) else {}
    uri = dataset_uri(raw, snap.name, snap.ckan_id, portal_url)
    base = f"{run_iri}:{snap.id}"
    ds: list[tuple[str, Obj]] = [(RDF_TYPE, Iri(_p("dcat:Dataset"))), (_p("dct:identifier"), Lit(snap.name))]
    if snap.title:
        ds.append((_p("dct:title"), Lit(snap.title)))
    if snap.organization_name:
        ds.append((ADA + "organizacion", Lit(snap.organization_name)))
    for r in recs:
        ds.append((_p("dqv:hasQualityMeasurement"), Iri(f"{base}:{r.characteristic}")))
        if r.manual_review_id in reviews:
            ds.append((_p("dqv:hasQualityAnnotation"), Iri(f"{base}:{r.characteristic}:revision")))
    yield uri, ds
    for r in recs:
        m: list[tuple[str, Obj]] = [
            (RDF_TYPE, Iri(_p("dqv:QualityMeasurement"))),
            (_p("dqv:computedOn"), Iri(uri)),
            (_p("dqv:isMeasurementOf"), Iri(f"{ADA}{r.characteristic}-cumplimiento")),
            (ADA + "estado", Iri(ADA + STATUS_CONCEPT.get(r.status, "no-aplica"))),
            (_p("prov:wasGeneratedBy"), Iri(run_iri)),
        ]
        if r.status != "not_applicable" and r.score is not None:
            m.append((_p("dqv:value"), Lit(f"{round(float(r.score), 4):.4f}".rstrip("0").rstrip(".") or "0",
                                           _p("xsd:decimal"))))
        if generated is not None:
            m.append((_p("prov:generatedAtTime"), generated))
        review = reviews.get(r.manual_review_id) if r.manual_review_id is not None else None
        if review is not None:
            m.append((ADA + "revisionManual", Iri(f"{base}:{r.characteristic}:revision")))
        yield f"{base}:{r.characteristic}", m
        if review is not None:
            a: list[tuple[str, Obj]] = [
                (RDF_TYPE, Iri(_p("dqv:QualityAnnotation"))),
                (_p("oa:hasTarget"), Iri(uri)),
                (_p("oa:motivatedBy"), Iri(_p("dqv:qualityAssessment"))),
                (_p("oa:bodyValue"), Lit(review.justification, lang="es")),
                (ADA + "caracteristica", Iri(ADA + r.characteristic)),
                (ADA + "estado", Iri(ADA + STATUS_CONCEPT.get(review.status, "no-aplica"))),
                (ADA + "revisor", Lit(review.reviewer)),
                (_p("dct:date"), Lit(review.review_date.isoformat(), _p("xsd:date"))),
            ]
            if r.automatic_status:
                a.append((ADA + "estadoAutomatico", Iri(ADA + STATUS_CONCEPT.get(r.automatic_status, "no-aplica"))))
            yield f"{base}:{r.characteristic}:revision", a


# -------------------------------------------------------------------------------------------- serializers
_NS_PREFIX = {ns: prefix for prefix, ns in PREFIXES.items()}
#: a namespace followed by a local name that Turtle and JSON-LD both accept unescaped (or nothing)
_CURIE = re.compile("^(" + "|".join(re.escape(ns) for ns in sorted(_NS_PREFIX, key=len, reverse=True))
                    + r")((?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)?)$")


_CURIES: dict[str, str] = {}  # vocabulary terms repeat on every node: remember them (bounded)


def _curie(iri: str) -> str | None:
    hit = _CURIES.get(iri)
    if hit is not None:
        return hit
    m = _CURIE.match(iri)
    if m is None:
        return None
    curie = f"{_NS_PREFIX[m.group(1)]}:{m.group(2)}"
    if len(_CURIES) < 4096:
        _CURIES[iri] = curie
    return curie


def _ttl_iri(iri: str) -> str:
    if iri == RDF_TYPE:
        return "a"
    return _curie(iri) or "<" + iri.replace(">", "%3E").replace("<", "%3C").replace(" ", "%20") + ">"


def _ttl_str(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


def _ttl_obj(obj: Obj) -> str:
    if isinstance(obj, Iri):
        return _curie(obj.value) or _ttl_iri(obj.value)
    text = _ttl_str(obj.value)
    if obj.lang:
        return f"{text}@{obj.lang}"
    if obj.datatype and obj.datatype != XSD_STRING:
        return f"{text}^^{_curie(obj.datatype) or '<' + obj.datatype + '>'}"
    return text


def turtle_prefixes() -> str:
    return "".join(f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in PREFIXES.items())


def turtle_node(subject: str, pairs: list[tuple[str, Obj]]) -> str:
    body = " ;\n    ".join(f"{_ttl_iri(p)} {_ttl_obj(o)}" for p, o in pairs)
    return f"\n{_curie(subject) or '<' + subject + '>'} {body} .\n"


def _json_obj(obj: Obj) -> Any:
    if isinstance(obj, Iri):
        return {"@id": _curie(obj.value) or obj.value}
    if obj.lang:
        return {"@value": obj.value, "@language": obj.lang}
    if obj.datatype and obj.datatype != XSD_STRING:
        return {"@value": obj.value, "@type": _curie(obj.datatype) or obj.datatype}
    return obj.value


JSONLD_HEAD = '{"@context": ' + json.dumps(PREFIXES) + ',\n "@graph": ['
JSONLD_TAIL = "\n]}\n"


def jsonld_node(subject: str, pairs: list[tuple[str, Obj]]) -> str:
    node: dict[str, Any] = {"@id": _curie(subject) or subject}
    for p, o in pairs:
        if p == RDF_TYPE:
            node.setdefault("@type", []).append(_curie(o.value) or o.value)
            continue
        key = _curie(p) or p
        value = _json_obj(o)
        if key in node:
            node[key] = (node[key] if isinstance(node[key], list) else [node[key]]) + [value]
        else:
            node[key] = value
    return json.dumps(node, ensure_ascii=False)


def write_dqv(store: Store, run_id: int, out_year_dir: Path, legal_basis: LegalBasis | None = None) -> dict[str, Path]:
    """Write ``dqv.ttl`` and ``dqv.jsonld`` into ``out_year_dir`` (atomically, like the other exports)."""
    lb = legal_basis or DEFAULT_LEGAL_BASIS
    out_year_dir.mkdir(parents=True, exist_ok=True)
    paths = {"dqv.ttl": out_year_dir / "dqv.ttl", "dqv.jsonld": out_year_dir / "dqv.jsonld"}
    tmp = {name: path.with_suffix(path.suffix + ".tmp") for name, path in paths.items()}
    # one pass over the store feeds both files: they hold the same graph
    with tmp["dqv.ttl"].open("w", encoding="utf-8") as ttl, tmp["dqv.jsonld"].open("w", encoding="utf-8") as jld:
        ttl.write(turtle_prefixes())
        jld.write(JSONLD_HEAD)
        sep = "\n  "
        for subject, pairs in nodes(store, run_id, lb, utcnow()):
            ttl.write(turtle_node(subject, pairs))
            jld.write(sep + jsonld_node(subject, pairs))
            sep = ",\n  "
        jld.write(JSONLD_TAIL)
    for name, path in paths.items():
        tmp[name].replace(path)
    return paths
