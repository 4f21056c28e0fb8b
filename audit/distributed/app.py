"""The Celery application shared by the audit process (which only sends) and the workers (which run tasks).

Crash safety comes from three settings together: a task is acknowledged only after it ran (``acks_late``); a
pool process that dies mid-task puts the message back at once (``reject_on_worker_lost``); and a whole worker
that vanishes (machine lost, SIGKILL) leaves its message unacknowledged in Redis, where another worker restores
it after ``visibility_timeout`` (checked every few seconds). Each worker takes one message at a time
(prefetch 1), so a lost worker holds back at most one task per pool process.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from audit.config import ExecutionSettings

PROBE_TASK = "auditor.probe_batch"
CONTENT_TASK = "auditor.content_file"
QUEUES = ("probe", "content")

#: seconds between the sweeps that restore a lost worker's messages (kombu's default is 100 s)
RESTORE_INTERVAL_S = 5


def transport_options(settings: ExecutionSettings) -> dict[str, Any]:
    return {
        "visibility_timeout": settings.visibility_timeout_s,
        "unacked_restore_interval": RESTORE_INTERVAL_S,
        "unacked_restore_throttle": 1,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
    }


def make_app(settings: ExecutionSettings) -> Celery:
    app = Celery("auditor", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # results travel through PostgreSQL, not a result backend
        task_serializer="json",
        accept_content=["json"],  # never pickle: whoever can write to Redis must not run code on a worker
        task_default_queue="content",
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=True,  # the audit process pings workers to know one is alive
    )
    return app


def close_app(app: Celery) -> None:
    """Close the app's broker connections now. ``Celery.close`` only forgets its pool, and kombu closes every pooled
    connection again in each process forked later: one whose reply channel still waits on BRPOP (a ping that timed
    out) made that close wait forever in the child (the content stage's forked workers hung)."""
    from kombu import pools

    app.pool.force_close_all()
    pools.reset()  # the producer pools kombu keeps per connection, process-wide
    app.close()
