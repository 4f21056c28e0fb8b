"""Opening the store: engine, sessions and automatic Alembic migrations."""

from __future__ import annotations

import json
import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from audit.clock import utcnow
from audit.errors import StoreError
from audit.store.models import Portal

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: PostgreSQL advisory lock taken (per transaction) around migrations; audit locks hash URLs, this is a constant
MIGRATION_LOCK_KEY = 0x417564_4D696772  # "Aud" "Migr"


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


#: the database URL schemes the service works with (drivers installed with it)
SUPPORTED_SCHEMES = ("sqlite:///ruta/audit.db", "postgresql+psycopg://usuario@host/base")
_SUPPORTED_HINT = "Esquemas admitidos: " + " o ".join(SUPPORTED_SCHEMES) + " (postgresql:// equivale a postgresql+psycopg://)."

#: every engine this process created, and every connection they opened (with the pid that opened it), so a
#: forked worker can let go of them (see forget_inherited_connections)
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_CONNECTIONS: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()


def _supported_url(url: str) -> URL:
    """Parse ``url`` and accept only SQLite and PostgreSQL through psycopg 3; anything else is a StoreError."""
    try:
        parsed = make_url(url)
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    except NoSuchModuleError as exc:  # a scheme SQLAlchemy has no dialect for (nonsense://, postgres://)
        raise StoreError(f"Base de datos no admitida: {_safe(url)!r}", hint=_SUPPORTED_HINT) from exc
    except ArgumentError as exc:
        raise StoreError(f"URL de base de datos inválida: {_safe(url)!r}", hint=_SUPPORTED_HINT) from exc
    if backend == "sqlite" and driver in ("pysqlite", "sqlite"):
        return parsed
    if backend == "postgresql" and driver in ("psycopg", ""):
        return parsed.set(drivername="postgresql+psycopg")
    raise StoreError(f"Base de datos no admitida: {parsed.drivername!r} ({_safe(url)!r})", hint=_SUPPORTED_HINT)


def _safe(url: str) -> str:
    """The URL without its password, for messages (also for URLs SQLAlchemy cannot parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        head, sep, tail = url.partition("@")
        return ("***@" + tail) if sep else url


def make_engine(url: str) -> Engine:
    parsed = _supported_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            parent = Path(db).expanduser().resolve().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"No se puede crear la carpeta de la base de datos {parent}: {exc}") from exc
        engine = create_engine(parsed, connect_args={"timeout": 30}, json_serializer=_json_dumps,
                               json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps,
                               json_deserializer=orjson.loads)
    event.listen(engine, "connect", _track_connection)
    _ENGINES.add(engine)
    return engine


def _track_connection(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    try:
        _CONNECTIONS[dbapi_conn] = os.getpid()
    except TypeError:  # a driver connection that cannot be weakly referenced: nothing to forget later
        pass


def forget_inherited_connections() -> None:
    """In a forked worker: drop the parent's pools without closing its sessions, and close this process's copies
    of the parent's PostgreSQL sockets at the descriptor level (no protocol message: the parent's sessions, and
    the advisory lock one of them holds, are untouched — but they no longer outlive the parent because of us)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)
    me = os.getpid()
    for conn, pid in list(_CONNECTIONS.items()):
        if pid == me:
            continue
        _CONNECTIONS.pop(conn, None)
        try:
            fd = conn.pgconn.socket  # type: ignore[attr-defined]  # psycopg 3; its finaliser skips other pids
        except Exception:  # noqa: BLE001 - SQLite, or a connection already closed: nothing to let go of
            continue
        try:
            os.close(fd)
        except OSError:
            pass


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # two first-ever runs at once would both create the schema and one would fail: the second waits for
            # the first's transaction, then finds the schema up to date
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _driver_message(exc: SQLAlchemyError) -> str:
    """The database's own words (first line), without SQLAlchemy's SQL echo and documentation link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0][:300] if text else exc.__class__.__name__


def describe_error(exc: SQLAlchemyError) -> str:
    """A Spanish sentence for a database error, followed by the server's message (kept as is: it names the table,
    constraint or file involved)."""
    detail = _driver_message(exc)
    low = detail.lower()
    if isinstance(exc, IntegrityError):
        what = "Conflicto de integridad en la base de datos (un registro duplicado o una referencia inválida)"
    elif "locked" in low or "busy" in low:
        what = "La base de datos está ocupada por otro proceso y no respondió a tiempo"
    elif ("disk" in low and ("full" in low or "space" in low)) or "no space" in low:
        what = "No queda espacio en el disco de la base de datos"
    elif "readonly" in low or "read-only" in low or "read only" in low:
        what = "La base de datos es de sólo lectura"
    elif isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        what = "Se perdió la conexión con la base de datos o ésta rechazó la operación"
    else:
        what = "Error de la base de datos"
    return f"{what}. Detalle del servidor: {detail}"


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
            raise StoreError(describe_error(exc)) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def get_or_create_portal(self, url: str, title: str | None = None, ckan_version: str | None = None) -> int:
        try:
            return self._get_or_create_portal(url, title, ckan_version)
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            # two first-ever audits of one portal at once: the other process inserted it first; use its row
            # (whichever of the two then loses the audit lock gets the lock error, not this one)
            return self._get_or_create_portal(url, title, ckan_version)

    def _get_or_create_portal(self, url: str, title: str | None, ckan_version: str | None) -> int:
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
            f"No se puede abrir la base de datos {_safe(url)}: {_driver_message(exc)}",
            hint="Verifique que el servidor esté en marcha y que la ruta sea escribible.",
        ) from exc
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"Error al preparar la base de datos {_safe(url)}: {describe_error(exc)}") from exc
    return Store(engine)
