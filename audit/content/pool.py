"""Worker processes for the content stage, watched over by the parent.

Each worker runs one job at a time and answers over its own pipe, so the parent always knows which job a worker
holds and since when. That gives two guarantees a ``ProcessPoolExecutor`` cannot: a worker that dies (segfault,
OOM kill) costs only the job it held, named as ``worker_crashed``; and a worker stuck past ``time_limit_s``
(a C call that never returns lets no Python-level alarm fire) is killed and its job recorded as timed out.
Either way a fresh worker takes its place and the stage goes on.

Workers are forked where the platform allows it, so they inherit what the parent already imported (GX costs
seconds to import). Each one first calls :func:`audit.childproc.worker_setup`: it dies with the parent, exits on
SIGTERM and lets go of the parent's database connections. While it waits for results the pool checks the stage's
stop request (:func:`audit.stopping.check_stop`) at least every ``STOP_POLL_S``; leaving the pool because of an
exception (a stop, a crash of the parent's own code) kills the workers at once instead of waiting for their jobs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from audit.childproc import STOP_POLL_S, worker_setup
from audit.stopping import check_stop

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")

#: how long a worker may take to exit after being asked to before it is killed
_EXIT_GRACE_S = 2.0
#: a worker killed by one of these signals was stopped by someone, not crashed by its file: its job is retried once
_STOP_SIGNALS = (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP)


def _worker_main(conn: Connection, fn: Callable[[Any], Any], initializer: Callable[[], None] | None,
                 parent_pid: int) -> None:
    worker_setup(parent_pid)
    if initializer is not None:
        initializer()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if job is None:
            return
        conn.send(fn(job))


@dataclass
class _Worker(Generic[J]):
    process: BaseProcess
    conn: Connection
    job: J | None = None
    started: float = 0.0


class WatchedPool(Generic[J, R]):
    """Run ``fn(job)`` for every job in ``workers`` processes; yield ``(job, result)`` as they finish.

    ``fn`` must not raise (wrap it). When a worker dies or overruns ``time_limit_s``, ``on_lost(job, reason)``
    supplies the result instead, with ``reason`` ``"worker_crashed"`` or ``"worker_timeout"``.
    """

    def __init__(
        self,
        fn: Callable[[J], R],
        *,
        workers: int,
        time_limit_s: float,
        on_lost: Callable[[J, str], R],
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.fn = fn
        self.workers = max(1, workers)
        self.time_limit_s = time_limit_s
        self.on_lost = on_lost
        self.initializer = initializer
        methods = multiprocessing.get_all_start_methods()
        self._ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        self._pool: list[_Worker[J]] = []
        self.replaced = 0  # workers started to replace a dead or killed one

    # ------------------------------------------------------------------ lifecycle

    def _start(self) -> _Worker[J]:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, self.fn, self.initializer, os.getpid()),
                                    daemon=True)
        process.start()
        child.close()
        return _Worker(process=process, conn=parent)

    def _discard(self, worker: _Worker[J]) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(_EXIT_GRACE_S)
        worker.conn.close()
        self._pool.remove(worker)

    def close(self) -> None:
        for worker in self._pool:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + _EXIT_GRACE_S
        for worker in list(self._pool):
            worker.process.join(max(0.0, deadline - time.monotonic()))
            self._discard(worker)

    def kill(self) -> None:
        """Stop every worker now (their jobs are abandoned)."""
        for worker in list(self._pool):
            self._discard(worker)

    def __enter__(self) -> WatchedPool[J, R]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.kill()

    # ------------------------------------------------------------------ work

    def map(self, jobs: Iterable[J]) -> Iterator[tuple[J, R]]:
        pending: deque[J] = deque(jobs)
        retried: set[int] = set()  # ids of jobs given back once after a signal stopped their worker
        while len(self._pool) < min(self.workers, len(pending)):
            self._pool.append(self._start())
        while pending or any(w.job is not None for w in self._pool):
            check_stop("content")
            for worker in list(self._pool):
                if worker.job is None and pending:
                    job = pending.popleft()
                    try:
                        worker.conn.send(job)
                    except OSError:  # died while idle: replace it, the job goes back to the queue
                        pending.appendleft(job)
                        self._replace(worker)
                        continue
                    worker.job, worker.started = job, time.monotonic()
            busy = [w for w in self._pool if w.job is not None]
            if not busy:
                continue
            next_deadline = min(w.started for w in busy) + self.time_limit_s
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                         timeout=min(STOP_POLL_S, max(0.01, next_deadline - time.monotonic())))
            for worker in busy:
                held = worker.job
                assert held is not None
                if worker.conn in ready or worker.process.sentinel in ready:
                    try:
                        if not worker.conn.poll():
                            raise EOFError
                        result = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(_EXIT_GRACE_S)
                        code = worker.process.exitcode
                        log.warning("content worker pid=%s died (exit code %s)", worker.process.pid, code)
                        self._replace(worker)
                        if code in _STOP_SIGNALS and id(held) not in retried:
                            # stopped from outside (e.g. a TERM to the whole process group): says nothing about
                            # the file; if the stop is ours the next check ends the stage, else the job is retried
                            retried.add(id(held))
                            pending.appendleft(held)
                            continue
                        yield held, self.on_lost(held, "worker_crashed")
                        continue
                    worker.job = None
                    yield held, result
                elif time.monotonic() - worker.started > self.time_limit_s:
                    log.warning("content worker pid=%s exceeded %.0f s: killed", worker.process.pid, self.time_limit_s)
                    self._replace(worker)
                    yield held, self.on_lost(held, "worker_timeout")

    def _replace(self, worker: _Worker[J]) -> None:
        self._discard(worker)
        self._pool.append(self._start())
        self.replaced += 1
