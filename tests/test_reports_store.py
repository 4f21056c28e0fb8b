"""A realistic store for the report tests and benchmarks, built directly with the store models.

``populate(store, orgs=…, datasets_per_org=…, years=(2025, 2026))`` inserts a portal, one complete run per year,
organizations (one of them always without datasets), datasets with hostile metadata (HTML/script, very long
names, emoji, right-to-left text, ``file://`` and remote image links), resources, probes, rule results with
findings, a manual review, organization results, commitments (matched and unmatched), run errors and, in the
latest run, content checks with agency-suite and data-dictionary results (see ``suite_checks``).
Bulk inserts keep 200 × 50 datasets fast enough for the benchmark.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from audit.store import models as m
from audit.store.db import Store, open_store
from reports.model import dataset_score
from rules import CHARACTERISTICS

PORTAL_URL = "http://127.0.0.1:5999"
PORTAL_TITLE = "Portal de Datos Abiertos del Estado de México"

HOSTILE_SUITE = '<script>alert("suite")</script> Suite «hostil»'
HOSTILE_VALUE = '<img src=x onerror=alert(3)> valor'
HOSTILE_TITLE = '<script>alert("xss")</script> Padrón <b>vehicular</b> 🚗📊 بيانات مفتوحة'
HOSTILE_NOTES = (
    'Anexo \u202egpj.exe (una marca de derecha a izquierda lo mostraría al revés). '
    'Descripción con <img src="file:///etc/passwd"> y <img src="http://example.invalid/track.png"> '
    '<link rel="stylesheet" href="http://example.invalid/x.css"><style>@import url(file:///etc/shadow);</style> '
    "![imagen](http://example.invalid/md.png) texto en árabe: مرحبا بالعالم — y emoji 🎉."
)
LONG_NAME = "conjunto-" + "muy-largo-" * 24 + "fin"
LONG_TITLE = "Estadísticas de " + "incidencia delictiva municipal desagregada " * 8 + "(título larguísimo)"

ORG_SAMPLES = [
    ("secretaria-de-finanzas", "Secretaría de Finanzas"),
    ("secretaria-del-medio-ambiente", "Secretaría del Medio Ambiente"),
    ("secretaria-de-salud", "Secretaría de Salud"),
    ("secretaria-de-educacion", "Secretaría de Educación, Ciencia, Tecnología e Innovación"),
    ("secretaria-de-movilidad", "Secretaría de Movilidad"),
    ("secretaria-de-seguridad", "Secretaría de Seguridad"),
    ("secretaria-del-trabajo", "Secretaría del Trabajo"),
    ("secretaria-de-desarrollo-economico", "Secretaría de Desarrollo Económico"),
    ("secretaria-del-campo", "Secretaría del Campo"),
    ("secretaria-de-cultura-y-turismo", "Secretaría de Cultura y Turismo"),
    ("secretaria-de-obra-publica", "Secretaría de Obra Pública"),
    ("secretaria-de-las-mujeres", "Secretaría de las Mujeres"),
    ("secretaria-de-bienestar", "Secretaría de Bienestar"),
    ("igecem", "Instituto de Información e Investigación Geográfica, Estadística y Catastral (IGECEM)"),
    ("caem", "Comisión del Agua del Estado de México"),
    ("issemym", "Instituto de Seguridad Social del Estado de México y Municipios"),
    ("organo-hostil", '<script>alert(1)</script> Órgano «hostil» 🚀 منظمة'),
    ("organo-sin-conjuntos", "Órgano Técnico sin Conjuntos Publicados"),
]

FINDINGS = {
    "accesibles": ("resource_not_found", "El recurso responde 404 (no encontrado).",
                   "Corrija la URL del recurso o vuelva a subir el archivo.", "404"),
    "integrales": ("short_description", "La descripción del conjunto tiene menos de 100 caracteres.",
                   "Amplíe la descripción: qué contiene, cómo se generó y qué periodo cubre.", "42 caracteres"),
    "gratuitos": ("payment_required", "El recurso lleva a una página de pago.",
                  "Retire el cobro: los datos abiertos se descargan sin pago.", "402"),
    "no_discriminatorios": ("login_required", "El recurso pide iniciar sesión para descargarlo.",
                            "Publique el archivo sin requerir registro ni inicio de sesión.", "401"),
    "oportunos": ("stale", "La última actualización fue hace 400 días y la frecuencia declarada es mensual.",
                  "Actualice el conjunto según su frecuencia declarada o corrija la frecuencia.", "400 días"),
    "permanentes": ("resource_removed", "Un recurso publicado en la evaluación anterior ya no está disponible.",
                    "Restituya las versiones anteriores del recurso con identificadores estables.", None),
    "primarios": ("summary_rows", "El archivo contiene filas de totales (datos agregados).",
                  "Publique los datos a nivel de registro, sin filas de totales ni subtotales.", "Total"),
    "legibles_por_maquinas": ("not_machine_readable", "El recurso es un PDF, que no se procesa automáticamente.",
                              "Publique también el archivo en CSV.", "pdf"),
    "formatos_abiertos": ("proprietary_format", "El recurso está en XLS, un formato propietario.",
                          "Publique también el archivo en CSV.", "xls"),
    "libre_uso": ("license_not_specified", "El conjunto no declara una licencia.",
                  "Asigne la licencia CC BY 4.0 o los Términos de Libre Uso MX.", "notspecified"),
}


@dataclass
class Built:
    store: Store
    url: str
    portal_id: int
    runs: dict[int, int]  # year → run id
    org_names: list[str]
    empty_org: str


def _org_list(n: int) -> list[tuple[str, str]]:
    if n <= len(ORG_SAMPLES):
        # keep the hostile and the empty organization whatever n is
        base = ORG_SAMPLES[: max(n - 2, 0)] + ORG_SAMPLES[-2:]
        return base[:n] if n >= 2 else ORG_SAMPLES[-1:]
    extra = [(f"organismo-{i:03d}", f"Organismo Descentralizado Número {i}") for i in range(n - len(ORG_SAMPLES))]
    return ORG_SAMPLES[:-1] + extra + ORG_SAMPLES[-1:]


def populate(
    store: Store,
    *,
    orgs: int = 5,
    datasets_per_org: int = 4,
    years: tuple[int, ...] = (2025, 2026),
    hostile: bool = True,
    seed: int = 7,
    suites: bool = True,
) -> Built:
    rnd = random.Random(seed)
    org_list = _org_list(orgs)
    empty = org_list[-1][0]
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    portal_id = store.get_or_create_portal(PORTAL_URL, PORTAL_TITLE, "2.10")
    runs: dict[int, int] = {}
    for yi, year in enumerate(years):
        first = yi == 0
        started = now - timedelta(days=365 * (len(years) - 1 - yi))
        growth = 0.6 if first and len(years) > 1 else 1.0  # earlier years had fewer datasets and organizations
        with store.session() as s:
            run = m.AuditRun(portal_id=portal_id, started_at=started, finished_at=started + timedelta(minutes=12),
                             status="complete", year=year, kind="annual", stages_done=["crawl", "probe", "score"],
                             counts={})
            s.add(run)
            s.flush()
            rid = run.id
            runs[year] = rid
            active_orgs = org_list if not first or len(years) == 1 else org_list[: max(2, int(len(org_list) * 0.6))] + [org_list[-1]]
            s.execute(insert(m.OrganizationSnapshot), [
                {"run_id": rid, "name": n, "title": t, "package_count": 0 if n == empty else datasets_per_org, "raw": {}}
                for n, t in dict(active_orgs).items()
            ])
            s.execute(insert(m.GroupSnapshot), [
                {"run_id": rid, "name": g, "title": g.title(), "package_count": 3, "raw": {}}
                for g in ("economia", "medio-ambiente", "salud", "seguridad", "educacion")[: 3 + (0 if first else 2)]
            ])
            ds_rows = []
            for oname, _t in active_orgs:
                if oname == empty:
                    continue
                n_ds = max(1, int(datasets_per_org * growth))
                for di in range(n_ds):
                    name = f"{oname}-conjunto-{di:03d}"
                    title = f"Conjunto {di + 1} de {_t}"
                    notes = "Registro administrativo con periodicidad mensual, desagregado por municipio y fecha. " * 2
                    if hostile and oname == "organo-hostil":
                        if di == 0:
                            title, notes = HOSTILE_TITLE, HOSTILE_NOTES
                        elif di == 1:
                            name, title = LONG_NAME, LONG_TITLE
                    ds_rows.append({
                        "run_id": rid, "ckan_id": f"{oname}-{di}", "name": name, "title": title,
                        "organization_name": oname, "private": False, "state": "active", "presence": "listed",
                        "license_id": "cc-by-4.0", "metadata_created": started - timedelta(days=400),
                        "metadata_modified": started - timedelta(days=20), "num_resources": 2,
                        "raw": {"notes": notes, "name": name, "title": title},
                    })
            if not first and hostile:
                ds_rows.append({
                    "run_id": rid, "ckan_id": "retirado-1", "name": f"{org_list[0][0]}-conjunto-retirado",
                    "title": "Padrón histórico retirado del portal", "organization_name": org_list[0][0],
                    "private": False, "state": "deleted", "presence": "retired", "license_id": None,
                    "metadata_created": None, "metadata_modified": None, "num_resources": 0, "raw": {},
                })
            s.execute(insert(m.DatasetSnapshot), ds_rows)
            ds = list(s.execute(select(m.DatasetSnapshot.id, m.DatasetSnapshot.name, m.DatasetSnapshot.organization_name,
                                       m.DatasetSnapshot.presence).where(m.DatasetSnapshot.run_id == rid)))
            res_rows = []
            for ds_id, name, _org, presence in ds:
                if presence != "listed":
                    continue
                for pos, fmt in enumerate(("CSV", "PDF")):
                    url = f"{PORTAL_URL}/files/{name}/{pos}.{fmt.lower()}"
                    res_rows.append({"run_id": rid, "dataset_snapshot_id": ds_id, "ckan_id": f"{ds_id}-{pos}",
                                     "position": pos, "name": f"Archivo {pos + 1} ({fmt})", "description": "Datos",
                                     "url": url, "format": fmt, "raw": {}})
            s.execute(insert(m.ResourceSnapshot), res_rows)
            res_ids = list(s.scalars(select(m.ResourceSnapshot.id).where(m.ResourceSnapshot.run_id == rid)))
            if suites and yi == len(years) - 1:
                first_csv = list(s.execute(
                    select(m.ResourceSnapshot.id, m.DatasetSnapshot.name, m.DatasetSnapshot.organization_name)
                    .join(m.DatasetSnapshot, m.DatasetSnapshot.id == m.ResourceSnapshot.dataset_snapshot_id)
                    .where(m.ResourceSnapshot.run_id == rid, m.ResourceSnapshot.position == 0)
                    .order_by(m.DatasetSnapshot.name)))
                checks = suite_checks(first_csv, org_list[0][0], hostile=hostile)
                if checks:
                    s.execute(insert(m.ContentCheck), [{"run_id": rid, "checked_at": started, **c} for c in checks])
            outcomes = ["ok"] * 8 + ["not_found", "auth_required", "landing_page", "timeout"]
            s.execute(insert(m.Probe), [
                {"run_id": rid, "resource_snapshot_id": r, "outcome": rnd.choice(outcomes), "status_code": 200,
                 "bytes_read": 100, "checked_at": started, "redirects": []}
                for r in res_ids
            ])
            # rule results: quality depends on the organization, so rankings spread out
            quality = {o: 0.99 - 0.6 * (i / max(len(active_orgs) - 1, 1)) for i, (o, _t) in enumerate(active_orgs)}
            quality["organo-hostil"] = 0.3
            if first:  # the organizations improved since last year
                quality = {o: q - 0.1 for o, q in quality.items()}
            rr_rows = []
            cells_by_ds: dict[int, dict[str, tuple[str, float | None]]] = {}
            for ds_id, name, org, presence in ds:
                cells: dict[str, tuple[str, float | None]] = {}
                for cid in CHARACTERISTICS:
                    if presence != "listed":
                        status, score = ("fail", 0.0) if cid == "permanentes" else ("not_applicable", 0.0)
                    elif cid == "permanentes" and first:
                        status, score = "not_applicable", 0.0
                    else:
                        x = rnd.random()
                        q = quality.get(org or "", 0.5)
                        status, score = ("pass", 1.0) if x < q else ("partial", 0.5) if x < q + (1 - q) / 2 else ("fail", 0.0)
                    cells[cid] = (status, score if status != "not_applicable" else None)
                    findings = []
                    if status in ("partial", "fail"):
                        code, msg, fix, observed = FINDINGS[cid]
                        findings.append({"code": code, "message_es": msg, "remediation_es": fix,
                                         "resource": f"{PORTAL_URL}/files/{name}/1.pdf", "observed": observed,
                                         "manual_review": cid == "primarios"})
                    if presence != "listed" and cid == "permanentes":
                        findings = [{"code": "dataset_retired", "message_es": "El conjunto fue retirado del portal.",
                                     "remediation_es": "Vuelva a publicar el conjunto o justifique su retiro.",
                                     "resource": None, "observed": None, "manual_review": False}]
                    if hostile and org == "organo-hostil" and cid == "integrales" and status != "pass":
                        findings.append({"code": "hostile", "message_es": "Valor observado con <script>alert(2)</script>",
                                         "remediation_es": "Corrija el <b>título</b>.", "resource": HOSTILE_TITLE,
                                         "observed": '<img src="file:///etc/passwd">', "manual_review": False})
                    rr_rows.append({"run_id": rid, "dataset_snapshot_id": ds_id, "characteristic": cid, "status": status,
                                    "score": score, "findings": findings, "evidence": {}})
                cells_by_ds[ds_id] = cells
            s.execute(insert(m.RuleResultRecord), rr_rows)
            # one manual review overriding an automatic result
            target = next((d for d in ds if d[3] == "listed"), None)
            if target is not None and not first:
                review = m.ManualReview(portal_id=portal_id, dataset_name=target[1], characteristic="primarios",
                                        status="pass", justification="La dependencia es la fuente original; se verificó "
                                        "el registro administrativo.", reviewer="Evaluadora DGSEI",
                                        review_date=date(year, 10, 15), loaded_at=started)
                s.add(review)
                s.flush()
                rec = s.scalar(select(m.RuleResultRecord).where(
                    m.RuleResultRecord.dataset_snapshot_id == target[0], m.RuleResultRecord.characteristic == "primarios"))
                assert rec is not None
                rec.automatic_status, rec.status, rec.score, rec.manual_review_id = rec.status, "pass", 1.0, review.id
                cells_by_ds[target[0]]["primarios"] = ("pass", 1.0)
            # commitments: two per organization (one matched and published, one unmatched), none for some
            com_rows = []
            for oi, (oname, _t) in enumerate(active_orgs):
                if oi % 3 == 2 and oname != empty:
                    continue  # "sin compromisos registrados"
                mine = [d for d in ds if d[2] == oname and d[3] == "listed"]
                if mine:
                    com_rows.append({"run_id": rid, "organization_key": _t, "dataset_key": mine[0][1],
                                     "due_date": date(year, 6, 30), "organization_name": oname,
                                     "matched_dataset": mine[0][1], "committed": True, "published": True,
                                     "conforme": all(c[0] in ("pass", "not_applicable") for c in cells_by_ds[mine[0][0]].values())})
                com_rows.append({"run_id": rid, "organization_key": _t, "dataset_key": f"Padrón de beneficiarios {oi} – año {year}",
                                 "due_date": date(year, 11, 30), "organization_name": oname, "matched_dataset": None,
                                 "committed": True, "published": False, "conforme": False})
            if com_rows:
                s.execute(insert(m.CommitmentRecord), com_rows)
            # organization results (what the indicator stage writes)
            org_rows = []
            for oname, title in active_orgs:
                ids = [d[0] for d in ds if d[2] == oname]
                listed = [d[0] for d in ds if d[2] == oname and d[3] == "listed"]
                scores = [dataset_score(cells_by_ds[i], None) for i in ids]
                vals = [sc for sc, _c in scores if sc is not None]
                pct = {}
                for cid in CHARACTERISTICS:
                    app = [cells_by_ds[i][cid][0] for i in ids if cells_by_ds[i][cid][0] != "not_applicable"]
                    pct[cid] = round(100.0 * app.count("pass") / len(app), 1) if app else None
                coms = [c for c in com_rows if c["organization_name"] == oname and c["committed"]]
                published = sum(1 for c in coms if c["published"])
                org_rows.append({
                    "run_id": rid, "organization_name": oname, "title": title, "datasets": len(listed),
                    "score": (sum(vals) / len(vals)) if vals else None, "conformes": sum(1 for _sc, c in scores if c),
                    "characteristic_pct": pct, "committed": len(coms), "published": published,
                    "progress_pct": round(100.0 * published / len(coms), 1) if coms else None,
                    "quality_progress_pct": round(100.0 * sum(1 for c in coms if c["conforme"]) / len(coms), 1) if coms else None,
                })
            s.execute(insert(m.OrganizationResult), org_rows)
            s.execute(insert(m.RunError), [
                {"run_id": rid, "stage": "probe", "subject": "recurso-x", "code": "timeout",
                 "message": "Tiempo agotado", "created_at": started},
            ])
    return Built(store=store, url=str(store.engine.url), portal_id=portal_id, runs=runs,
                 org_names=[o for o, _t in org_list], empty_org=empty)


def _suite(name: str, source: str, results: list[dict], invalid: list[dict] | None = None) -> dict:
    """A suite result in the shape the content stage stores (``audit.content.expectations.run_suite``)."""
    failed = [r for r in results if not r["success"]]
    success = not failed and not any(i.get("error") == "column_missing" for i in invalid or [])
    return {"name": name, "source": source, "success": success,
            "statistics": {"evaluated_expectations": len(results), "successful_expectations": len(results) - len(failed),
                           "unsuccessful_expectations": len(failed)},
            "results": results, "failed": failed, "invalid": invalid or []}


def _expectation(etype: str, kwargs: dict, success: bool = True, result: dict | None = None, meta: dict | None = None) -> dict:
    return {"type": etype, "kwargs": kwargs, "success": success, "result": result or {}, "meta": meta or {}}


def suite_checks(resources: list[tuple[int, str, str | None]], suite_org: str, *, hostile: bool = True) -> list[dict]:
    """ContentCheck rows (without run_id/checked_at) for the first CSV of each dataset.

    Every dataset's first CSV passes the built-in suite and its data dictionary, except ``suite_org``'s first
    dataset (by name), whose file lacks two dictionary fields and fails its agency suite (values outside the allowed
    set, a column the file lacks); its second dataset passes its suite. The hostile organization's first dataset
    fails a suite whose name, column, note and unexpected values are HTML.
    """
    rows = []
    seen: dict[str | None, int] = {}
    for rid, _name, org in resources:
        nth = seen[org] = seen.get(org, -1) + 1
        builtin = _suite("builtin", "builtin", [_expectation("expect_table_row_count_to_be_between", {"min_value": 1})])
        dict_ok = not (org == suite_org and nth == 0)
        dictionary = _suite("diccionario_de_datos", "dictionary", [_expectation(
            "expect_table_columns_to_match_set", {"column_set": ["folio", "fecha", "monto", "cve_mun"], "exact_match": False},
            dict_ok, {} if dict_ok else {"observed_value": ["folio", "fecha"],
                                         "details": {"mismatched": {"unexpected": [], "missing": ["monto", "cve_mun"]}}},
            {"check": "dictionary_columns"})])
        agency: list[dict] = []
        if org == suite_org and nth == 0:
            agency.append(_suite("padron-beneficiarios", "agency", [
                _expectation("expect_column_values_to_not_be_null", {"column": "folio"}),
                _expectation("expect_column_values_to_be_in_set", {"column": "cve_ent", "value_set": ["15"]}, False,
                             {"element_count": 300, "unexpected_count": 12, "unexpected_percent": 4.0,
                              "partial_unexpected_list": ["09", "9", "09", "MEX", "Edomex"]},
                             {"nota": "Sólo registros del Estado de México"}),
                _expectation("expect_column_values_to_not_be_null", {"column": "curp"}, False),
            ], [{"index": 3, "type": "expect_column_values_to_not_be_null", "column": "curp", "error": "column_missing"}]))
        elif org == suite_org and nth == 1:
            agency.append(_suite("montos-validos", "agency", [
                _expectation("expect_column_values_to_be_between", {"column": "monto", "min_value": 0, "max_value": 50000}),
            ]))
        elif hostile and org == "organo-hostil" and nth == 0:
            agency.append(_suite(HOSTILE_SUITE, "agency", [
                _expectation("expect_column_values_to_be_in_set", {"column": "<b>col</b>", "value_set": ["<i>a</i>"]}, False,
                             {"element_count": 10, "unexpected_count": 1, "unexpected_percent": 10.0,
                              "partial_unexpected_list": [HOSTILE_VALUE]}, {"nota": "<script>alert(4)</script>"}),
            ]))
        suites_ = [builtin, dictionary, *agency]
        rows.append({
            "resource_snapshot_id": rid, "parsed_ok": True, "reused": False, "rows": 300, "columns": 5,
            "details": {"parsed_ok": True, "dictionary_conformance": dict_ok,
                        "agency_success": all(a["success"] for a in agency) if agency else None},
            "expectations": {"success": all(x["success"] for x in suites_), "failed": [], "suites": suites_,
                             "sample_rows": 300},
        })
    return rows


def open_populated(db_url: str, **kwargs: object) -> Built:
    return populate(open_store(db_url), **kwargs)  # type: ignore[arg-type]


def test_populate_builds_two_years_with_an_empty_organization(tmp_path):
    built = open_populated(f"sqlite:///{tmp_path / 'r.db'}", orgs=5, datasets_per_org=3)
    with built.store.session() as s:
        assert set(built.runs) == {2025, 2026}
        cur = built.runs[2026]
        orgs = set(s.scalars(select(m.OrganizationSnapshot.name).where(m.OrganizationSnapshot.run_id == cur)))
        assert built.empty_org in orgs and "organo-hostil" in orgs
        with_ds = set(s.scalars(select(m.DatasetSnapshot.organization_name).where(m.DatasetSnapshot.run_id == cur)))
        assert built.empty_org not in with_ds
        assert s.scalar(select(m.DatasetSnapshot.title).where(m.DatasetSnapshot.name == LONG_NAME)) == LONG_TITLE
