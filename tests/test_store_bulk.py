"""bulk_insert stores exactly what a Core insert stores (its SQLite path bypasses SQLAlchemy's per-row handling)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import Table, insert, select

from audit.store import AuditRun, DatasetSnapshot, open_store
from audit.store.bulk import bulk_insert
from audit.store.db import utcnow


def _rows(run_id: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"run_id": run_id, "ckan_id": f"{prefix}-{i}", "name": f"{prefix}-{i}", "title": "Población «2024» ñ" if i else None,
         "organization_name": None, "private": bool(i % 2), "state": "active", "presence": "listed",
         "license_id": "cc-by-4.0", "num_resources": i,
         "metadata_created": datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC) if i else None,
         "metadata_modified": datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=-6))),
         "raw": {"id": i, "extras": [{"key": "año", "value": 1.5}], "nested": {"x": None}}}
        for i in range(3)
    ]


def _stored(store: Any, run_id: int, prefix: str) -> list[tuple[Any, ...]]:
    with store.session() as s:
        snaps = s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id,
                                                        DatasetSnapshot.ckan_id.startswith(prefix))
                          .order_by(DatasetSnapshot.ckan_id)).all()
        return [(d.ckan_id.split("-", 1)[1], d.title, d.private, d.num_resources, d.metadata_created,
                 d.metadata_modified, d.raw) for d in snaps]


def test_bulk_insert_stores_what_core_insert_stores(db_url):
    store = open_store(db_url)
    pid = store.get_or_create_portal("http://127.0.0.1:1", "Portal")
    with store.session() as s:
        run = AuditRun(portal_id=pid, started_at=utcnow(), status="running", counts={}, crawl_state={},
                       stages_done=[])
        s.add(run)
        s.flush()
        run_id = run.id
        table = cast(Table, DatasetSnapshot.__table__)
        bulk_insert(s, table, _rows(run_id, "bulk"))
        s.execute(insert(table), _rows(run_id, "core"))
        bulk_insert(s, table, [])  # nothing to do
    bulk, core = _stored(store, run_id, "bulk"), _stored(store, run_id, "core")
    assert len(bulk) == 3 and bulk == core
    assert bulk[1][1] == "Población «2024» ñ" and bulk[1][2] is True and bulk[0][4] is None
    assert bulk[1][6]["extras"][0] == {"key": "año", "value": 1.5}
    store.close()
