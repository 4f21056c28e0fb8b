"""Probe and content work on Celery workers of one or many machines (``execution.backend: distributed``).

- ``app``: the Celery application (Redis broker; acks after the task, redelivery of a lost worker's task).
- ``wire``: the JSON form of what a task carries (probe requests with their earlier evidence, content jobs).
- ``tasks``: what a worker runs — the same per-resource code as the local stages, writing to the shared store.
- ``coordinator``: what the audit process does instead of its local pools — enqueue, watch the store, go on.
- ``worker``: the ``run_audit.py worker`` command.

Why Celery, and how politeness and crash safety hold, is in docs/architecture.md ("Distributed execution").
"""
