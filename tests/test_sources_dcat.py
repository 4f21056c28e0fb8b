"""DCAT catalogues as a source: data.json and DCAT-AP RDF read, detected and audited like a CKAN portal."""

from __future__ import annotations

from collections import defaultdict
from contextlib import closing

import pytest
from sqlalchemy import select

from audit.config import AuditConfig
from audit.errors import NotCKANError
from audit.pipeline import run_audit
from audit.sample_portal import SamplePortal, ServedFile
from audit.sample_portal.dcat import (
    TURTLE_KEYS,
    ckan_catalog_from_datajson,
    datajson_catalog,
    load_datajson,
    real_data_file,
    turtle_catalog,
)
from audit.sources import dcat_map
from audit.sources.detect import NotACatalogError, open_source
from audit.store import DatasetSnapshot, RuleResultRecord, open_store

needs_real = pytest.mark.skipif(real_data_file("ar_datosgobar_data.json") is None,
                                reason="shared/data/real no disponible")


def _cfg(**extra: object) -> AuditConfig:
    return AuditConfig.model_validate({"http": {"retries": 0, "connect_timeout_s": 2, "read_timeout_s": 5},
                                       **extra})


def _all_datasets(source) -> list[dict]:  # type: ignore[no-untyped-def]
    return [d for page in source.dataset_pages(0, 2, lambda *a: None) for d in page.datasets]


def test_data_json_record_maps_every_dcat_field_to_the_normalized_shape():
    record = {
        "identifier": "mx-ingresos", "title": "Ingresos", "description": "Ingresos mensuales",
        "publisher": {"name": "Secretaría de Finanzas", "mbox": "mailto:datos@x.invalid"},
        "contactPoint": {"fn": "Unidad de Transparencia", "hasEmail": "mailto:ut@x.invalid"},
        "keyword": ["ingresos", "finanzas"], "theme": ["econ"], "modified": "2024-05-01", "issued": "2020-01-01",
        "accrualPeriodicity": "R/P1M", "license": "https://creativecommons.org/licenses/by/4.0/",
        "temporal": "2020-01-01/2024-12-31", "spatial": "Estado de México", "conformsTo": "https://x.invalid/esquema",
        "describedBy": "https://x.invalid/diccionario.csv", "accessLevel": "public",
        "distribution": [{"accessURL": "https://x.invalid/pagina", "title": "Página"},
                         {"downloadURL": "https://x.invalid/d.csv", "accessURL": "https://x.invalid/p",
                          "mediaType": "text/csv", "modified": "2024-05-01"}],
    }
    pkg = dcat_map.package(record, theme_labels={"econ": "Economía y finanzas"})
    assert pkg["id"] == pkg["name"] == "mx-ingresos"
    assert pkg["organization"]["name"] == "secretaria-de-finanzas"
    assert pkg["organization"]["title"] == "Secretaría de Finanzas"
    assert [g["title"] for g in pkg["groups"]] == ["Economía y finanzas"]
    assert [t["name"] for t in pkg["tags"]] == ["ingresos", "finanzas"]
    assert pkg["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert (pkg["maintainer"], pkg["maintainer_email"]) == ("Unidad de Transparencia", "ut@x.invalid")
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    for key in ("modified", "issued", "accrualPeriodicity", "temporal", "spatial", "conformsTo", "describedBy"):
        assert extras[key] == record[key]
    first, second = pkg["resources"]
    assert first["url"] == "https://x.invalid/pagina"  # accessURL when there is no downloadURL
    assert second["url"] == "https://x.invalid/d.csv" and second["format"] == "text/csv"
    assert second["modified"] == "2024-05-01"


def test_dataset_without_identifier_gets_a_stable_slug():
    record = {"title": "Padrón de proveedores", "landingPage": "https://x.invalid/padron"}
    key = dcat_map.dataset_key(record)
    assert key.startswith("padron-de-proveedores-") and key == dcat_map.dataset_key(dict(record))
    assert key != dcat_map.dataset_key({**record, "landingPage": "https://x.invalid/otro"})


def test_turtle_catalogue_is_read_across_hydra_pages():
    with SamplePortal(catalog_factory=turtle_catalog, ckan_api=False) as portal:
        source, info = open_source(portal.url + "/catalogo.ttl", _cfg())
        with closing(source):
            datasets = {d["name"]: d for d in _all_datasets(source)}
            orgs = {o["name"]: o["package_count"] for o in source.organizations()}
    assert info.kind == "dcat" and info.title.startswith("Catálogo de datos abiertos del Estado de Hidalgo")
    assert len(datasets) == 4  # two on the first page, two on the second
    assert datasets.pop("hgo-borrador-interno")["private"] is True  # dct:accessRights NON_PUBLIC
    assert set(TURTLE_KEYS) <= set(datasets)
    assert orgs == {"secretaria-de-finanzas": 2, "secretaria-de-obras-publicas": 1}
    ingresos = datasets["hgo-ingresos-2024"]
    assert ingresos["title"] == "Ingresos públicos 2024"  # the Spanish title, not the English one
    extras = {e["key"]: e["value"] for e in ingresos["extras"]}
    assert extras["temporal"] == "2024-01-01/2024-12-31"
    assert extras["spatial"] == "Hidalgo"
    assert extras["accrualPeriodicity"].endswith("/frequency/MONTHLY")
    assert extras["conformsTo"].endswith("/diccionario-ingresos.csv")
    assert ingresos["groups"][0]["title"] == "Economía y finanzas"
    res = ingresos["resources"][0]
    assert res["url"].endswith("/files/hgo/ingresos-2024.csv") and res["format"] == "CSV"
    assert ingresos["dcat_uri"] == portal.url + "/conjunto/ingresos-2024"


@pytest.mark.parametrize("fmt,ctype,path", [("json-ld", "application/ld+json", "/catalogo.jsonld"),
                                            ("xml", "application/rdf+xml", "/catalogo.rdf")])
def test_rdf_xml_and_json_ld_give_the_same_datasets_as_turtle(fmt, ctype, path):
    from rdflib import Graph

    def factory(base_url, now):  # type: ignore[no-untyped-def]
        catalog = turtle_catalog(base_url, now)
        graph = Graph()
        for page in ("/catalogo.ttl", "/catalogo.ttl?page=2"):
            graph.parse(data=catalog.files[page].body, format="turtle")
        for s, p, o in list(graph):  # one document: drop the paging
            if "hydra" in str(p):
                graph.remove((s, p, o))
        catalog.files[path] = ServedFile(ctype, body=graph.serialize(format=fmt).encode())
        return catalog

    with SamplePortal(catalog_factory=factory, ckan_api=False) as portal:
        source, _ = open_source(portal.url + path, _cfg())
        with closing(source):
            names = sorted(d["name"] for d in _all_datasets(source))
    assert len(names) == 4 and set(TURTLE_KEYS) <= set(names)


def test_a_url_that_is_no_catalogue_is_a_clear_error_naming_what_was_tried():
    def empty(base_url, now):  # type: ignore[no-untyped-def]
        from audit.sample_portal import Catalog

        catalog = Catalog(base_url=base_url, now=now)
        catalog.files["/"] = ServedFile("text/html", body=b"<html><body>Bienvenido</body></html>")
        return catalog

    with SamplePortal(catalog_factory=empty, ckan_api=False) as portal:
        with pytest.raises(NotACatalogError) as err:
            open_source(portal.url, _cfg())
    text = str(err.value)
    assert "No es un portal CKAN ni un catálogo DCAT" in text
    for tried in ("API de CKAN", "/data.json", "/catalog.ttl", "/catalog.rdf", "/catalog.jsonld", "portal_type"):
        assert tried in text


def test_portal_type_forces_the_kind(sample_portal):
    with SamplePortal(catalog_factory=turtle_catalog, ckan_api=False) as portal:
        with pytest.raises(NotCKANError, match="No es un portal CKAN"):
            open_source(portal.url + "/catalogo.ttl", _cfg(portal_type="ckan"))
    with pytest.raises(NotACatalogError, match="No es un catálogo DCAT"):
        open_source(sample_portal.url, _cfg(portal_type="dcat"))
    source, info = open_source(sample_portal.url, _cfg())  # auto: the sample CKAN portal
    source.close()
    assert info.kind == "ckan" and info.version


def _statuses(store, portal_url: str) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    from audit.store import AuditRun, Portal

    out: dict[str, dict[str, str]] = defaultdict(dict)
    with store.session() as s:
        run_id = s.scalar(select(AuditRun.id).join(Portal).where(Portal.url == portal_url)
                          .order_by(AuditRun.id.desc()))
        rows = s.execute(select(DatasetSnapshot.ckan_id, RuleResultRecord.characteristic, RuleResultRecord.status)
                         .join(RuleResultRecord, RuleResultRecord.dataset_snapshot_id == DatasetSnapshot.id)
                         .where(DatasetSnapshot.run_id == run_id))
        for key, characteristic, status in rows:
            out[key][characteristic] = status
    return dict(out)


@needs_real
def test_datosgobar_as_data_json_scores_like_the_same_catalogue_behind_a_ckan_api(metadata_audit_cfg, tmp_path):
    """The real datos.gob.ar data.json, served as is and as a CKAN API holding the same records: the same ten
    statuses for each of its 70 datasets."""
    doc = load_datajson()
    with SamplePortal(catalog_factory=datajson_catalog(doc), ckan_api=False) as dcat_portal, \
            SamplePortal(catalog_factory=ckan_catalog_from_datajson(doc)) as ckan_portal:
        cfg = metadata_audit_cfg(dcat_portal.url)
        store = open_store(cfg.database_url)
        dcat_url = dcat_portal.url + "/data.json"
        first = run_audit(cfg, store, portal_url=dcat_url, out_dir=tmp_path / "dcat")
        second = run_audit(cfg.model_copy(update={"portal_url": ckan_portal.url}), store,
                           portal_url=ckan_portal.url, out_dir=tmp_path / "ckan")
    assert first.status == second.status == "complete"
    assert first.counts["crawl_mode"] == "dcat" and second.counts["crawl_mode"] == "package_search"
    via_dcat, via_ckan = _statuses(store, dcat_url), _statuses(store, ckan_portal.url)
    assert len(via_dcat) == 70 and set(via_dcat) == set(doc_id["identifier"] for doc_id in doc["dataset"])
    differences = {k: {c: (via_dcat[k][c], via_ckan[k].get(c)) for c in via_dcat[k]
                       if via_dcat[k][c] != via_ckan[k].get(c)} for k in via_dcat}
    assert {k: v for k, v in differences.items() if v} == {}
    # not trivially uniform: the planted broken links, the licences and the frequencies differ between datasets
    for characteristic in ("accesibles", "libre_uso", "oportunos"):
        assert len({r[characteristic] for r in via_dcat.values()}) > 1, characteristic


def test_dcat_ap_turtle_catalogue_is_audited(metadata_audit_cfg, tmp_path):
    with SamplePortal(catalog_factory=turtle_catalog, ckan_api=False) as portal:
        url = portal.url + "/catalogo.ttl"
        cfg = metadata_audit_cfg(url)
        store = open_store(cfg.database_url)
        outcome = run_audit(cfg, store, portal_url=url)
    assert outcome.status == "complete"
    statuses = _statuses(store, url)
    assert len(statuses) == 3
    ingresos, obra = statuses["hgo-ingresos-2024"], statuses["hgo-obra-publica"]
    padron = next(v for k, v in statuses.items() if k.startswith("padron-de-proveedores-"))
    assert ingresos["libre_uso"] == "pass" and padron["libre_uso"] == "fail"  # CC BY vs CC BY-NC
    assert ingresos["accesibles"] == "pass" and obra["accesibles"] != "pass"  # one broken download link
    assert ingresos["oportunos"] == "pass"  # monthly, modified today
    scores = (outcome.out_dir / "datasets.csv").read_text(encoding="utf-8")
    assert "hgo-ingresos-2024" in scores and "Ingresos públicos 2024" in scores


class _StopAfter:
    """A stop event that fires after ``n`` checks (the crawl checks it before storing each page)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


@needs_real
def test_an_interrupted_dcat_crawl_resumes_without_duplicates(tmp_path):
    from audit.crawl import crawl_portal
    from audit.runs import StageInterrupted, create_run

    cfg = _cfg(crawl={"page_size": 20, "batch_size": 20})
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    with SamplePortal(catalog_factory=datajson_catalog(load_datajson()), ckan_api=False) as portal:
        source, info = open_source(portal.url + "/data.json", cfg)
        with closing(source):
            pid = store.get_or_create_portal(portal.url + "/data.json", info.title, info.version)
            run_id = create_run(store, pid, cfg)
            with pytest.raises(StageInterrupted):
                crawl_portal(store, run_id, cfg, source=source, stop=_StopAfter(2))  # type: ignore[arg-type]
            with store.session() as s:
                partial = s.query(DatasetSnapshot).filter_by(run_id=run_id).count()
            result = crawl_portal(store, run_id, cfg, source=source)
    assert partial == 40  # two pages of 20 stored before the stop
    assert result.datasets == 70 and result.mode == "dcat"
    with store.session() as s:
        names = [n for (n,) in s.execute(select(DatasetSnapshot.name).where(DatasetSnapshot.run_id == run_id))]
    assert len(names) == len(set(names)) == 70
