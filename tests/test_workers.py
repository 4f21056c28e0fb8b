"""Worker processes die with their parent, exit on SIGTERM and never keep the parent's database sessions alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# A parent holding a PostgreSQL advisory lock (when given a URL) that starts a content pool and a report pool whose
# jobs never end, prints the workers' pids, then waits to be killed.
PARENT = r"""
import os, sys, time
from audit.content.pool import WatchedPool
from audit.childproc import process_pool
from tests.test_workers import sleep_forever, lost

db = sys.argv[1] if len(sys.argv) > 1 else ""
if db:
    from audit.store.db import open_store
    from audit.locking import audit_lock
    lock = audit_lock(open_store(db), "https://portal.invalid", holder="padre")
    lock.__enter__()
import threading
pool = WatchedPool(sleep_forever, workers=2, time_limit_s=600, on_lost=lost)
threading.Thread(target=lambda: next(pool.map([1, 2])), daemon=True).start()
with process_pool(1) as spawned:
    spawned.submit(os.getpid).result()  # the worker is set up (its initializer ran)
    spawned.submit(time.sleep, 600)
    time.sleep(1.0)
    print("PIDS", flush=True)
    time.sleep(600)
"""


def sleep_forever(job: int) -> int:
    time.sleep(600)
    return job


def lost(job: int, reason: str) -> int:
    return -job


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie has already exited
    except FileNotFoundError:
        return False


def _children(pid: int, *, helpers: bool = True) -> list[int]:
    """Child pids of ``pid``; ``helpers=False`` leaves out multiprocessing's resource tracker (it ignores TERM by
    design and exits when its last client is gone)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.split(")")[-1].split()[1]) != pid:
                continue
            if not helpers and b"resource_tracker" in (entry / "cmdline").read_bytes():
                continue
            out.append(int(entry.name))
    return out


def _db_sockets(pid: int, port: int = 5432) -> int:
    """How many TCP sockets to ``port`` process ``pid`` has open (from /proc: the socket inodes of its fds)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if int(cols[2].rsplit(":", 1)[1], 16) == port and cols[9] in inodes:
                n += 1
    return n


def _start_parent(*args: str) -> tuple[subprocess.Popen[str], list[int]]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", PARENT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.startswith("PIDS"):
            return proc, _children(proc.pid)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"parent did not start: {proc.stderr.read() if proc.stderr else ''}")


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux")
def test_workers_die_with_a_killed_parent():
    proc, kids = _start_parent()
    try:
        assert len(kids) >= 3, kids  # two content workers, one report worker (+ multiprocessing's tracker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _wait_gone(kids, 3.0) == []
    finally:
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
def test_workers_exit_on_sigterm():
    """A forked worker inherits the parent's SIGTERM handler; it must not: TERM ends it."""
    proc, _ = _start_parent()
    kids = _children(proc.pid, helpers=False)
    try:
        assert len(kids) == 3, kids
        for pid in kids:
            os.kill(pid, signal.SIGTERM)
        assert _wait_gone(kids, 3.0) == []
    finally:
        proc.kill()
        proc.wait(10)


def test_killed_parent_releases_the_postgres_lock_although_workers_were_forked(fresh_postgres_url):
    """The forked workers inherited the socket of the advisory-lock session; they let go of it, so the lock is
    free the moment the parent dies, and the parent's session itself kept working while they ran."""
    from audit.locking import audit_lock
    from audit.store.db import open_store

    proc, kids = _start_parent(fresh_postgres_url)
    store = open_store(fresh_postgres_url)
    try:
        from audit.errors import LockHeldError

        with pytest.raises(LockHeldError):  # held by the live parent (its session survived the forks)
            with audit_lock(store, "https://portal.invalid"):
                pass
        assert _db_sockets(proc.pid) >= 1  # the parent's own sessions, the lock's among them
        assert [_db_sockets(pid) for pid in _children(proc.pid, helpers=False)] == [0, 0, 0]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _wait_gone(kids, 3.0) == []
        deadline = time.monotonic() + 5
        while True:
            try:
                with audit_lock(store, "https://portal.invalid"):
                    break
            except LockHeldError:
                assert time.monotonic() < deadline, "the lock outlived its holder"
                time.sleep(0.1)
    finally:
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)
        store.close()
