"""Progress for long stages: a rich progress bar on a terminal, periodic structured log lines otherwise.

Every ``advance`` is also a stop check (:func:`audit.stopping.check_stop`): a stage stops at its next item after
SIGTERM/SIGINT.

Usage::

    with stage_progress("Sondeando recursos", total=n) as advance:
        for item in items:
            ...
            advance(1)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from audit.stopping import check_stop

log = logging.getLogger("audit.progress")

#: set by the CLI (--no-progress) or tests; None = auto (TTY detection)
FORCE_BAR: bool | None = None


def _use_bar() -> bool:
    if FORCE_BAR is not None:
        return FORCE_BAR
    return sys.stderr.isatty()


@contextmanager
def stage_progress(description: str, total: int | None, *, log_every_s: float = 5.0) -> Iterator[Callable[[int], None]]:
    if _use_bar():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(description, total=total)

            def advance_bar(n: int = 1) -> None:
                bar.advance(task, n)
                check_stop()

            yield advance_bar
        return

    done = 0
    started = last = time.monotonic()
    log.info("stage=%r event=start total=%s", description, total)

    def advance_log(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= log_every_s:
            last = now
            log.info("stage=%r event=progress done=%d total=%s elapsed_s=%.1f", description, done, total, now - started)
        check_stop()

    yield advance_log
    log.info("stage=%r event=end done=%d elapsed_s=%.1f", description, done, time.monotonic() - started)
