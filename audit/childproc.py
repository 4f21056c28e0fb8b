"""Worker processes that die with their parent and hold nothing of it.

Every worker process the service starts (content validation, report rendering) calls :func:`worker_setup` first:

* **dies with its parent**: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux, so a ``kill -9`` of the audit takes its
  workers with it at once; a watchdog thread that exits when the parent pid changes covers other platforms (and the
  moment between fork and prctl).
* **exits on SIGTERM**: a forked worker inherits the parent's Python handler (which only sets a stop flag); the
  default action is restored. SIGINT is ignored: a Ctrl-C reaches the whole process group, and the parent — which
  handles it — stops its workers itself, so a job is never recorded as a crashed worker because of a Ctrl-C.
* **holds no database connection of the parent**: a forked worker inherits the parent's connection pools and the
  sockets of its open connections, the PostgreSQL advisory-lock connection among them; while any copy of that socket
  is open the server keeps the session, and the lock, alive. Inherited pools are dropped without closing the
  connections (``Engine.dispose(close=False)``: closing would tell the server to end the parent's sessions) and the
  worker's copies of the PostgreSQL sockets are closed at the file-descriptor level, which sends nothing.

PR_SET_PDEATHSIG fires when the *thread* that started the worker ends; pools start their workers from the thread
that runs the stage and close them before it ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, TypeVar

from audit.stopping import check_stop

log = logging.getLogger(__name__)

T = TypeVar("T")

PR_SET_PDEATHSIG = 1
#: the longest a pool's parent waits for results without checking for a stop request
STOP_POLL_S = 0.5
#: how often the fallback watchdog checks that the parent is still there
WATCHDOG_INTERVAL_S = 1.0


def worker_setup(parent_pid: int) -> None:
    """Call first thing in a worker process started by ``parent_pid``."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from audit.store.db import forget_inherited_connections

    forget_inherited_connections()


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        except OSError as exc:  # no libc to load (unusual): the watchdog below still works
            log.debug("prctl unavailable: %s", exc)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(WATCHDOG_INTERVAL_S)
        if os.getppid() != parent_pid:  # re-parented: the parent is gone
            os._exit(1)


# --- a process pool for spawned workers (reports) ----------------------------------------------------------------


def _pool_child_init(parent_pid: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    worker_setup(parent_pid)
    if initializer is not None:
        initializer(*initargs)


@contextmanager
def process_pool(workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> Iterator[ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` of spawned workers set up by :func:`worker_setup` (spawn: they inherit no
    connection of the parent at all). Leaving the block by an exception — a stop included — kills the workers
    instead of waiting for their jobs (one PDF may take minutes)."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_pool_child_init,
                               initargs=(os.getpid(), initializer, initargs))
    try:
        yield pool
    except BaseException:
        for process in list((pool._processes or {}).values()):  # no public API to stop running jobs
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def completed(futures: Iterable[Future[T]], *, stage: str = "") -> Iterator[Future[T]]:
    """Like ``concurrent.futures.as_completed``, checking for a stop request at least every ``STOP_POLL_S``."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=STOP_POLL_S, return_when=FIRST_COMPLETED)
        check_stop(stage)
        for fut in done:
            if isinstance(fut.exception(), BrokenProcessPool):
                # a worker killed from outside (a TERM to the whole group): if the stop is ours, its handler
                # runs within moments — report the stop, not broken reports
                time.sleep(STOP_POLL_S)
                check_stop(stage)
            yield fut
