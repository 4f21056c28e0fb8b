"""Stopping an audit on SIGTERM/SIGINT, in every stage.

The pipeline runs its stages inside :func:`stop_scope` with the audit's stop event; the long loops of every stage
call :func:`check_stop` at their batch boundaries (``audit.progress`` does it on every ``advance``, the worker pools
while they wait), which raises :class:`audit.runs.StageInterrupted` once the event is set: the current batch is
finished or abandoned — each batch is one transaction, so nothing half-written stays — and the run is marked
``interrupted``, to be resumed with ``--resume``.

On the command line :func:`signal_stop` installs the handlers:

* first signal: set the stop event; stages stop at their next check (well under a second in practice). If the
  process is still busy after ``grace_s`` (a single long step: one huge report rendered in this process), it
  interrupts itself as if a second signal had come;
* second signal: raise :class:`StopNow` (a ``KeyboardInterrupt``) in the main thread at once; the run is still
  marked ``interrupted`` and workers are killed on the way out. If even that takes more than ``HARD_EXIT_S``, the
  process ends with ``os._exit(130)`` (an unfinished run is then recovered as interrupted by the next audit).
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from audit.runs import StageInterrupted

log = logging.getLogger(__name__)

#: after a forced stop, the process exits by itself at the latest this many seconds later
HARD_EXIT_S = 5.0
#: exit code of an interrupted command (128 + SIGINT, the shell's convention)
EXIT_INTERRUPTED = 130

_current: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("audit_stop", default=None)


class StopNow(KeyboardInterrupt):
    """A second signal (or a stop that did not happen within the grace period): leave at once."""


@contextmanager
def stop_scope(stop: threading.Event | None) -> Iterator[None]:
    """Make ``stop`` the event :func:`check_stop` looks at in this thread (and tasks/threads started from it
    with a copy of the context)."""
    token = _current.set(stop)
    try:
        yield
    finally:
        _current.reset(token)


def check_stop(stage: str = "") -> None:
    """Raise :class:`StageInterrupted` if a stop was requested."""
    stop = _current.get()
    if stop is not None and stop.is_set():
        if isinstance(stop, StopEvent):
            stop.honoured = True
        raise StageInterrupted(stage)


class StopEvent(threading.Event):
    """The stop event of :func:`signal_stop`; ``honoured`` once a stage noticed it (no need to force the stop)."""

    honoured = False


class _Handler:
    def __init__(self, stop: StopEvent, grace_s: float, notice: Callable[[str], None]) -> None:
        self.stop = stop
        self.grace_s = grace_s
        self.notice = notice
        self.signals = 0
        self.main = threading.main_thread().ident
        self.finished = threading.Event()

    def __call__(self, signum: int, _frame: Any) -> None:
        self.signals += 1
        if self.signals == 1:
            self.notice(f"Señal {_name(signum)}: la auditoría se detiene al terminar el lote actual "
                        "(una segunda señal la detiene de inmediato)…")
            self.stop.set()
            threading.Thread(target=self._escalate, name="stop-grace", daemon=True).start()
            return
        if self.signals == 2:
            self.notice("Deteniendo de inmediato…")
            threading.Thread(target=self._hard_exit, name="stop-hard-exit", daemon=True).start()
            raise StopNow()
        os._exit(EXIT_INTERRUPTED)  # third signal: the operator insists

    def _escalate(self) -> None:
        if self.finished.wait(self.grace_s) or self.stop.honoured or self.signals > 1 or self.main is None:
            return
        log.warning("stop event=grace_expired grace_s=%.0f (abandoning the current step)", self.grace_s)
        signal.pthread_kill(self.main, signal.SIGTERM)  # interrupts a blocking call too; handled as a 2nd signal

    def _hard_exit(self) -> None:
        if not self.finished.wait(HARD_EXIT_S):
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


@contextmanager
def signal_stop(grace_s: float, notice: Callable[[str], None]) -> Iterator[threading.Event]:
    """Install SIGTERM/SIGINT handlers (main thread only) for the duration of the block; yields the stop event,
    already in :func:`stop_scope`."""
    stop = StopEvent()
    handler = _Handler(stop, grace_s, notice)
    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)} if in_main else {}
    try:
        with stop_scope(stop):
            yield stop
    finally:
        handler.finished.set()
        for sig, old in previous.items():
            # once stopping, the process is on its way out (exit 130): a further signal ends it at once
            signal.signal(sig, _exit_now if handler.signals else old)


def _exit_now(_signum: int, _frame: Any) -> None:
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
