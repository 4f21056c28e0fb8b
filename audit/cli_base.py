"""What every command module shares: the Typer ``app`` they register on, the consoles, the common options, and
how a command loads the configuration and opens the store.

:mod:`audit.cli` defines most commands and imports the other command modules (:mod:`audit.cli_loop`,
:mod:`audit.distributed.worker`) so they register on the same ``app``; they import this module, never
:mod:`audit.cli`, so the commands import one way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

import rules
from audit.config import AuditConfig, load_config
from audit.store import Store, open_store

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Auditor de Datos Abiertos: evalúa un portal CKAN o un catálogo DCAT contra las "
                  f"{rules.count_es()} características legales.")
console = Console(stderr=False)
err_console = Console(stderr=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="Archivo config.yaml.")]
DbOpt = Annotated[str | None, typer.Option("--db", help="URL de la base de datos (sqlite:///… o postgresql+psycopg://…).")]
PortalOpt = Annotated[str | None, typer.Option(
    "--portal", help="URL base del portal CKAN, o de su data.json o catálogo RDF DCAT (el tipo se detecta).")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Carpeta de resultados.")]
RunOpt = Annotated[int | None, typer.Option("--run", help="Corrida (por omisión, la última).")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Año evaluado (por omisión, el de la corrida).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Mensajes detallados.")]


def _setup(config: Path | None, db: str | None, *, portal: str | None = None, out: Path | None = None,
           verbose: bool = False) -> AuditConfig:
    from audit.logsetup import configure_logging

    configure_logging(logging.DEBUG if verbose else logging.INFO)
    overrides: dict[str, Any] = {"database_url": db, "portal_url": portal,
                                 "output_dir": str(out) if out else None}
    cfg = load_config(config, overrides)
    from audit.csvfiles import configure_input_limits

    configure_input_limits(cfg.limits.input_max_mb, cfg.limits.input_max_rows, cfg.limits.suite_max_mb)
    return cfg


def _store(cfg: AuditConfig) -> Store:
    return open_store(cfg.database_url)
