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
  Inside :func:`shielded` (writing how the run ended) the second signal is held until that step is over, so it
  cannot leave the run marked ``running``;
* once the stop is over and the process is only exiting, :func:`exiting_after_stop` ignores further signals (Python
  gives its handlers back to the system while it shuts down, so a late signal would turn exit 130 into a kill) and
  arms a kernel alarm so that an exit that hangs still ends.

The handler changes its state before it prints anything, and a notice that fails (a signal that arrives while the
first notice is still being printed) never replaces the stop itself.
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
#: a process that is exiting after a stop and is still alive this many seconds later is ended by SIGALRM
EXIT_ALARM_S = 30

_current: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("audit_stop", default=None)


class StopNow(KeyboardInterrupt):
    """A second signal (or a stop that did not happen within the grace period): leave at once."""


class _Shield:
    """Main-thread depth of :func:`shielded` steps, and whether a second signal came during one."""

    depth = 0
    held = False


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def shielded() -> Iterator[None]:
    """A short step that a second signal must not cut in half (marking how the run ended). The signal's
    :class:`StopNow` is raised as soon as the step is over; the hard exit still bounds the wait."""
    if not _in_main_thread():  # signals are only handled in the main thread
        yield
        return
    _Shield.depth += 1
    try:
        yield
    finally:
        _Shield.depth -= 1
    if _Shield.depth == 0 and _Shield.held:
        _Shield.held = False
        raise StopNow()


def exiting_after_stop() -> None:
    """The run is marked and released and the process is only exiting with code 130: ignore further SIGTERM/SIGINT
    (an ignored signal stays ignored while Python shuts down; a handled one would be reset to the default and kill
    the process), and let the kernel end it with SIGALRM if the exit hangs for ``EXIT_ALARM_S``."""
    if not _in_main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(EXIT_ALARM_S)


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
        # state first, words after: a further signal may interrupt the notice (it runs in this handler)
        self.signals += 1
        if self.signals == 1:
            self.stop.set()
            threading.Thread(target=self._escalate, name="stop-grace", daemon=True).start()
            self._say(f"Señal {_name(signum)}: la auditoría se detiene al terminar el lote actual "
                      "(una segunda señal la detiene de inmediato)…")
            return
        if self.signals == 2:
            threading.Thread(target=self._hard_exit, name="stop-hard-exit", daemon=True).start()
            if _Shield.depth:  # the run's end is being written: stop right after it
                _Shield.held = True
                return
            self._say("Deteniendo de inmediato…")
            raise StopNow()
        os._exit(EXIT_INTERRUPTED)  # third signal: the operator insists

    def _say(self, message: str) -> None:
        try:
            self.notice(message)
        except Exception:  # noqa: BLE001 - e.g. the console was mid-print when the signal came: the stop goes on
            log.debug("stop notice not printed", exc_info=True)

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
        _Shield.held = False
        for sig, old in previous.items():
            # once stopping, the process is on its way out (exit 130): a further signal ends it at once
            signal.signal(sig, _exit_now if handler.signals else old)


def _exit_now(_signum: int, _frame: Any) -> None:
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
