"""The DQV export: parsed with rdflib (Turtle and JSON-LD give the same graph) and validated with SHACL."""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from audit.dqv import ADA, vocab_path
from audit.manifest import rules_version
from audit.pipeline import run_audit
from audit.sample_portal import SamplePortal
from audit.sample_portal.dcat import turtle_catalog
from audit.store import open_store
from rules import CHARACTERISTICS

DQV = Namespace("http://www.w3.org/ns/dqv#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCT = Namespace("http://purl.org/dc/terms/")
OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
A = Namespace(ADA)


def _validate(graph: Graph) -> tuple[bool, str]:
    from pyshacl import validate

    shapes = Graph().parse(vocab_path("dqv-shapes.ttl"), format="turtle")
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=False)
    return bool(conforms), str(text)


def test_the_vocabulary_defines_the_ten_characteristics_once():
    g = Graph().parse(vocab_path(), format="turtle")
    dims = {str(g.value(d, SKOS.notation)): d for d in g.subjects(RDF.type, DQV.Dimension)}
    assert sorted(dims) == sorted(CHARACTERISTICS)
    metrics = {g.value(m, DQV.inDimension) for m in g.subjects(RDF.type, DQV.Metric)}
    assert metrics == set(dims.values())
    assert not list(g.objects(None, SKOS.definition)), "the legal text comes from legal_basis, not the file"


@pytest.fixture(scope="module")
def audited(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The DCAT-AP sample catalogue audited once, with a manual review and a custom legal text."""
    from audit.config import AuditConfig
    from audit.legal import DEFAULT_LEGAL_BASIS

    tmp = tmp_path_factory.mktemp("dqv")
    reviews = tmp / "revisiones.csv"
    reviews.write_text("dataset,characteristic,status,justification,reviewer,date\n"
                       "hgo-obra-publica,accesibles,pass,\"El enlace roto se corrigió el 3 de marzo; verificado.\","
                       "Ana Pérez,2026-03-04\n", encoding="utf-8")
    lb = DEFAULT_LEGAL_BASIS.model_dump()
    lb["characteristics"]["gratuitos"]["text"] = "Gratuitos: Se obtienen sin entregar a cambio contraprestación alguna"
    with SamplePortal(catalog_factory=turtle_catalog, ckan_api=False) as portal:
        url = portal.url + "/catalogo.ttl"
        cfg = AuditConfig.model_validate({
            "portal_url": url, "database_url": f"sqlite:///{tmp / 'a.db'}", "output_dir": str(tmp),
            "content": {"enabled": False}, "reports": {"enabled": False}, "http": {"retries": 0},
            "legal_basis": lb})
        outcome = run_audit(cfg, open_store(cfg.database_url), portal_url=url, reviews=str(reviews))
    assert outcome.status == "complete"
    return outcome


def test_dqv_turtle_and_json_ld_hold_the_same_valid_graph(audited):
    out = audited.out_dir
    ttl = Graph().parse(out / "dqv.ttl", format="turtle")
    jsonld = Graph().parse(out / "dqv.jsonld", format="json-ld")
    assert isomorphic(ttl, jsonld)
    conforms, report = _validate(ttl)
    assert conforms, report
    measurements = list(ttl.subjects(RDF.type, DQV.QualityMeasurement))
    assert len(measurements) == 3 * 10
    datasets = set(ttl.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")))
    # the DCAT URI of the catalogue's dataset, not a made-up one
    assert URIRef(audited_portal_uri(ttl) + "/conjunto/ingresos-2024") in datasets
    # provenance: the run, the software and the rules version, the portal
    run = next(ttl.subjects(RDF.type, PROV.Activity))
    software = ttl.value(run, PROV.wasAssociatedWith)
    assert str(ttl.value(software, A.versionReglas)) == rules_version()
    assert str(ttl.value(run, DCT.identifier)).startswith("DA-")
    assert ttl.value(run, PROV.used) is not None and ttl.value(run, PROV.startedAtTime) is not None


def audited_portal_uri(graph: Graph) -> str:
    catalog = next(graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Catalog")))
    return str(catalog).rsplit("/", 1)[0]


def test_manual_review_is_a_quality_annotation_and_legal_text_comes_from_the_config(audited):
    g = Graph().parse(audited.out_dir / "dqv.ttl", format="turtle")
    notes = list(g.subjects(RDF.type, DQV.QualityAnnotation))
    assert len(notes) == 1
    note = notes[0]
    assert "enlace roto se corrigió" in str(g.value(note, OA.bodyValue))
    assert g.value(note, A.estado) == A.cumple and g.value(note, A.estadoAutomatico) != A.cumple
    assert str(g.value(note, A.revisor)) == "Ana Pérez"
    measurement = next(g.subjects(A.revisionManual, note))
    assert g.value(measurement, A.estado) == A.cumple and float(g.value(measurement, DQV.value)) == 1.0
    assert str(g.value(A.gratuitos, SKOS.definition)).startswith("Gratuitos: Se obtienen sin entregar")
    assert str(g.value(A.gratuitos, DCT.source)) == "LGTAIP, art. 3, fr. VIII, inciso c)"


def test_the_shapes_reject_a_broken_export(audited):
    g = Graph().parse(audited.out_dir / "dqv.ttl", format="turtle")
    measurement = next(g.subjects(RDF.type, DQV.QualityMeasurement))
    g.remove((measurement, DQV.computedOn, None))
    g.add((measurement, DQV.value, Literal("alto")))
    conforms, report = _validate(g)
    assert not conforms
    assert "computedOn" in report and "value" in report
