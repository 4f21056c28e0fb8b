"""One audit at a time per portal, across processes and hosts.

The scheduler, a manual ``run_audit.py audit`` and a second scheduler process all call :func:`audit_lock`
around a whole audit. The loser gets :class:`audit.errors.LockHeldError` naming who holds the lock since when.

* **PostgreSQL**: ``pg_try_advisory_lock`` on a stable 64-bit hash of the portal URL, held on a dedicated
  connection for the whole audit. If the holder dies its connection closes and the server frees the lock, so a
  stale lock cannot exist. A row in ``audit_lock`` only tells losers (and ``status``) who holds it.
* **SQLite** (and any other backend): the ``audit_lock`` row *is* the lock. It is taken with an INSERT on the
  primary key (atomic), carries an expiry that a heartbeat thread keeps pushing forward, and is recovered when it
  is stale: expired, or held by a process on this host that no longer exists (a ``kill -9``).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from audit.clock import assume_utc, utcnow
from audit.errors import LockHeldError, StoreError
from audit.store.db import Store
from audit.store.models import AuditLock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: ``audit_lock`` rows are refreshed this often (fraction of the TTL), so a live holder never looks expired
HEARTBEAT_FRACTION = 1 / 3


def lock_key(portal_url: str) -> int:
    """Stable signed 64-bit key for ``pg_advisory_lock`` (same on every host and Python version)."""
    digest = hashlib.sha256(_normalize(portal_url).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _normalize(portal_url: str) -> str:
    return portal_url.strip().rstrip("/").lower()


def _normalize_key(portal_url: str) -> str:
    """The lock row's key: the URL without surrounding spaces or trailing slash (``/`` and no ``/`` are one portal)."""
    return portal_url.strip().rstrip("/")


def default_holder() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "?"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()})"


def _format_since(value: datetime) -> str:
    return assume_utc(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _held_error(portal_url: str, holder: str, since: datetime | None) -> LockHeldError:
    when = _format_since(since) if since is not None else "hora desconocida"
    return LockHeldError(
        f"La auditoría de {portal_url} ya está en curso: {holder} desde {when}",
        hint="Espere a que termine (vea `run_audit.py status`) o detenga ese proceso; "
        "un candado de un proceso terminado se recupera solo.",
        portal=portal_url,
        holder=holder,
        since=since,
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def is_stale(row: AuditLock, *, now: datetime | None = None) -> bool:
    """Expired, or its holder was a process on this host that is gone."""
    now = now or utcnow()
    if assume_utc(row.expires_at) <= now:
        return True
    return row.hostname == socket.gethostname() and not _pid_alive(row.pid)


def current_locks(store: Store) -> list[dict[str, Any]]:
    """Every lock row (for ``status``), with a ``stale`` flag. On PostgreSQL rows whose advisory lock is no
    longer held are reported as stale too."""
    with store.session() as s:
        rows = list(s.scalars(select(AuditLock).order_by(AuditLock.acquired_at)))
        held_keys: set[int] | None = None
        if store.dialect == "postgresql":
            held_keys = _pg_held_keys(s)
        out = []
        for row in rows:
            stale = is_stale(row)
            if held_keys is not None:
                stale = lock_key(row.portal_url) not in held_keys
            out.append(
                {
                    "portal_url": row.portal_url,
                    "holder": row.holder,
                    "pid": row.pid,
                    "hostname": row.hostname,
                    "since": assume_utc(row.acquired_at).isoformat(),
                    "heartbeat": assume_utc(row.heartbeat).isoformat(),
                    "expires_at": assume_utc(row.expires_at).isoformat(),
                    "stale": stale,
                }
            )
        return out


def _pg_held_keys(session: Session) -> set[int]:
    # advisory locks on a bigint key appear as classid (high 32 bits) / objid (low 32 bits), objsubid = 1
    rows = session.execute(
        text(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
        )
    ).all()
    keys = set()
    for hi, lo in rows:
        value = (int(hi) << 32) | int(lo)
        if value >= 1 << 63:
            value -= 1 << 64
        keys.add(value)
    return keys


@contextmanager
def audit_lock(
    store: Store, portal_url: str, *, holder: str | None = None, ttl_s: int = 21600
) -> Iterator[None]:
    """Hold the audit lock of ``portal_url`` for the duration of the ``with`` block.

    Raises :class:`LockHeldError` at once (never waits) when another live process holds it.
    ``ttl_s`` is the expiry of the SQLite lock row; a heartbeat renews it while the block runs.
    """
    holder = holder or default_holder()
    portal_url = _normalize_key(portal_url)
    if store.dialect == "postgresql":
        with _pg_lock(store, portal_url, holder, ttl_s):
            yield
    else:
        with _row_lock(store, portal_url, holder, ttl_s):
            yield


# --- PostgreSQL --------------------------------------------------------------------------------------------


@contextmanager
def _pg_lock(store: Store, portal_url: str, holder: str, ttl_s: int) -> Iterator[None]:
    key = lock_key(portal_url)
    try:
        conn = store.engine.connect()
    except SQLAlchemyError as exc:
        raise StoreError(f"No se pudo abrir la conexión para el candado de auditoría: {exc}") from exc
    try:
        # the holder's name is also visible in pg_stat_activity, for a loser that looks before our row exists
        conn.execute(text("SELECT set_config('application_name', :v, false)"), {"v": f"auditor: {holder}"[:63]})
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()  # the advisory lock is session-level: it survives the commit
        if not got:
            raise _pg_held_error(store, portal_url, key)
        token = uuid.uuid4().hex
        _write_row(store, portal_url, token, holder, ttl_s, replace=True)
        log.info("audit lock acquired portal=%s holder=%r backend=postgresql key=%d", portal_url, holder, key)
        try:
            yield
        finally:
            _delete_row(store, portal_url, token)
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
            except SQLAlchemyError:  # connection lost: the server already released the lock
                log.warning("could not unlock advisory lock portal=%s (connection lost)", portal_url)
            log.info("audit lock released portal=%s", portal_url)
    finally:
        conn.close()


def _pg_held_error(store: Store, portal_url: str, key: int) -> LockHeldError:
    """Who holds the advisory lock: the winner's row (it may take a moment to appear), else its session info."""
    deadline = time.monotonic() + 2.0
    while True:
        row = _read_row(store, portal_url)
        if row is not None:
            return _held_error(portal_url, row.holder, row.acquired_at)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    try:
        with store.engine.connect() as conn:
            info = conn.execute(
                text(
                    "SELECT a.application_name, a.backend_start, a.pid FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.objsubid = 1 AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
                ),
                {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
            ).first()
    except SQLAlchemyError:
        info = None
    if info is None:
        return _held_error(portal_url, "otro proceso", None)
    name = (info.application_name or "").removeprefix("auditor: ") or f"sesión PostgreSQL {info.pid}"
    return _held_error(portal_url, name, info.backend_start)


# --- lock row (SQLite and others) --------------------------------------------------------------------------


@contextmanager
def _row_lock(store: Store, portal_url: str, holder: str, ttl_s: int) -> Iterator[None]:
    token = uuid.uuid4().hex
    for _attempt in range(3):
        if _write_row(store, portal_url, token, holder, ttl_s, replace=False):
            break
        row = _read_row(store, portal_url)
        if row is None:
            continue  # released between our INSERT and SELECT: try again
        if not is_stale(row):
            raise _held_error(portal_url, row.holder, row.acquired_at)
        log.warning(
            "recovering stale audit lock portal=%s holder=%r pid=%d host=%s since=%s",
            portal_url, row.holder, row.pid, row.hostname, _format_since(row.acquired_at),
        )
        _delete_row(store, portal_url, row.token)  # compare-and-delete: only that stale holder's row
    else:
        raise _held_error(portal_url, "otro proceso", None)

    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(store, portal_url, token, ttl_s, stop), name="audit-lock-heartbeat", daemon=True
    )
    beat.start()
    log.info("audit lock acquired portal=%s holder=%r backend=%s", portal_url, holder, store.dialect)
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=5)
        _delete_row(store, portal_url, token)
        log.info("audit lock released portal=%s", portal_url)


def _heartbeat(store: Store, portal_url: str, token: str, ttl_s: int, stop: threading.Event) -> None:
    interval = max(1.0, ttl_s * HEARTBEAT_FRACTION)
    while not stop.wait(interval):
        now = utcnow()
        try:
            with store.session() as s:
                s.execute(
                    update(AuditLock)
                    .where(AuditLock.portal_url == portal_url, AuditLock.token == token)
                    .values(heartbeat=now, expires_at=now + timedelta(seconds=ttl_s))
                )
        except StoreError as exc:  # a busy database must not kill the audit; the next beat retries
            log.warning("audit lock heartbeat failed portal=%s: %s", portal_url, exc)


def _read_row(store: Store, portal_url: str) -> AuditLock | None:
    with store.session() as s:
        return s.get(AuditLock, portal_url)


def _write_row(store: Store, portal_url: str, token: str, holder: str, ttl_s: int, *, replace: bool) -> bool:
    """INSERT the lock row; False if one exists (the primary key makes this atomic)."""
    now = utcnow()
    values = dict(
        portal_url=portal_url,
        token=token,
        holder=holder[:300],
        pid=os.getpid(),
        hostname=socket.gethostname(),
        acquired_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        heartbeat=now,
    )
    try:
        with store.session() as s:
            if replace:  # PostgreSQL: we hold the advisory lock, any row is a leftover
                s.execute(delete(AuditLock).where(AuditLock.portal_url == portal_url))
            s.add(AuditLock(**values))
        return True
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            return False
        raise


def _delete_row(store: Store, portal_url: str, token: str) -> None:
    try:
        with store.session() as s:
            s.execute(delete(AuditLock).where(AuditLock.portal_url == portal_url, AuditLock.token == token))
    except StoreError as exc:
        log.warning("could not delete audit lock row portal=%s: %s", portal_url, exc)
