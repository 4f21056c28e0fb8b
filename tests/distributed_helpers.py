"""Real Celery workers for the distributed tests: a Redis database of their own, worker subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import yaml

REPO = Path(__file__).resolve().parents[1]
REDIS = os.environ.get("AUDIT_TEST_REDIS", "redis://127.0.0.1:6379")


@contextmanager
def redis_database() -> Iterator[str]:
    """Claim one of Redis' databases 1–15 for this test run (parallel runs must not share queues or pings)."""
    admin = redis.Redis.from_url(f"{REDIS}/0", socket_connect_timeout=3)
    try:
        admin.ping()
    except redis.ConnectionError as exc:  # required in CI (like PostgreSQL), optional elsewhere
        if os.environ.get("AUDIT_REQUIRE_POSTGRES"):
            pytest.fail(f"Redis is required here but unavailable: {exc}")
        pytest.skip(f"Redis unavailable: {exc}")
    token = f"{os.getpid()}-{time.time_ns()}"
    for n in range(1, 16):
        if admin.set(f"auditor-test-db:{n}", token, nx=True, ex=1800):
            url = f"{REDIS}/{n}"
            redis.Redis.from_url(url).flushdb()
            try:
                yield url
            finally:
                redis.Redis.from_url(url).flushdb()
                if admin.get(f"auditor-test-db:{n}") == token.encode():
                    admin.delete(f"auditor-test-db:{n}")
            return
    raise RuntimeError("no free Redis database for the test")


def write_config(path: Path, database_url: str, broker_url: str, **execution: object) -> Path:
    path.write_text(yaml.safe_dump({
        "database_url": database_url,
        "execution": {"backend": "distributed", "broker_url": broker_url, "worker_wait_s": 20,
                      "visibility_timeout_s": 8, **execution},
    }), encoding="utf-8")
    return path


class Workers:
    """``run_audit.py worker`` subprocesses, each in its own process group (killed whole at the end)."""

    def __init__(self, config: Path, log_dir: Path) -> None:
        self.config, self.log_dir = config, log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.killed: set[int] = set()

    def start(self, n: int = 1, concurrency: int = 1, queues: str = "probe,content") -> None:
        for _ in range(n):
            log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 — closed with the process
            self.procs.append(subprocess.Popen(
                [sys.executable, "run_audit.py", "worker", "-c", str(self.config), "--concurrency", str(concurrency),
                 "--queues", queues],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            ))

    def wait_ready(self, app_url: str, n: int, timeout: float = 90.0) -> None:
        from audit.config import ExecutionSettings
        from audit.distributed.app import close_app, make_app

        app = make_app(ExecutionSettings(broker_url=app_url))
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if len(app.control.ping(timeout=1.0) or []) >= n:
                    return
                for i, p in enumerate(self.procs):
                    if i not in self.killed and p.poll() is not None:
                        raise RuntimeError(f"worker exited with {p.returncode}: see {self.log_dir}")
            raise RuntimeError(f"workers not ready after {timeout} s: see {self.log_dir}")
        finally:
            close_app(app)  # else a later test's forked content workers can hang (test_distributed_fork.py)

    def kill(self, index: int) -> None:
        """SIGKILL the worker and its pool processes, as a lost machine would."""
        self.killed.add(index)
        os.killpg(self.procs[index].pid, signal.SIGKILL)
        self.procs[index].wait(10)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(10)
