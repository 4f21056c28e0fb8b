"""Duplicate datasets across organizations: same file, or near-identical title with the same columns."""

from __future__ import annotations

import hashlib

from audit.duplicates import find_duplicates
from audit.store.db import open_store, utcnow
from audit.store.models import AuditRun, ContentCheck, DatasetSnapshot, Portal, Probe, ResourceSnapshot


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


#: organization, dataset, title, content of its file, columns of its table
DATASETS = [
    ("finanzas", "ingresos-2025", "Ingresos 2025", "ingresos", ["fecha", "concepto", "monto"]),
    ("planeacion", "ingresos-estatales", "Ingresos estatales", "ingresos", ["fecha", "concepto", "monto"]),
    ("bienestar", "padron-beneficiarios-2025", "Padrón de Beneficiarios 2025", "padron-a", ["folio", "municipio", "apoyo"]),
    ("desarrollo-social", "padron-2025", "Padron de beneficiarios 2025.", "padron-b", ["Folio", "Municipio", "Apoyo"]),
    ("salud", "presupuesto-2025", "Presupuesto 2025", "pres-a", ["capitulo", "monto"]),
    ("educacion", "presupuesto-2025-sep", "Presupuesto 2025", "pres-b", ["partida", "unidad", "monto"]),
    ("movilidad", "rutas", "Rutas", "rutas", ["ruta", "origen"]),
    ("movilidad", "rutas-copia", "Rutas (copia)", "rutas", ["ruta", "origen"]),  # same organization: not listed
    # agencies share templates of documentation and land on the same error page: neither is shared data
    ("cultura", "museos", "Museos", "plantilla-diccionario", ["campo", "tipo"]),
    ("turismo", "hoteles", "Hoteles", "plantilla-diccionario", ["campo", "tipo"]),
    ("agua", "pozos", "Pozos", "<html>portal</html>", ["x", "y"]),
    ("campo", "granos", "Granos", "<html>portal</html>", ["x", "y"]),
]
RESOURCE_NAMES = {"museos": "Diccionario de datos", "hoteles": "Diccionario de datos"}
SNIFFED = {"pozos": "html", "granos": "html"}


def _store(tmp_path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.session() as s:
        portal = Portal(url="http://127.0.0.1:9", title="p", created_at=utcnow())
        s.add(portal)
        s.flush()
        run = AuditRun(portal_id=portal.id, started_at=utcnow(), status="complete", year=2026)
        s.add(run)
        s.flush()
        for org, name, title, content, columns in DATASETS:
            ds = DatasetSnapshot(run_id=run.id, ckan_id=name, name=name, title=title, organization_name=org, raw={})
            s.add(ds)
            s.flush()
            res = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, position=0, url=f"http://x/{name}.csv",
                                   name=RESOURCE_NAMES.get(name), raw={})
            s.add(res)
            s.flush()
            s.add(Probe(run_id=run.id, resource_snapshot_id=res.id, outcome="ok", sha256=_sha(content),
                        sniffed_type=SNIFFED.get(name, "csv"), checked_at=utcnow()))
            if name in SNIFFED:
                continue
            s.add(ContentCheck(run_id=run.id, resource_snapshot_id=res.id, sha256=_sha(content), parsed_ok=True,
                               details={"parsed_ok": True, "column_kinds": {c: "text" for c in columns}},
                               expectations={}, checked_at=utcnow()))
    return store, run.id


def test_same_file_and_near_identical_title_with_same_columns_are_listed_across_organizations(tmp_path):
    store, run_id = _store(tmp_path)
    groups = {(g.reason, tuple(d.name for d in g.datasets)) for g in find_duplicates(store, run_id)}
    assert groups == {
        ("same_file", ("ingresos-2025", "ingresos-estatales")),
        ("same_title_and_columns", ("padron-beneficiarios-2025", "padron-2025")),
    }


def test_same_title_alone_or_same_organization_is_not_a_duplicate(tmp_path):
    store, run_id = _store(tmp_path)
    names = {d.name for g in find_duplicates(store, run_id) for d in g.datasets}
    assert not names & {"presupuesto-2025", "presupuesto-2025-sep", "rutas", "rutas-copia", "museos", "hoteles",
                        "pozos", "granos"}


def test_one_file_committed_by_two_organizations_counts_for_both_but_is_flagged(tmp_path):
    from datetime import date

    from audit.duplicates import flag_shared_files
    from audit.indicator import Commitment, CommitmentOutcome

    store, run_id = _store(tmp_path)

    def outcome(org: str, ds: str, published: bool = True) -> CommitmentOutcome:
        return CommitmentOutcome(Commitment(org, ds, date(2026, 6, 30)), org, True, ds, published, False)

    flagged = flag_shared_files([outcome("finanzas", "ingresos-2025"), outcome("planeacion", "ingresos-estatales"),
                                 outcome("salud", "presupuesto-2025")], find_duplicates(store, run_id))
    assert [o.published for o in flagged] == [True, True, True]
    assert "mismo archivo que «ingresos-estatales» de planeacion" in (flagged[0].issue or "")
    assert "mismo archivo que «ingresos-2025» de finanzas" in (flagged[1].issue or "")
    assert flagged[2].issue is None
    # not flagged when the other organization's dataset is not itself a published commitment
    alone = flag_shared_files([outcome("finanzas", "ingresos-2025")], find_duplicates(store, run_id))
    assert alone[0].issue is None
