"""A realistic audited store built directly in the database, for the dashboard's tests, screenshots and benchmark.

``build_sample_store(store, organizations=6, datasets=40, runs=2)`` inserts one portal, ``runs`` complete audit
runs (one per year, oldest first), organizations (one of them without datasets), datasets with resources, probes,
content checks, the ten rule results with findings, a manual review, commitments (matched, unmatched, and an
organization without any) and per-organization results computed the same way the dashboard computes them.
A few datasets carry hostile metadata (HTML/script, formula prefixes, right-to-left text, emoji, very long names).
Bulk inserts (SQLAlchemy Core) keep the 10,000-dataset benchmark store quick to build.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

import rules
from audit.outcomes import Outcome
from audit.store.db import Store
from audit.store.models import (
    AuditRun,
    CommitmentRecord,
    ContentCheck,
    DatasetSnapshot,
    ManualReview,
    OrganizationResult,
    OrganizationSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
    RunError,
)
from audit.web.data import CHARACTERISTICS, dataset_score
from rules._common import SharedCode

HOSTILE_TITLE = '<script>alert("xss")</script> Presupuesto <b>2026</b>'
HOSTILE_NOTES = '<img src=x onerror=alert(1)> Descripción con <a href="javascript:alert(1)">enlace</a> y file:///etc/passwd'
HOSTILE_ORG_TITLE = 'Secretaría "><svg onload=alert(1)> de Pruebas'
FORMULA_TITLE = '=HYPERLINK("http://evil.invalid","clic")'
RTL_TITLE = "بيانات مفتوحة ‮txt.exe 📊 Datos con emoji"

def _finding(characteristic: str) -> tuple[str, str, str]:
    """A reason code the rule really emits (its first that is not advisory): the sample speaks the registry's codes,
    so a rule added to the registry gets sample findings too."""
    rule = rules.RULES_BY_ID[characteristic]
    code = next((c for c in rule.codes or () if c not in rule.advisory_codes), SharedCode.SIN_DATOS_OBTENIBLES)
    return code, f"Hallazgo de ejemplo de «{rule.title_es}».", "Corrija lo señalado y vuelva a publicar el conjunto."


def _utc(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=UTC)


def build_sample_store(
    store: Store,
    *,
    organizations: int = 6,
    datasets: int = 40,
    runs: int = 2,
    first_year: int = 2025,
    seed: int = 7,
    portal_url: str = "http://127.0.0.1:5999",
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Insert the sample; returns ids and names the tests refer to."""
    rnd = random.Random(seed)
    weights = weights or {}
    n_orgs = max(2, organizations)
    org_names = [f"secretaria-{i:03d}" for i in range(n_orgs - 1)] + ["organizacion-sin-datos"]
    org_titles = {n: f"Secretaría número {i + 1}" for i, n in enumerate(org_names)}
    org_titles[org_names[0]] = "Secretaría de Finanzas"
    org_titles[org_names[1 % (n_orgs - 1)]] = HOSTILE_ORG_TITLE if n_orgs > 2 else org_titles[org_names[1]]
    org_titles["organizacion-sin-datos"] = "Organización sin conjuntos"
    data_orgs = org_names[:-1]

    with store.session() as s:
        portal = s.scalar(select(Portal).where(Portal.url == portal_url))
        if portal is None:
            portal = Portal(url=portal_url, title="Portal de Datos Abiertos del Estado de México (muestra)",
                            ckan_version="2.10", created_at=_utc(first_year, 1, 2))
            s.add(portal)
            s.flush()
        portal_id = portal.id

    # dataset catalogue (stable across runs); the last one of run 1 is retired in later runs
    catalogue = []
    for i in range(datasets):
        org = data_orgs[i % len(data_orgs)]
        title = f"Conjunto de datos {i:05d} de {org_titles[org]}"
        notes = "Registros administrativos publicados por la dependencia. " * 3
        if i == 0:
            title, notes = "Presupuesto de egresos 2026", "Presupuesto aprobado por capítulo de gasto, con detalle por unidad responsable."
        elif i == 1:
            title, notes = HOSTILE_TITLE, HOSTILE_NOTES
        elif i == 2:
            title = FORMULA_TITLE
        elif i == 3:
            title = RTL_TITLE + " " + "muy largo " * 40
        catalogue.append({"name": f"conjunto-{i:05d}", "title": title, "org": org, "notes": notes,
                          "ckan_id": f"ds-{i:05d}", "profile": rnd.random()})

    run_ids: list[int] = []
    for r in range(runs):
        year = first_year + r
        started = _utc(year, 11, 20) if r < runs - 1 else _utc(year, 11, 25)
        with store.session() as s:
            run = AuditRun(portal_id=portal_id, started_at=started, finished_at=started + timedelta(minutes=7, seconds=30),
                           status="complete", stage="report",
                           stages_done=["crawl", "probe", "content", "score", "report"], year=year, kind="manual",
                           config_digest="sample", counts={}, crawl_state={})
            s.add(run)
            s.flush()
            run_id = run.id
            run_ids.append(run_id)
            s.execute(insert(OrganizationSnapshot), [
                {"run_id": run_id, "ckan_id": f"org-{n}", "name": n, "title": org_titles[n], "package_count": 0, "raw": {}}
                for n in org_names
            ])
            s.add(RunError(run_id=run_id, stage="probe", subject="conjunto-00004/recurso-1", code="timeout",
                           message="Tiempo de espera agotado tras 3 reintentos.", created_at=started))
        listed = catalogue if r == 0 else catalogue[:-1]
        _insert_run_datasets(store, run_id, listed, started, rnd, weights, improve=r)
        if r > 0:  # the dataset that disappeared stays in the evaluation as retirado
            _insert_run_datasets(store, run_id, catalogue[-1:], started, rnd, weights, improve=r, retired=True)
        _insert_org_results(store, run_id, org_names, org_titles, weights, year)
        with store.session() as s:
            run_obj = s.get(AuditRun, run_id)
            assert run_obj is not None
            run_obj.counts = {"datasets": len(listed), "resources": 2 * len(listed), "organizations": len(org_names),
                              "errors": 1}

    # a manual review overriding one automatic result in the latest run
    with store.session() as s:
        review = ManualReview(portal_id=portal_id, dataset_name="conjunto-00000", characteristic="primarios",
                              status="pass", justification="La dependencia es la fuente original; revisado en sitio.",
                              reviewer="Evaluadora DGSEI", review_date=date(first_year + runs - 1, 11, 24),
                              loaded_at=_utc(first_year + runs - 1, 11, 24))
        s.add(review)
        s.flush()
        ds_id = s.scalar(select(DatasetSnapshot.id).where(DatasetSnapshot.run_id == run_ids[-1],
                                                          DatasetSnapshot.name == "conjunto-00000"))
        rr = s.scalar(select(RuleResultRecord).where(RuleResultRecord.dataset_snapshot_id == ds_id,
                                                     RuleResultRecord.characteristic == "primarios"))
        if rr is not None:
            rr.automatic_status, rr.status, rr.score, rr.manual_review_id = rr.status, "pass", 1.0, review.id
    return {"portal_id": portal_id, "runs": run_ids, "organizations": org_names, "empty_organization": org_names[-1],
            "datasets": [c["name"] for c in catalogue], "hostile_dataset": "conjunto-00001",
            "retired_dataset": catalogue[-1]["name"] if runs > 1 else None}


def _statuses(profile: float, i: int, improve: int) -> dict[str, tuple[str, float]]:
    """Deterministic, varied statuses: a dataset's profile decides how good it is; later runs improve a bit."""
    out: dict[str, tuple[str, float]] = {}
    for k, c in enumerate(CHARACTERISTICS):
        x = (profile * 7.31 + k * 0.137 + i * 0.011) % 1.0 - 0.08 * improve
        if c == "permanentes" and improve == 0:
            out[c] = ("not_applicable", 0.0)
        elif x < 0.55:
            out[c] = ("pass", 1.0)
        elif x < 0.75:
            out[c] = ("partial", 0.5)
        else:
            out[c] = ("fail", 0.0)
    return out


def _insert_run_datasets(store: Store, run_id: int, items: list[dict[str, Any]], when: datetime, rnd: random.Random,
                         weights: dict[str, float], *, improve: int, retired: bool = False) -> None:
    chunk = 1000
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        with store.session() as s:
            ds_rows = [
                {"run_id": run_id, "ckan_id": d["ckan_id"], "name": d["name"], "title": d["title"],
                 "organization_name": d["org"], "private": False, "state": "active",
                 "presence": "retired" if retired else "listed", "license_id": "cc-by",
                 "metadata_created": when - timedelta(days=400), "metadata_modified": when - timedelta(days=30),
                 "num_resources": 0 if retired else 2, "raw": {"notes": d["notes"]}}
                for d in part
            ]
            s.execute(insert(DatasetSnapshot), ds_rows)
            ids = dict(s.execute(select(DatasetSnapshot.name, DatasetSnapshot.id).where(
                DatasetSnapshot.run_id == run_id, DatasetSnapshot.name.in_([d["name"] for d in part]))).all())
            res_rows, rr_rows = [], []
            for idx, d in enumerate(part):
                ds_id = ids[d["name"]]
                if not retired:
                    for pos, fmt in enumerate(("CSV", "PDF")):
                        res_rows.append({"run_id": run_id, "dataset_snapshot_id": ds_id, "ckan_id": f"{d['ckan_id']}-r{pos}",
                                         "position": pos, "name": f"Recurso {pos + 1} ({fmt})",
                                         "description": "Archivo de datos" if pos == 0 else "Nota metodológica",
                                         "url": f"http://127.0.0.1:5999/dataset/{d['name']}/recurso-{pos}.{fmt.lower()}",
                                         "format": fmt, "last_modified": when - timedelta(days=20), "created": when,
                                         "raw": {}})
                st = ({c: ("not_applicable", 0.0) for c in CHARACTERISTICS} | {"permanentes": ("fail", 0.0)}
                      if retired else _statuses(d["profile"], start + idx, improve))
                for c, (status, score) in st.items():
                    findings = []
                    if retired and c == "permanentes":
                        findings = [{"code": SharedCode.RETIRADO, "message_es": "El conjunto fue retirado del portal.",
                                     "remediation_es": "Vuelva a publicar el conjunto o explique su baja.",
                                     "resource": None, "observed": None, "manual_review": False}]
                    elif status in ("fail", "partial"):
                        code, msg, fix = _finding(c)
                        findings = [{"code": code, "message_es": msg, "remediation_es": fix,
                                     "resource": "Recurso 1 (CSV)", "observed": "404" if c == "accesibles" else None,
                                     "manual_review": c == "primarios"}]
                    rr_rows.append({"run_id": run_id, "dataset_snapshot_id": ds_id, "characteristic": c,
                                    "status": status, "score": score, "findings": findings, "evidence": {},
                                    "automatic_status": None, "manual_review_id": None, "error": None})
            if res_rows:
                s.execute(insert(ResourceSnapshot), res_rows)
                res_ids = s.execute(select(ResourceSnapshot.id, ResourceSnapshot.format, ResourceSnapshot.ckan_id).where(
                    ResourceSnapshot.run_id == run_id, ResourceSnapshot.dataset_snapshot_id.in_(list(ids.values())))).all()
                probe_rows: list[dict[str, Any]] = []
                check_rows: list[dict[str, Any]] = []
                for rid, res_format, ckan_id in res_ids:
                    # deterministic defects: the CSV of every 7th dataset (from the 5th) answers 404
                    res_key = str(ckan_id)
                    ok = not (res_key.endswith("-r0") and int(res_key[3:8]) % 7 == 4)
                    probe_rows.append({"run_id": run_id, "resource_snapshot_id": rid,
                                       "outcome": (Outcome.OK if ok else Outcome.NOT_FOUND).value, "reason": None if ok else "http_404",
                                       "status_code": 200 if ok else 404, "final_url": None, "redirects": [],
                                       "content_type": "text/csv" if res_format == "CSV" else "application/pdf",
                                       "sniffed_type": str(res_format).lower() if ok else None, "bytes_read": 2048 if ok else 0,
                                       "truncated": False, "elapsed_ms": 35.0, "not_modified": False,
                                       "checked_at": when})
                    if res_format == "CSV" and ok:
                        check_rows.append({"run_id": run_id, "resource_snapshot_id": rid, "sha256": None,
                                           "parsed_ok": True, "reused": False, "rows": 1200, "columns": 8,
                                           "encoding": "utf-8", "delimiter": ",", "details": {"problems": []},
                                           "expectations": {"success": True}, "checked_at": when})
                s.execute(insert(Probe), probe_rows)
                if check_rows:
                    s.execute(insert(ContentCheck), check_rows)
            s.execute(insert(RuleResultRecord), rr_rows)


def _insert_org_results(store: Store, run_id: int, org_names: list[str], titles: dict[str, str],
                        weights: dict[str, float], year: int) -> None:
    with store.session() as s:
        per_ds: dict[int, dict[str, tuple[str, float]]] = {}
        org_of: dict[int, tuple[str | None, str]] = {}
        for ds_id, org, name in s.execute(select(DatasetSnapshot.id, DatasetSnapshot.organization_name,
                                                 DatasetSnapshot.name).where(DatasetSnapshot.run_id == run_id)):
            org_of[ds_id] = (org, name)
            per_ds[ds_id] = {}
        for ds_id, c, status, score in s.execute(select(RuleResultRecord.dataset_snapshot_id,
                                                        RuleResultRecord.characteristic, RuleResultRecord.status,
                                                        RuleResultRecord.score).where(RuleResultRecord.run_id == run_id)):
            per_ds[ds_id][c] = (status, score)
        commit_rows = []
        results = []
        for k, org in enumerate(org_names):
            mine = [i for i, (o, _) in org_of.items() if o == org]
            scored = [dataset_score(per_ds[i], weights) for i in mine]
            scores = [sc for sc, _ in scored if sc is not None]
            pct = {}
            for c in CHARACTERISTICS:
                app = [per_ds[i][c][0] for i in mine if per_ds[i].get(c, ("not_applicable",))[0] != "not_applicable"]
                pct[c] = round(100.0 * sum(1 for x in app if x == "pass") / len(app), 1) if app else None
            committed = published = 0
            if k % 3 != 2 and mine:  # every third organization has no commitments registered
                names = sorted(org_of[i][1] for i in mine)[:4]
                for j, name in enumerate(names):
                    pub = j != 3
                    commit_rows.append({"run_id": run_id, "organization_key": titles[org], "dataset_key": name,
                                        "due_date": date(year, 6, 30), "organization_name": org,
                                        "matched_dataset": name if pub else None, "committed": True,
                                        "published": pub, "conforme": j == 0})
                    committed += 1
                    published += int(pub)
                commit_rows.append({"run_id": run_id, "organization_key": titles[org],
                                    "dataset_key": "Padrón de proveedores (comprometido, no publicado)",
                                    "due_date": date(year, 9, 30), "organization_name": org, "matched_dataset": None,
                                    "committed": True, "published": False, "conforme": False})
                committed += 1
            results.append({"run_id": run_id, "organization_name": org, "title": titles[org], "datasets": len(mine),
                            "score": round(sum(scores) / len(scores), 4) if scores else None,
                            "conformes": sum(1 for _, conf in scored if conf), "characteristic_pct": pct,
                            "committed": committed, "published": published,
                            "progress_pct": round(100.0 * published / committed, 1) if committed else None,
                            "quality_progress_pct": round(100.0 * sum(1 for r in commit_rows if r["organization_name"] == org and r["conforme"]) / committed, 1) if committed else None})
        s.execute(insert(OrganizationResult), results)
        if commit_rows:
            s.execute(insert(CommitmentRecord), commit_rows)
