"""One audit at a time: the database-level lock on SQLite (lock row) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from audit.errors import LockHeldError
from audit.locking import audit_lock, current_locks, lock_key
from audit.store.db import open_store, utcnow
from audit.store.models import AuditLock

PG_ADMIN_URL = os.environ.get("AUDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PORTAL = "http://127.0.0.1:5999"
REPO = Path(__file__).resolve().parents[1]

# A contender: waits for the start file (so both try at the same moment), tries the lock, and if it wins "audits"
# (appends its name to the ledger) while holding the lock for a moment. Prints WON or LOST:<message>.
CONTENDER = r"""
import sys, time, pathlib
from audit.store.db import open_store
from audit.locking import audit_lock
from audit.errors import LockHeldError
db, portal, name, ledger, go, hold = sys.argv[1:7]
store = open_store(db, migrate_schema=False)  # migrated by the test already
print("READY", flush=True)
while not pathlib.Path(go).exists():
    time.sleep(0.01)
try:
    with audit_lock(store, portal, holder=name):
        with open(ledger, "a") as fh:
            fh.write(name + "\n")
        time.sleep(float(hold))
    print("WON", flush=True)
except LockHeldError as exc:
    print("LOST:" + exc.message, flush=True)
"""

# Takes the lock, says so, then waits to be killed.
HOLDER = r"""
import sys, time
from audit.store.db import open_store
from audit.locking import audit_lock
store = open_store(sys.argv[1])
with audit_lock(store, sys.argv[2], holder="proceso-que-muere"):
    print("HELD", flush=True)
    time.sleep(60)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=REPO,
    )


@pytest.fixture(scope="module")
def pg_url():
    """A private, throw-away PostgreSQL database (the shared `test` database is used by other suites)."""
    psycopg = pytest.importorskip("psycopg")
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"audit_lock_{uuid.uuid4().hex[:8]}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL no disponible en {admin}: {exc}")
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    return request.getfixturevalue("pg_url")


def _contend(db_url: str, tmp_path: Path, n: int = 2) -> tuple[list[str], list[str]]:
    open_store(db_url).close()  # migrate once, up front, so the contenders race on the lock and not on DDL
    ledger, go = tmp_path / "ledger.txt", tmp_path / "go"
    procs = [_spawn(CONTENDER, db_url, PORTAL, f"contendiente-{i}", str(ledger), str(go), "1.0") for i in range(n)]
    for p in procs:  # both interpreters imported and connected: now they race
        assert p.stdout is not None and p.stdout.readline().strip() == "READY"
    go.touch()
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outputs.append(out.strip())
    audited = ledger.read_text().split() if ledger.exists() else []
    return outputs, audited


def test_two_processes_contend_and_exactly_one_audits(db_url, tmp_path):
    outputs, audited = _contend(db_url, tmp_path)
    assert sorted(o.split(":")[0] for o in outputs) == ["LOST", "WON"], outputs
    assert len(audited) == 1
    loser = next(o for o in outputs if o.startswith("LOST"))
    assert f"La auditoría de {PORTAL} ya está en curso: {audited[0]} desde " in loser
    assert "UTC" in loser


def test_lock_is_released_after_the_audit_and_can_be_taken_again(db_url):
    store = open_store(db_url)
    try:
        with audit_lock(store, PORTAL, holder="primero"):
            assert [lk["holder"] for lk in current_locks(store)] == ["primero"]
        assert current_locks(store) == []
        with audit_lock(store, PORTAL, holder="segundo"):
            pass
    finally:
        store.close()


def test_lock_is_released_when_the_audit_raises(db_url):
    store = open_store(db_url)
    try:
        with pytest.raises(RuntimeError):
            with audit_lock(store, PORTAL, holder="falla"):
                raise RuntimeError("boom")
        with audit_lock(store, PORTAL, holder="despues"):
            pass
    finally:
        store.close()


def test_same_process_second_acquire_is_refused_while_held(db_url):
    store = open_store(db_url)
    try:
        with audit_lock(store, PORTAL, holder="programador"):
            with pytest.raises(LockHeldError) as info:
                with audit_lock(store, PORTAL + "/", holder="manual"):
                    pass
        assert "programador" in str(info.value)
        with audit_lock(store, "http://otro-portal.invalid", holder="otro"):  # other portals are independent
            pass
    finally:
        store.close()


def test_killed_holder_leaves_stale_lock_that_is_recovered(db_url):
    open_store(db_url).close()
    proc = _spawn(HOLDER, db_url, PORTAL)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "HELD", proc.stderr.read() if proc.stderr else ""
    store = open_store(db_url)
    try:
        with pytest.raises(LockHeldError, match="proceso-que-muere"):
            with audit_lock(store, PORTAL, holder="nuevo"):
                pass
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup runs: the row (or the PG session) is left behind
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:  # PostgreSQL frees the advisory lock once it notices the dead connection
            try:
                with audit_lock(store, PORTAL, holder="nuevo"):
                    assert [lk["holder"] for lk in current_locks(store)] == ["nuevo"]
                break
            except LockHeldError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
        store.close()


def test_sqlite_expired_lock_from_another_host_is_recovered(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    now = utcnow()
    with store.session() as s:
        s.add(AuditLock(portal_url=PORTAL, token="x", holder="servidor-viejo", pid=1, hostname="otra-maquina.invalid",
                        acquired_at=now - timedelta(hours=8), expires_at=now - timedelta(hours=2),
                        heartbeat=now - timedelta(hours=8)))
    with audit_lock(store, PORTAL, holder="nuevo"):
        assert current_locks(store)[0]["holder"] == "nuevo"


def test_sqlite_live_lock_from_another_host_is_respected_with_holder_and_date(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    now = utcnow()
    with store.session() as s:
        s.add(AuditLock(portal_url=PORTAL, token="x", holder="programador@servidor-b", pid=1,
                        hostname="otra-maquina.invalid", acquired_at=now.replace(microsecond=0),
                        expires_at=now + timedelta(hours=2), heartbeat=now))
    with pytest.raises(LockHeldError) as info:
        with audit_lock(store, PORTAL):
            pass
    msg = info.value.message
    assert msg.startswith(f"La auditoría de {PORTAL} ya está en curso: programador@servidor-b desde ")
    assert now.strftime("%Y-%m-%d %H:%M") in msg
    assert info.value.exit_code == 5


def test_sqlite_heartbeat_pushes_expiry_forward(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with audit_lock(store, PORTAL, ttl_s=3):  # heartbeat every ~1 s
        first = current_locks(store)[0]["expires_at"]
        time.sleep(1.6)
        second = current_locks(store)[0]["expires_at"]
        assert second > first
        assert current_locks(store)[0]["hostname"] == socket.gethostname()


def test_lock_key_is_stable_and_ignores_trailing_slash():
    assert lock_key("https://datos.edomex.gob.mx/") == lock_key("https://datos.edomex.gob.mx")
    assert lock_key("https://datos.edomex.gob.mx") == 593670747825397477  # sha256-based: same on every host
    assert -(2**63) <= lock_key("x") < 2**63


def test_postgresql_loser_names_the_holder_even_before_its_row_exists(pg_url):
    """The advisory lock taken by a session that wrote no audit_lock row (yet): the name comes from
    pg_stat_activity.application_name."""
    import psycopg

    store = open_store(pg_url)
    raw = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True,
                          application_name="auditor: servidor-b (pid 77)")
    try:
        raw.execute("SELECT pg_advisory_lock(%s)", (lock_key(PORTAL),))
        with pytest.raises(LockHeldError) as info:
            with audit_lock(store, PORTAL, holder="nuevo"):
                pass
        assert "ya está en curso: servidor-b (pid 77) desde " in info.value.message
        assert "hora desconocida" not in info.value.message
    finally:
        raw.close()
        store.close()
