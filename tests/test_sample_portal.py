"""The embedded sample CKAN portal, exercised with UNMODIFIED ckanapi and plain requests over real HTTP."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import ckanapi
import pytest
import requests

from audit.evidence import Outcome
from audit.sample_portal import EXPECTED, EXPECTED_PROBE_OUTCOMES, SamplePortal, build_edomex_catalog
from audit.sample_portal.edomex import EMPTY_ORGANIZATION
from audit.sample_portal.expected import CHARACTERISTICS
from audit.sample_portal.files import synthetic_rows

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def portal():
    with SamplePortal() as p:
        yield p


@pytest.fixture
def fresh_portal():
    with SamplePortal() as p:
        yield p


@pytest.fixture
def ckan(portal):
    return ckanapi.RemoteCKAN(portal.url)


# ------------------------------------------------------------------------------------------------ read API
def test_status_show_identifies_ckan_2_10(ckan, portal):
    status = ckan.action.status_show()
    assert status["ckan_version"] == "2.10.4"
    assert status["site_url"] == portal.url
    assert "Estado de México" in status["site_title"]


def test_package_search_pages_through_all_69_datasets_with_a_stable_sort(ckan):
    seen = []
    start = 0
    while True:
        page = ckan.action.package_search(rows=7, start=start, sort="metadata_created asc, id asc")
        assert page["count"] == 69
        if not page["results"]:
            break
        seen += [d["name"] for d in page["results"]]
        start += 7
    assert len(seen) == 69 == len(set(seen))
    created = [ckan.action.package_show(id=n)["metadata_created"] for n in seen[:5]]
    assert created == sorted(created)


def test_package_search_result_has_ckan_keys_and_envelope(portal):
    body = requests.get(f"{portal.url}/api/3/action/package_search", params={"rows": 2}, timeout=5).json()
    assert body["success"] is True and body["help"].endswith("name=package_search")
    result = body["result"]
    assert set(result) == {"count", "results", "sort", "facets", "search_facets"}
    pkg = result["results"][0]
    for key in ("id", "name", "title", "notes", "state", "private", "type", "license_id", "license_title",
                "maintainer", "maintainer_email", "author", "metadata_created", "metadata_modified", "organization",
                "groups", "tags", "extras", "resources", "num_resources", "num_tags"):
        assert key in pkg, key
    res = pkg["resources"][0]
    for key in ("id", "package_id", "name", "description", "format", "url", "url_type", "last_modified", "created",
                "position", "mimetype", "size", "datastore_active", "state"):
        assert key in res, key


def test_package_search_sorts_by_name_both_ways(ckan):
    asc = [d["name"] for d in ckan.action.package_search(rows=1000, sort="name asc")["results"]]
    desc = [d["name"] for d in ckan.action.package_search(rows=1000, sort="name desc")["results"]]
    assert asc == sorted(asc) and desc == asc[::-1]


def test_package_search_filters_by_organization_group_format_and_name(ckan):
    fin = ckan.action.package_search(fq="organization:secretaria-de-finanzas", rows=100)
    assert fin["count"] == 5 and all(d["organization"]["name"] == "secretaria-de-finanzas" for d in fin["results"])
    salud = ckan.action.package_search(fq="groups:salud", rows=100)
    assert salud["count"] > 0 and all("salud" in [g["name"] for g in d["groups"]] for d in salud["results"])
    xls = ckan.action.package_search(fq='res_format:".XLS"', rows=100)
    assert [d["name"] for d in xls["results"]] == ["unidades-economicas"]
    one = ckan.action.package_search(fq="name:vivienda-social")
    assert one["count"] == 1
    combined = ckan.action.package_search(fq="organization:secretaria-de-salud groups:poblacion")
    assert [d["name"] for d in combined["results"]] == ["defunciones-resumen-anual"]


def test_package_search_q_matches_title_notes_and_tags_ignoring_accents(ckan):
    assert ckan.action.package_search(q="dengue")["count"] == 1
    assert ckan.action.package_search(q="areas naturales")["results"][0]["name"] == "areas-naturales-protegidas"
    assert ckan.action.package_search(q="*:*")["count"] == 69
    assert ckan.action.package_search(q="zzzz-nada")["count"] == 0


def test_package_search_fl_returns_only_requested_fields(ckan):
    res = ckan.action.package_search(fl="id,name", rows=3)["results"]
    assert all(set(r) == {"id", "name"} for r in res)


def test_package_search_rejects_bad_sort_like_ckan(ckan):
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(sort="nonsense_field asc")


def test_package_search_facets_by_organization(ckan):
    res = ckan.action.package_search(rows=0, **{"facet.field": ["organization"]})
    assert res["facets"]["organization"]["secretaria-de-finanzas"] == 5
    assert EMPTY_ORGANIZATION not in res["facets"]["organization"]


def test_package_show_by_name_and_id_and_404_raises_not_found(ckan):
    by_name = ckan.action.package_show(id="vivienda-social")
    assert ckan.action.package_show(id=by_name["id"])["name"] == "vivienda-social"
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-existe")


def test_not_found_envelope_has_ckan_shape(portal):
    r = requests.get(f"{portal.url}/api/3/action/package_show", params={"id": "no-existe"}, timeout=5)
    assert r.status_code == 404
    assert r.json()["success"] is False
    assert r.json()["error"] == {"__type": "Not Found Error", "message": "Not found"}


def test_unknown_action_answers_400_bad_request_like_ckan(portal):
    r = requests.post(f"{portal.url}/api/action/no_such_action", json={}, timeout=5)
    assert r.status_code == 400
    assert r.json()["error"]["__type"] == "Bad request - Action name not known: no_such_action"


def test_package_list_pages_with_limit_and_offset(ckan):
    names = ckan.action.package_list()
    assert len(names) == 69 and names == sorted(names)
    assert ckan.action.package_list(limit=10, offset=60) == names[60:]


def test_organization_list_includes_the_organization_without_datasets(ckan):
    orgs = ckan.action.organization_list(all_fields=True)
    assert len(orgs) == 18
    counts = {o["name"]: o["package_count"] for o in orgs}
    assert counts[EMPTY_ORGANIZATION] == 0
    assert sum(counts.values()) == 69
    assert len(ckan.action.organization_list()) == 18
    assert ckan.action.organization_list(all_fields=True, limit=5, offset=15)[0]["name"] == orgs[15]["name"]
    assert ckan.action.organization_show(id=EMPTY_ORGANIZATION)["package_count"] == 0


def test_group_list_and_show(ckan):
    groups = ckan.action.group_list(all_fields=True)
    assert len(groups) == 22 and all("package_count" in g for g in groups)
    assert len(ckan.action.group_list()) == 22
    assert ckan.action.group_show(id="salud")["title"] == "Salud"


def test_license_list_has_the_portal_licences(ckan):
    ids = {lic["id"] for lic in ckan.action.license_list()}
    assert {"cc-by-4.0", "cc-by-sa-4.0", "odc-odbl", "cc-nc", "other-closed", "notspecified",
            "mx-terminos-libre-uso"} <= ids


def test_tag_list(ckan):
    assert "dengue" in ckan.action.tag_list()


def test_get_and_post_and_both_api_prefixes_answer_the_same(portal):
    a = requests.get(f"{portal.url}/api/3/action/package_show?id=vivienda-social", timeout=5).json()["result"]
    b = requests.post(f"{portal.url}/api/action/package_show", json={"id": "vivienda-social"}, timeout=5)
    c = requests.post(f"{portal.url}/api/3/action/package_show", data={"id": "vivienda-social"}, timeout=5)
    assert a["id"] == b.json()["result"]["id"] == c.json()["result"]["id"]


def test_calls_are_recorded_in_order(fresh_portal):
    ck = ckanapi.RemoteCKAN(fresh_portal.url)
    ck.action.status_show()
    ck.action.package_search(rows=3, start=6)
    assert [a for a, _ in fresh_portal.calls] == ["status_show", "package_search"]
    assert fresh_portal.calls[1][1] == {"rows": 3, "start": 6}


# ------------------------------------------------------------------------------------------------ faults
def test_fault_429_with_retry_after_is_visible_to_requests(fresh_portal):
    fresh_portal.faults.add(action="package_search", status=429, retry_after=1)
    url = f"{fresh_portal.url}/api/3/action/package_search"
    first = requests.get(url, timeout=5)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert requests.get(url, timeout=5).status_code == 200


def test_fault_503_times_then_success(fresh_portal):
    fresh_portal.faults.add(action="package_search", status=503, times=2)
    ck = ckanapi.RemoteCKAN(fresh_portal.url)
    for _ in range(2):
        with pytest.raises(ckanapi.CKANAPIError):
            ck.action.package_search()
    assert ck.action.package_search()["count"] == 69


def test_fault_html_500_and_malformed_json(fresh_portal):
    fresh_portal.faults.add(action="package_search", html_500=True)
    fresh_portal.faults.add(action="package_show", malformed_json=True)
    r = requests.get(f"{fresh_portal.url}/api/3/action/package_search", timeout=5)
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/html")
    r = requests.get(f"{fresh_portal.url}/api/3/action/package_show?id=vivienda-social", timeout=5)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_fault_delay_triggers_a_client_read_timeout(fresh_portal):
    fresh_portal.faults.add(action="status_show", delay=1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{fresh_portal.url}/api/3/action/status_show", timeout=0.3)
    fresh_portal.faults.clear()
    assert len(fresh_portal.faults) == 0


def test_fault_match_only_hits_calls_with_those_params(fresh_portal):
    fresh_portal.faults.add(action="package_search", status=503, match={"start": "14"})
    ck = ckanapi.RemoteCKAN(fresh_portal.url)
    assert ck.action.package_search(rows=7, start=7)["results"]
    with pytest.raises(ckanapi.CKANAPIError):
        ck.action.package_search(rows=7, start=14)


def test_on_call_hook_mutates_the_catalogue_before_the_nth_answer(fresh_portal):
    fresh_portal.on_call("package_search", nth=2, callback=lambda cat: cat.delete_dataset("vivienda-social"))
    ck = ckanapi.RemoteCKAN(fresh_portal.url)
    assert ck.action.package_search()["count"] == 69
    assert ck.action.package_search()["count"] == 68
    fresh_portal.catalog.add_dataset({"name": "conjunto-nuevo", "title": "Nuevo", "owner_org": "igecem"})
    assert ck.action.package_search(fq="organization:igecem")["count"] == 6


def test_disabled_action_answers_like_an_unknown_action(fresh_portal):
    fresh_portal.disable_action("package_search")
    ck = ckanapi.RemoteCKAN(fresh_portal.url)
    with pytest.raises(ckanapi.CKANAPIError) as err:
        ck.action.package_search()
    assert "Action name not known" in str(err.value)
    assert len(ck.action.package_list()) == 69


# ------------------------------------------------------------------------------------------------ write API
def test_write_actions_require_the_token(fresh_portal):
    url = f"{fresh_portal.url}/api/3/action/package_create"
    assert requests.post(url, json={"name": "x-y"}, timeout=5).status_code == 401
    wrong = requests.post(url, json={"name": "x-y"}, headers={"Authorization": "malo"}, timeout=5)
    assert wrong.status_code == 403 and wrong.json()["error"]["__type"] == "Authorization Error"
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(fresh_portal.url).action.package_create(name="x-y")
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(fresh_portal.url, apikey="malo").action.package_create(name="x-y")


def test_publish_flow_create_patch_upload_and_update(fresh_portal):
    ck = ckanapi.RemoteCKAN(fresh_portal.url, apikey=fresh_portal.token)
    pkg = ck.action.package_create(name="evaluacion-datos-abiertos-2025", title="Evaluación 2025",
                                   owner_org="secretaria-de-finanzas", license_id="cc-by-4.0")
    assert pkg["organization"]["name"] == "secretaria-de-finanzas"
    with pytest.raises(ckanapi.ValidationError):
        ck.action.package_create(name="evaluacion-datos-abiertos-2025")
    res = ck.action.resource_create(package_id=pkg["id"], name="scores.csv", format="CSV",
                                    upload=("scores.csv", io.BytesIO(b"a,b\n1,2\n")))
    assert res["url_type"] == "upload" and res["url"].endswith("/download/scores.csv")
    assert requests.get(res["url"], timeout=5).content == b"a,b\n1,2\n"
    updated = ck.action.resource_update(id=res["id"], name="scores.csv", format="CSV",
                                        upload=("scores.csv", io.BytesIO(b"a,b\n3,4\n")))
    assert requests.get(updated["url"], timeout=5).content == b"a,b\n3,4\n"
    link = ck.action.resource_create(package_id=pkg["id"], name="enlace", url="http://example.invalid/x.csv")
    assert link["url"] == "http://example.invalid/x.csv"
    patched = ck.action.package_patch(id=pkg["id"], notes="Resultados anuales.")
    assert patched["notes"] == "Resultados anuales." and patched["num_resources"] == 2
    full = ck.action.package_update(**{**patched, "title": "Evaluación anual 2025"})
    assert full["title"] == "Evaluación anual 2025" and len(full["resources"]) == 2
    public = ckanapi.RemoteCKAN(fresh_portal.url)
    assert public.action.package_show(id="evaluacion-datos-abiertos-2025")["title"] == "Evaluación anual 2025"
    assert public.action.package_search()["count"] == 70


def test_package_create_with_unknown_organization_is_a_validation_error(fresh_portal):
    ck = ckanapi.RemoteCKAN(fresh_portal.url, apikey=fresh_portal.token)
    with pytest.raises(ckanapi.ValidationError):
        ck.action.package_create(name="otro-conjunto", owner_org="no-existe")


# ------------------------------------------------------------------------------------------------ synthetic
def test_synthetic_portal_serves_n_datasets_fast_and_deterministically():
    with SamplePortal(synthetic=10_000) as p:
        ck = ckanapi.RemoteCKAN(p.url)
        t = time.perf_counter()
        first = ck.action.package_search(rows=1000, start=0, sort="metadata_created asc, id asc")
        last = ck.action.package_search(rows=1000, start=9500, sort="metadata_created asc, id asc")
        elapsed = time.perf_counter() - t
        assert first["count"] == 10_000 and len(first["results"]) == 1000 and len(last["results"]) == 500
        assert elapsed < 3
        capped = ck.action.package_search(rows=5000)
        assert len(capped["results"]) == 1000
        d = first["results"][10]
        assert ck.action.package_show(id=d["id"]) == d
        assert 1 <= d["num_resources"] <= 3
        orgs = ck.action.organization_list(all_fields=True, limit=1000)
        assert len(orgs) == 25  # CKAN caps all_fields listings at 25 per call
        assert len(ck.action.organization_list(limit=1000)) == 200
        assert len(ck.action.package_list(limit=50, offset=9990)) == 10
        # the smallest file of the first page: 1,000–100,000 rows, a function of n
        url = min((r["url"] for pkg in first["results"] for r in pkg["resources"]),
                  key=lambda u: synthetic_rows(int(urlsplit(u).path.rsplit("/", 1)[1].split(".")[0])))
        assert urlsplit(url).path.startswith("/files/synthetic/")
        n = int(urlsplit(url).path.rsplit("/", 1)[1].split(".")[0])
        assert requests.get(url, timeout=10).content.count(b"\n") == synthetic_rows(n) + 1
        assert 1_000 <= synthetic_rows(n) <= 100_000
    with SamplePortal(synthetic=10_000) as q:
        again = ckanapi.RemoteCKAN(q.url).action.package_search(rows=1, start=10, sort="metadata_created asc")
        assert again["results"][0]["id"] == d["id"]


def test_synthetic_id_only_listing_matches_the_full_documents():
    with SamplePortal(synthetic=2_500) as p:
        ck = ckanapi.RemoteCKAN(p.url)
        sort = "metadata_created asc, id asc"
        full = ck.action.package_search(rows=1000, start=1500, sort=sort)
        cheap = ck.action.package_search(rows=1000, start=1500, sort=sort, fl="id,name,type")
        assert cheap["count"] == full["count"] == 2_500
        assert cheap["results"] == [{"id": d["id"], "name": d["name"], "type": d["type"]} for d in full["results"]]
        with_title = ck.action.package_search(rows=2, start=1500, sort=sort, fl="id,title")  # not cheap: generic path
        assert with_title["results"][0] == {"id": full["results"][0]["id"], "title": full["results"][0]["title"]}


def test_synthetic_catalogue_can_lose_and_gain_datasets_mid_crawl():
    with SamplePortal(synthetic=300) as p:
        ck = ckanapi.RemoteCKAN(p.url)
        victim = ck.action.package_search(rows=1, start=5, sort="name asc")["results"][0]
        p.catalog.delete_dataset(victim["name"])
        p.catalog.add_dataset({"name": "agregado-a-media-corrida", "owner_org": "dependencia-001"})
        page = ck.action.package_search(rows=1000, sort="metadata_created asc, id asc")
        names = [r["name"] for r in page["results"]]
        assert page["count"] == 300 and victim["name"] not in names and names[-1] == "agregado-a-media-corrida"
        with pytest.raises(ckanapi.NotFound):
            ck.action.package_show(id=victim["name"])


def test_synthetic_sorts_descending_and_filters():
    with SamplePortal(synthetic=500) as p:
        ck = ckanapi.RemoteCKAN(p.url)
        desc = ck.action.package_search(rows=3, sort="name desc")["results"]
        assert [r["name"] for r in desc] == ["conjunto-sintetico-000499", "conjunto-sintetico-000498",
                                             "conjunto-sintetico-000497"]
        org = ck.action.package_search(fq="organization:dependencia-007", rows=10)
        assert org["count"] == 3


# ------------------------------------------------------------------------------------------------ resources
LOGIN_WORDS = ("login", "signin", "sign-in", "iniciar-sesion", "registro", "register", "sso", "auth", "acceso")
PAYMENT_WORDS = ("pago", "pagar", "checkout", "carrito", "tienda", "payment", "comprar")


def classify(url: str) -> str:
    """A plain-requests reading of the probe taxonomy (what an anonymous citizen's browser would get)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return Outcome.UNSUPPORTED_SCHEME
    try:
        r = requests.get(url, timeout=10, allow_redirects=True)
    except requests.ConnectionError as exc:
        return Outcome.DNS_ERROR if parts.hostname.endswith(".invalid") else f"connection_error: {exc}"
    text = r.text.lower() if "html" in r.headers.get("Content-Type", "") else ""
    if r.status_code == 401 or any(w in urlsplit(r.url).path.lower() for w in ("/user/login",)):
        return Outcome.AUTH_REQUIRED
    if r.status_code == 403 and 'type="password"' in text:
        return Outcome.AUTH_REQUIRED
    if r.status_code == 403 and not r.headers.get("WWW-Authenticate"):
        return Outcome.CLIENT_ERROR  # a bare 403: unreachable, no sign of registration
    if r.status_code == 402:
        return Outcome.PAYMENT_REQUIRED
    if r.status_code in (404, 410):
        return Outcome.NOT_FOUND
    if r.status_code >= 500:
        return Outcome.SERVER_ERROR
    if r.status_code == 200 and not r.content:
        return Outcome.EMPTY
    if r.status_code == 200 and text:
        return Outcome.LANDING_PAGE
    return Outcome.OK if r.status_code == 200 else f"http_{r.status_code}"


def test_every_resource_url_answers_as_expected_probe_outcomes(portal):
    urls = [r["url"] for d in portal.catalog.iter_datasets() for r in d["resources"]]
    keys = set()
    for url in urls:
        key = urlsplit(url).path if url.startswith(portal.url) else url
        keys.add(key)
        assert classify(url) == EXPECTED_PROBE_OUTCOMES[key], url
    assert keys == set(EXPECTED_PROBE_OUTCOMES)
    assert {str(o) for o in Outcome} >= set(EXPECTED_PROBE_OUTCOMES.values())


def test_reachable_resource_urls_carry_no_login_or_payment_words(portal):
    for key, outcome in EXPECTED_PROBE_OUTCOMES.items():
        if outcome == "ok":
            low = key.lower()
            assert not any(w in low for w in LOGIN_WORDS + PAYMENT_WORDS), key


def test_files_are_real_formats_with_last_modified_of_the_resource(portal):
    pkg = portal.catalog.get_dataset("unidades-economicas")
    r = requests.get(pkg["resources"][0]["url"], timeout=5)
    assert r.content[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # OLE2: legacy XLS
    from email.utils import parsedate_to_datetime

    stale = portal.catalog.get_dataset("vivienda-social")  # three years old
    head = requests.get(portal.catalog.get_dataset("infracciones-de-transito")["resources"][0]["url"], timeout=5)
    assert parsedate_to_datetime(head.headers["Last-Modified"]) < datetime.now(UTC) - timedelta(days=600)
    again = requests.get(head.url, headers={"If-None-Match": head.headers["ETag"]}, timeout=5)
    assert again.status_code == 304
    # planted freshness traps: Last-Modified stamped with the time of every request on unchanged content …
    stamped = requests.get(portal.catalog.get_dataset("residuos-solidos-municipales")["resources"][0]["url"], timeout=5)
    assert parsedate_to_datetime(stamped.headers["Last-Modified"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert stamped.content == requests.get(stamped.url, timeout=5).content
    # … and a file generated on every request: the same records, a «generado» column with the moment of the download
    one, two = (requests.get(stale["resources"][0]["url"], timeout=5).content for _ in range(2))
    assert one != two and one.splitlines()[0].endswith(b",generado")
    assert [line.rsplit(b",", 1)[0] for line in one.splitlines()] == [line.rsplit(b",", 1)[0] for line in two.splitlines()]
    xlsx = requests.get(portal.catalog.get_dataset("centros-de-verificacion-vehicular")["resources"][0]["url"],
                        timeout=5)
    assert xlsx.content[:2] == b"PK" and b"xl/workbook.xml" in xlsx.content
    pdf = requests.get(portal.catalog.get_dataset("camaras-de-videovigilancia")["resources"][0]["url"], timeout=5)
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["Content-Type"].startswith("text/csv")


def test_tabular_files_parse_with_pandas(portal):
    import pandas as pd

    for name, kwargs in (("participaciones-federales-a-municipios", {"sep": ";", "encoding": "cp1252"}),
                         ("produccion-agricola", {"encoding": "latin-1"}),
                         ("ingresos-estatales-mensuales", {})):
        url = portal.catalog.get_dataset(name)["resources"][0]["url"]
        df = pd.read_csv(io.BytesIO(requests.get(url, timeout=5).content), **kwargs)
        assert len(df) == 300 and "cve_mun" in df.columns
    url = portal.catalog.get_dataset("matricula-escolar")["resources"][0]["url"]
    assert len(pd.read_excel(io.BytesIO(requests.get(url, timeout=5).content))) == 200


# ------------------------------------------------------------------------------------------------ catalogue + oracle
def test_catalogue_has_18_organizations_22_groups_69_datasets():
    cat = build_edomex_catalog("http://127.0.0.1:9")
    assert len(cat.organizations) == 18 and len(cat.groups) == 22
    assert cat.dataset_count() == 69
    assert cat.package_count_by("organization").get(EMPTY_ORGANIZATION, 0) == 0


def test_catalogue_dates_are_relative_to_the_start_time_and_ids_stable():
    then = datetime(2030, 6, 1, tzinfo=UTC)
    a = build_edomex_catalog("http://127.0.0.1:9", now=then)
    b = build_edomex_catalog("http://127.0.0.1:9", now=then + timedelta(days=365))
    pa, pb = a.get_dataset("residuos-solidos-municipales"), b.get_dataset("residuos-solidos-municipales")
    assert pa["id"] == pb["id"]
    lm = datetime.fromisoformat(pa["resources"][0]["last_modified"]).replace(tzinfo=UTC)
    assert (then - lm).days == 3 * 365
    assert a.files["/files/ingresos-estatales-mensuales/ingresos.csv"].data() == \
        b.files["/files/ingresos-estatales-mensuales/ingresos.csv"].data()


def test_expected_oracle_names_real_datasets_and_valid_statuses():
    cat = build_edomex_catalog("http://127.0.0.1:9")
    assert set(EXPECTED) <= {d["name"] for d in cat.iter_datasets()}
    for name, statuses in EXPECTED.items():
        assert set(statuses) <= set(CHARACTERISTICS), name
        assert set(statuses.values()) <= {"pass", "partial", "fail", "not_applicable"}, name
        assert statuses["permanentes"] == "not_applicable", name
    conforming = [n for n, s in EXPECTED.items() if len(s) == 10 and
                  all(v == "pass" for c, v in s.items() if c != "permanentes")]
    assert len(conforming) >= 20
    for characteristic in CHARACTERISTICS:
        if characteristic != "permanentes":
            assert any(s.get(characteristic) == "fail" for s in EXPECTED.values()), characteristic


def test_python_m_sample_portal_prints_its_url_and_serves():
    proc = subprocess.Popen([sys.executable, "-m", "audit.sample_portal", "--synthetic", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert ckanapi.RemoteCKAN(url).action.package_search()["count"] == 50
    finally:
        proc.terminate()
        proc.wait(10)


def test_demo_commitments_inventory_refers_to_this_catalogue():
    from audit.sample_portal import (
        DEMO_COMMITMENTS_CSV,
        EXPECTED_PROGRESS,
        EXPECTED_UNMATCHED,
        demo_commitments_csv,
    )
    from audit.sample_portal.commitments import demo_commitments_rows

    rows = list(csv.DictReader(io.StringIO(DEMO_COMMITMENTS_CSV)))
    assert list(rows[0]) == ["organization", "dataset", "due_date"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r["due_date"]) for r in rows)
    assert demo_commitments_csv(2031).count("2031-") > 5
    cat = build_edomex_catalog("http://127.0.0.1:9")
    assert set(EXPECTED_PROGRESS) <= set(cat.organizations)
    assert sum(c for c, _ in EXPECTED_PROGRESS.values()) == sum(
        1 for _, _, due in demo_commitments_rows(2031) if due <= "2031-12-31")
    assert all(org in cat.organizations for org, _ in EXPECTED_UNMATCHED)
