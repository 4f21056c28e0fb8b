"""Opening the store: engine, sessions and automatic Alembic migrations."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit.errors import StoreError
from audit.store.models import Portal

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    # WAL: readers (the dashboard) never block the writer; busy_timeout: a second process waits, not fails.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _json_dumps(value: object) -> str:
    """orjson is ~5x faster than json for the raw CKAN documents the crawl stores; json for what it rejects."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, default=str)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"URL de base de datos inválida: {url!r}",
            hint="Use sqlite:///ruta/audit.db o postgresql+psycopg://usuario@host/base",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            parent = Path(db).expanduser().resolve().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"No se puede crear la carpeta de la base de datos {parent}: {exc}") from exc
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json_dumps,
                               json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps, json_deserializer=orjson.loads)


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """A handle on one database. ``session()`` is a transactional scope: commit on success, rollback on error."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StoreError(f"Error de base de datos: {exc.__class__.__name__}: {exc}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def get_or_create_portal(self, url: str, title: str | None = None, ckan_version: str | None = None) -> int:
        with self.session() as s:
            portal = s.scalar(select(Portal).where(Portal.url == url))
            if portal is None:
                portal = Portal(url=url, title=title, ckan_version=ckan_version, created_at=utcnow())
                s.add(portal)
                s.flush()
            else:
                portal.title = title or portal.title
                portal.ckan_version = ckan_version or portal.ckan_version
            return portal.id

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate_schema: bool = True) -> Store:
    """Open (and by default migrate) the database at ``url``; errors become one clear StoreError."""
    engine = make_engine(url)
    try:
        if migrate_schema:
            migrate(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(
            f"No se puede abrir la base de datos {make_url(url).render_as_string(hide_password=True)}: {exc.orig}",
            hint="Verifique que el servidor esté en marcha y que la ruta sea escribible.",
        ) from exc
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"Error al preparar la base de datos: {exc}") from exc
    return Store(engine)
