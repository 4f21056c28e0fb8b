"""A process that pinged the Celery workers can still fork: the broker connections are closed after use.

kombu closes every pooled connection in each process forked later (an after-fork hook). A connection left open
with its reply channel waiting on BRPOP (a ping that timed out) made that hook wait forever in the child: the
content stage's forked workers hung after a distributed audit ran in the same process."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util

import pytest
from distributed_helpers import redis_database
from kombu.resource import Resource

from audit.config import ExecutionSettings
from audit.distributed.app import close_app, make_app


@pytest.fixture
def broker():
    with redis_database() as url:
        yield url


def _nothing() -> None:
    pass


def _left_open_for_forks() -> list[Resource]:
    """kombu pools that a fork would close again in the child (multiprocessing's after-fork registry)."""
    registered = list(multiprocessing.util._afterfork_registry.values())  # noqa: SLF001 - what a fork runs
    return [r for r in registered if isinstance(r, Resource) and not r._closed]  # noqa: SLF001


def test_a_fork_after_a_ping_that_found_no_worker_does_not_hang(broker):
    app = make_app(ExecutionSettings(broker_url=broker))
    assert app.control.ping(timeout=0.5) == []  # no worker: the reply channel was left polling
    assert _left_open_for_forks()  # what Celery.close() alone leaves behind
    close_app(app)
    assert _left_open_for_forks() == []  # nothing for a forked child to close again
    child = multiprocessing.get_context("fork").Process(target=_nothing)
    child.start()
    child.join(20)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0
