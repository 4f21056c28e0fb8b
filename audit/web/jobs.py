"""Background jobs started from the admin area (an audit, a report regeneration): one at a time, in a thread,
so the web server keeps answering; the outcome is kept for the admin page and the audit log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.clock import utcnow

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # running | ok | error
    message: str = ""


class JobRunner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Job | None = None
        self.last: Job | None = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        with self._lock:
            return self.current is not None

    def start(self, name: str, fn: Callable[[], Any], on_done: Callable[[Job], None] | None = None) -> Job | None:
        """Start ``fn`` in a thread; None when another job is still running."""
        with self._lock:
            if self.current is not None:
                return None
            job = Job(name=name, started_at=utcnow())
            self.current = job

        def run() -> None:
            try:
                result = fn()
                job.status, job.message = "ok", _describe(result)
            except Exception as exc:  # a failed job is reported on the admin page, never kills the server
                log.exception("background job %s failed", name)
                job.status, job.message = "error", str(exc) or exc.__class__.__name__
            finally:
                job.finished_at = utcnow()
                with self._lock:
                    self.current, self.last = None, job
                if on_done is not None:
                    try:
                        on_done(job)
                    except Exception:  # logging the outcome must not crash the thread
                        log.exception("recording job %s failed", name)

        self._thread = threading.Thread(target=run, name=f"web-job-{name}", daemon=True)
        self._thread.start()
        return job

    def wait(self, timeout: float | None = None) -> None:
        """For tests: wait for the running job's thread."""
        if self._thread is not None:
            self._thread.join(timeout)


def _describe(result: Any) -> str:
    if result is None:
        return "Terminado."
    run_id = getattr(result, "run_id", None) or getattr(result, "id", None)
    if isinstance(result, int):
        run_id = result
    return f"Terminado (corrida {run_id})." if run_id else f"Terminado: {str(result)[:200]}"
