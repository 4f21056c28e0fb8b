"""The store on SQLite and PostgreSQL: migrations, transactions, clear errors."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from audit.errors import StoreError
from audit.store import AuditRun, DatasetSnapshot, Portal, open_store
from audit.store.db import utcnow


def test_migrations_create_schema_and_are_idempotent(db_url):
    store = open_store(db_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"portal", "audit_run", "dataset_snapshot", "resource_snapshot", "probe", "rule_result",
            "alembic_version"} <= tables
    store.close()
    again = open_store(db_url)  # second start: nothing to do, nothing lost
    assert set(inspect(again.engine).get_table_names()) == tables
    again.close()


def test_failed_transaction_leaves_nothing_behind(db_url):
    store = open_store(db_url)
    pid = store.get_or_create_portal("http://127.0.0.1:1", "Portal")
    with pytest.raises(RuntimeError):
        with store.session() as s:
            run = AuditRun(portal_id=pid, started_at=utcnow(), status="running", counts={}, crawl_state={},
                           stages_done=[])
            s.add(run)
            s.flush()
            s.add(DatasetSnapshot(run_id=run.id, ckan_id="a", name="a", raw={}))
            raise RuntimeError("killed mid-batch")
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(DatasetSnapshot)) == 0
        assert s.scalar(select(func.count()).select_from(AuditRun)) == 0
        assert s.scalar(select(func.count()).select_from(Portal)) == 1
    store.close()


def test_unique_run_dataset_constraint_prevents_duplicates(db_url):
    store = open_store(db_url)
    pid = store.get_or_create_portal("http://127.0.0.1:1")
    with store.session() as s:
        run = AuditRun(portal_id=pid, started_at=utcnow(), status="running", counts={}, crawl_state={}, stages_done=[])
        s.add(run)
        s.flush()
        run_id = run.id
        s.add(DatasetSnapshot(run_id=run_id, ckan_id="x", name="x", raw={}))
    with pytest.raises(StoreError):
        with store.session() as s:
            s.add(DatasetSnapshot(run_id=run_id, ckan_id="x", name="x", raw={}))
    store.close()


def test_unwritable_sqlite_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="No se puede"):
        open_store(f"sqlite:///{blocker}/sub/audit.db")


def test_invalid_database_url_is_a_clear_error():
    with pytest.raises(StoreError, match="URL de base de datos inválida"):
        open_store("esto no es una url")


def test_unreachable_postgres_is_a_clear_error():
    with pytest.raises(StoreError, match="No se puede abrir la base de datos"):
        open_store("postgresql+psycopg://postgres@127.0.0.1:1/nada?connect_timeout=2")
