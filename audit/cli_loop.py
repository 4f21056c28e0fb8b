"""Commands of the all-year loop with agencies: ``alerts`` (change digests of an audit) and ``check`` (one
dataset now). Registered on ``audit.cli_base.app`` (audit/cli.py imports this module at its end)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import rules
from audit.cli_base import ConfigOpt, DbOpt, PortalOpt, RunOpt, VerboseOpt, _setup, _store, app, console
from audit.errors import AuditError


@app.command()
def alerts(run: RunOpt = None, config: ConfigOpt = None, db: DbOpt = None, verbose: VerboseOpt = False,
           dry_run: Annotated[Path | None, typer.Option("--dry-run", help="Escribir los mensajes (.eml) en esta "
                                                        "carpeta en vez de enviarlos.")] = None) -> None:
    """Avisar a cada organización lo que cambió desde la auditoría anterior (un correo por organización)."""
    from audit.alerts import send_alerts
    from audit.runs import latest_run

    cfg = _setup(config, db, verbose=verbose)
    store = _store(cfg)
    run_id = run if run is not None else latest_run(store, complete_only=True)
    if run_id is None:
        raise AuditError("La base de datos no tiene auditorías completas todavía.",
                         hint="Ejecute primero 'audit' (o espere la auditoría periódica).")
    result = send_alerts(store, cfg, run_id, dry_run_dir=dry_run)
    console.print(result.summary_es(), highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@app.command(help=f"Revisar un conjunto ahora (rastreo, sondeo, contenido y las {rules.count_es()} reglas) sin tocar "
             "la evaluación.")
def check(target: Annotated[str, typer.Argument(help="Nombre del conjunto o su dirección en el portal configurado.")],
          portal: PortalOpt = None, config: ConfigOpt = None, verbose: VerboseOpt = False,
          as_json: Annotated[bool, typer.Option("--json", help="Resultado en JSON.")] = False) -> None:
    import json

    from audit.check import check_dataset, print_check

    cfg = _setup(config, None, portal=portal, verbose=verbose)
    if as_json:
        from audit import progress

        progress.FORCE_BAR = False  # stdout is for the JSON document
    result = check_dataset(cfg, target)
    if as_json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        print_check(result, console)
    if not result.conforme:
        raise typer.Exit(1)
