"""Bulk inserts of plain rows (the crawl writes ~30,000 rows per 10,000 datasets)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` every row (all with the same keys) in the session's transaction.

    On SQLite the statement is compiled once and each row goes through the columns' bind processors straight into
    the driver's ``executemany``: SQLAlchemy's per-row parameter handling cost about as much as SQLite itself. Other
    databases (and rows that leave a Python-side default to SQLAlchemy) take the Core path, which batches them.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    needs_default = {c.key for c in table.c if c.default is not None} - set(keys)
    if dialect.name != "sqlite" or dialect.paramstyle != "qmark" or needs_default:
        session.execute(insert(table), rows)
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    order = compiled.positiontup or []
    procs = [table.c[k].type._cached_bind_processor(dialect) for k in order]
    columns = list(zip(order, procs, strict=True))
    params = [tuple(proc(row[k]) if proc is not None else row[k] for k, proc in columns) for row in rows]
    conn.exec_driver_sql(compiled.string, params)
