"""Run one call in a forked child and return its result: the child's memory goes with it.

A report worker lays out one PDF after another. WeasyPrint leaves millions of objects in reference cycles per
document, and collecting and freeing them cost the worker about 6 % of its time (docs/benchmarks.md). In a forked
child the collector stays off and nothing is freed: the process ends and the kernel takes its pages back at once.
Only for a process with one thread (a pool worker): forking a process with threads can copy a held lock.
"""

from __future__ import annotations

import errno
import gc
import os
import pickle
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ForkedCallError(Exception):
    """The call failed in the child; the message names the original exception."""


class ForkedChildDied(ForkedCallError):
    """The child ended without an answer: killed by a signal, or aborted by a C library (e.g. out of memory)."""


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def run_forked(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a forked child. A ``MemoryError`` there is raised here as ``MemoryError`` (so an address-space
    cap reads the same as in-process); any other exception as :class:`ForkedCallError`; a child that dies without an
    answer (a signal, an abort in a C library) as :class:`ForkedChildDied`."""
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        if exc.errno == errno.ENOMEM:
            raise MemoryError from exc
        raise
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        code = 0
        try:
            gc.disable()
            payload: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            payload, code = ("memory", None), 1
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            payload, code = ("error", f"{exc.__class__.__name__}: {exc}"), 1
        try:
            with os.fdopen(write_fd, "wb") as out:
                pickle.dump(payload, out)
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as answer:
        data = answer.read()
    _pid, status = os.waitpid(pid, 0)
    if not data:
        raise ForkedChildDied(f"el proceso terminó sin respuesta (estado {os.waitstatus_to_exitcode(status)})")
    kind, value = pickle.loads(data)  # noqa: S301 - our own child's answer, through our own pipe
    if kind == "memory":
        raise MemoryError
    if kind == "error":
        raise ForkedCallError(value)
    result: T = value
    return result
