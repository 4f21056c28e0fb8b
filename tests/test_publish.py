"""Publishing the annual evaluation on the (sample) portal itself, through its real write API."""

from __future__ import annotations

import json

import ckanapi
import pytest
import requests

from audit.config import AuditConfig
from audit.errors import ConfigError, InputFileError, PortalResponseError
from audit.publish import publish_year
from audit.sample_portal import SamplePortal
from audit.store.db import open_store

YEAR = 2025
WRITES = {"package_create", "package_patch", "package_update", "resource_create", "resource_update"}


@pytest.fixture(scope="module")
def portal():
    with SamplePortal() as p:
        yield p


@pytest.fixture()
def store(tmp_path):
    st = open_store(f"sqlite:///{tmp_path / 'audit.db'}")
    yield st
    st.close()


@pytest.fixture()
def out_dir(tmp_path):
    """The contract files of an evaluated year, as the pipeline writes them."""
    base = tmp_path / "salida" / str(YEAR)
    (base / "reports").mkdir(parents=True)
    (base / "scores.csv").write_text("organization,dataset,characteristic,status,score,findings\n"
                                     "secretaria-de-salud,padron,accesibles,pass,1.0,\n", encoding="utf-8")
    (base / "organizations.csv").write_text("organization,datasets,score\nsecretaria-de-salud,1,1.0\n",
                                            encoding="utf-8")
    (base / "scores.json").write_text(json.dumps({"year": YEAR, "datasets": []}), encoding="utf-8")
    (base / "reports" / "portal.pdf").write_bytes(b"%PDF-1.4\n% informe de prueba\n%%EOF\n")
    (base / "dqv.ttl").write_text("@prefix dqv: <http://www.w3.org/ns/dqv#> .\n", encoding="utf-8")
    (base / "dqv.jsonld").write_text('{"@graph": []}\n', encoding="utf-8")
    return tmp_path / "salida"


def _cfg(organization: str | None = "secretaria-de-finanzas") -> AuditConfig:
    return AuditConfig.model_validate({"publish": {"organization": organization}, "http": {"retries": 0}})


def _writes(portal, since: int) -> list[str]:
    return [action for action, _ in portal.calls[since:] if action in WRITES]


def test_publish_creates_the_dataset_with_the_six_files_then_updates_idempotently(portal, store, out_dir):
    start = len(portal.calls)
    url = publish_year(store, _cfg(), year=YEAR, out_dir=out_dir, portal_url=portal.url, token=portal.token)
    assert url == f"{portal.url}/dataset/evaluacion-datos-abiertos-{YEAR}"
    assert _writes(portal, start) == ["package_create"] + ["resource_create"] * 6

    pkg = ckanapi.RemoteCKAN(portal.url).action.package_show(id=f"evaluacion-datos-abiertos-{YEAR}")
    assert pkg["title"] == f"Evaluación de datos abiertos {YEAR}"
    assert pkg["organization"]["name"] == "secretaria-de-finanzas"
    assert pkg["license_id"] == "cc-by-4.0"
    by_name = {r["name"]: r for r in pkg["resources"]}
    assert set(by_name) == {"scores.csv", "organizations.csv", "scores.json", "portal.pdf", "dqv.ttl", "dqv.jsonld"}
    assert by_name["portal.pdf"]["format"] == "PDF"
    assert (by_name["dqv.ttl"]["format"], by_name["dqv.jsonld"]["format"]) == ("RDF", "JSON-LD")
    served = requests.get(by_name["scores.csv"]["url"], timeout=10)
    assert served.status_code == 200
    assert served.content == (out_dir / str(YEAR) / "scores.csv").read_bytes()

    # second run, nothing changed: the dataset is patched, no file is uploaded again, nothing duplicated
    mark = len(portal.calls)
    assert publish_year(store, _cfg(), year=YEAR, out_dir=out_dir, portal_url=portal.url, token=portal.token) == url
    assert _writes(portal, mark) == ["package_patch"]

    # a file changed: only that resource is re-uploaded, in place
    (out_dir / str(YEAR) / "scores.csv").write_text("organization,dataset,characteristic,status,score,findings\n"
                                                    "secretaria-de-salud,padron,accesibles,fail,0.0,x\n")
    mark = len(portal.calls)
    publish_year(store, _cfg(), year=YEAR, out_dir=out_dir, portal_url=portal.url, token=portal.token)
    assert _writes(portal, mark) == ["package_patch", "resource_update"]
    pkg2 = ckanapi.RemoteCKAN(portal.url).action.package_show(id=f"evaluacion-datos-abiertos-{YEAR}")
    assert pkg2["id"] == pkg["id"] and len(pkg2["resources"]) == 6
    new = next(r for r in pkg2["resources"] if r["name"] == "scores.csv")
    assert new["id"] == by_name["scores.csv"]["id"]
    assert b",fail," in requests.get(new["url"], timeout=10).content


def test_publish_without_token_fails_cleanly_before_writing(portal, store, out_dir):
    mark = len(portal.calls)
    with pytest.raises(ConfigError, match="Falta el token de la API de CKAN") as info:
        publish_year(store, _cfg(), year=YEAR, out_dir=out_dir, portal_url=portal.url, token=None)
    assert "CKAN_API_TOKEN" in str(info.value)
    assert portal.calls[mark:] == []


def test_publish_with_a_rejected_token_is_a_clear_error(portal, store, out_dir):
    mark = len(portal.calls)
    with pytest.raises(PortalResponseError, match="rechazó el token") as info:
        publish_year(store, _cfg(), year=YEAR, out_dir=out_dir, portal_url=portal.url,
                     token="token-equivocado")
    assert info.value.exit_code == 3
    assert all(action in WRITES | {"package_show"} for action, _ in portal.calls[mark:])


def test_publish_refuses_when_the_year_was_not_evaluated(portal, store, tmp_path):
    with pytest.raises(InputFileError, match="Faltan archivos de la evaluación 2031"):
        publish_year(store, _cfg(), year=2031, out_dir=tmp_path / "vacio", portal_url=portal.url, token=portal.token)


def test_publish_to_an_unknown_organization_is_reported(portal, store, out_dir):
    with pytest.raises(PortalResponseError, match="rechazó los datos del conjunto") as info:
        publish_year(store, _cfg("no-existe"), year=YEAR, out_dir=out_dir, portal_url=portal.url + "/",
                     token=portal.token)
    assert "publish.organization" in str(info.value)
