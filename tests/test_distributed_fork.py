"""A process that pinged the Celery workers can still fork: the broker connections are closed after use.

kombu closes every pooled connection in each process forked later (an after-fork hook). A connection left open
with its reply channel waiting on BRPOP (a ping that timed out) made that hook wait forever in the child: the
content stage's forked workers hung after a distributed audit ran in the same process."""

from __future__ import annotations

import multiprocessing

import pytest
from distributed_helpers import redis_database

from audit.config import ExecutionSettings
from audit.distributed.app import close_app, make_app


@pytest.fixture
def broker():
    with redis_database() as url:
        yield url


def _nothing() -> None:
    pass


def test_a_fork_after_a_ping_that_found_no_worker_does_not_hang(broker):
    app = make_app(ExecutionSettings(broker_url=broker))
    assert app.control.ping(timeout=0.5) == []  # no worker: the reply channel was left polling
    close_app(app)
    child = multiprocessing.get_context("fork").Process(target=_nothing)
    child.start()
    child.join(20)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0
