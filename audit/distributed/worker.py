"""``run_audit.py worker``: a Celery worker for ``execution.backend: distributed`` (registered on
``audit.cli_base.app``; celery is imported only when the command runs)."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from audit.cli_base import ConfigOpt, DbOpt, VerboseOpt, _setup, app
from audit.config import AuditConfig
from audit.errors import ConfigError
from audit.store import open_store


@app.command()
def worker(config: ConfigOpt = None, db: DbOpt = None,
           queues: Annotated[str, typer.Option("--queues", help="Colas que atiende: probe, content o ambas.")]
           = "probe,content",
           concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, help="Procesos de trabajo "
                                                           "(por omisión, content.workers).")] = None,
           verbose: VerboseOpt = False) -> None:
    """Trabajador que sondea y valida recursos de las auditorías con execution.backend: distributed."""
    cfg = _setup(config, db, verbose=verbose)
    run_worker(cfg, queues=[q.strip() for q in queues.split(",") if q.strip()],
               concurrency=concurrency or cfg.content.workers, verbose=verbose)


def run_worker(cfg: AuditConfig, *, queues: list[str], concurrency: int, verbose: bool = False) -> None:
    from audit.distributed.app import QUEUES, make_app
    from audit.distributed.coordinator import WorkersUnavailable, require_distributed_store
    from audit.distributed.state import client

    unknown = [q for q in queues if q not in QUEUES]
    if unknown or not queues:
        raise ConfigError(f"Cola desconocida: {', '.join(unknown) or '(ninguna)'}.",
                          hint=f"Use --queues con una o más de: {', '.join(QUEUES)}.")
    store = open_store(cfg.database_url)  # the same migrations as the audit process: fails early if unreachable
    try:
        require_distributed_store(store)
    finally:
        store.close()
    try:
        client(cfg.execution.broker_url).ping()
    except Exception as exc:
        raise WorkersUnavailable(f"No se puede conectar con el broker de tareas {cfg.execution.broker_url}: {exc}",
                                 hint="Verifique que Redis esté en marcha (execution.broker_url).") from exc

    from audit.distributed import tasks

    tasks.configure(cfg)
    celery_app = make_app(cfg.execution)
    tasks.register(celery_app)
    if "content" in queues:
        from audit.content import expectations

        expectations.warm_up()  # in the main process: the pool processes forked from it inherit GX imported
    celery_app.worker_main([
        "worker", "--queues", ",".join(queues), "--concurrency", str(concurrency), "--pool", "prefork",
        "--hostname", f"auditor-{os.getpid()}@{socket.gethostname()}", "--loglevel", "INFO" if verbose else "WARNING",
        "--without-gossip", "--without-mingle",
    ])
