"""Command line: ``python run_audit.py <command>`` (also installed as ``auditor-datos``).

Every command accepts ``--config`` and ``--db``; commands that touch a portal accept ``--portal``; commands that
write files accept ``--out``. Errors are one clear message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from audit.cli_base import (
    ConfigOpt,
    DbOpt,
    OutOpt,
    PortalOpt,
    RunOpt,
    VerboseOpt,
    YearOpt,
    _setup,
    _store,
    app,
    console,
    err_console,
)
from audit.config import AuditConfig
from audit.errors import AuditError, ConfigError
from audit.stopping import exiting_after_stop
from audit.store import (
    AuditRun,
    DatasetSnapshot,
    GroupSnapshot,
    OrganizationResult,
    OrganizationSnapshot,
    ResourceSnapshot,
    RunError,
    Store,
)

log = logging.getLogger("audit.cli")


def _portal(cfg: AuditConfig) -> str:
    if not cfg.portal_url:
        raise ConfigError("Falta la URL del portal.", hint="Use --portal URL o defina portal_url en config.yaml.")
    return cfg.portal_url


def _resolve_run(store: Store, run: int | None) -> int:
    from audit.runs import latest_run

    if run is None:
        run = latest_run(store)
        if run is None:
            raise AuditError("La base de datos no tiene corridas todavía.", hint="Ejecute primero 'audit' o 'crawl'.")
        return run
    with store.session() as s:
        if s.get(AuditRun, run) is None:
            raise AuditError(f"No existe la corrida {run}.", hint="Vea las corridas con 'status'.")
    return run


# --------------------------------------------------------------------------------------------------------------
@app.command()
def audit(portal: PortalOpt = None, config: ConfigOpt = None, db: DbOpt = None, out: OutOpt = None,
          year: YearOpt = None,
          commitments: Annotated[Path | None, typer.Option(help="CSV de compromisos (organization,dataset,due_date).")] = None,
          reviews: Annotated[Path | None, typer.Option(help="CSV de revisiones manuales.")] = None,
          resume: Annotated[bool, typer.Option("--resume", help="Continuar la última corrida interrumpida.")] = False,
          all_portals: Annotated[bool, typer.Option("--all", help="Auditar uno tras otro los portales de 'portals:' "
                                                    "y escribir su comparación.")] = False,
          verbose: VerboseOpt = False) -> None:
    """Auditoría completa: rastreo → sondeo → contenido → evaluación → archivos → informes."""
    cfg = _setup(config, db, portal=portal, out=out, verbose=verbose)
    store = _store(cfg)
    if all_portals:
        from audit.fleet import audit_all, print_fleet

        outcomes, written = _run_with_signals(cfg, store, year=year, resume=resume, run=audit_all)
        raise typer.Exit(print_fleet(outcomes, written, console))
    outcome = _run_with_signals(cfg, store, portal_url=_portal(cfg), year=year, resume=resume,
                                commitments=str(commitments) if commitments else None,
                                reviews=str(reviews) if reviews else None)
    print_summary(store, outcome.run_id, cfg, out_dir=outcome.out_dir)
    _finish(outcome)


def _run_with_signals(cfg: AuditConfig, store: Store, **kw: Any):  # type: ignore[no-untyped-def]
    """SIGTERM/SIGINT stop every stage at its next batch and mark the run interrupted (resume with --resume);
    a second signal stops at once (audit.stopping)."""
    from audit.pipeline import run_audit
    from audit.stopping import signal_stop

    with signal_stop(cfg.limits.stop_grace_s, _notice) as stop:
        if "run" in kw:  # audit --all
            return kw.pop("run")(cfg, store, stop=stop, **kw)
        outcome = run_audit(cfg, store, stop=stop, out_dir=Path(cfg.output_dir), **kw)
    if outcome.nothing_to_resume:
        err_console.print("[yellow]No había una corrida interrumpida que continuar: se inició una nueva "
                          f"(corrida {outcome.run_id}).[/]")
    if outcome.recovered:
        err_console.print("[yellow]Corrida(s) " + ", ".join(map(str, outcome.recovered)) + " quedaron «en curso» "
                          "porque su proceso terminó sin cerrarlas; ahora constan como interrumpidas.[/]")
    return outcome


def _notice(message: str) -> None:
    # emoji=False: rich would import its emoji table here, inside a signal handler that another signal may cut
    err_console.print(f"[yellow]{message}[/]", highlight=False, emoji=False)


def _finish(outcome: Any) -> None:
    """Exit code of an audit: 130 interrupted, 1 if some report could not be written, else 0."""
    if outcome.status == "interrupted":
        exiting_after_stop()
        err_console.print(f"Corrida {outcome.run_id} interrumpida; continúe con [bold]audit --resume[/] "
                          "(lo ya guardado no se repite).", highlight=False)
        raise typer.Exit(130)
    failed = int((outcome.counts or {}).get("report_errors") or 0)
    if failed:
        err_console.print(f"[bold red]Error:[/] {failed} informe(s) no se pudieron generar (vea `status` y el "
                          f"registro); regenérelos con `report --run {outcome.run_id}`.", highlight=False)
        raise typer.Exit(1)


@app.command()
def crawl(portal: PortalOpt = None, config: ConfigOpt = None, db: DbOpt = None,
          resume: Annotated[bool, typer.Option("--resume", help="Continuar la última corrida interrumpida.")] = False,
          verbose: VerboseOpt = False) -> None:
    """Sólo rastrear el portal (crea una corrida parcial)."""
    cfg = _setup(config, db, portal=portal, verbose=verbose)
    store = _store(cfg)
    outcome = _run_with_signals(cfg, store, portal_url=_portal(cfg), resume=resume, stages=("crawl",))
    _print_crawl_summary(store, outcome.run_id)
    _finish(outcome)


def _stage_command(stage: str, run: int | None, config: Path | None, db: str | None, out: Path | None,
                   verbose: bool, **kw: Any) -> tuple[AuditConfig, Store, int, dict[str, Any]]:
    from audit.pipeline import run_stage
    from audit.runs import mark_stage

    cfg = _setup(config, db, out=out, verbose=verbose)
    store = _store(cfg)
    run_id = _resolve_run(store, run)
    with _stoppable(cfg, run_id):
        counts = run_stage(stage, store, run_id, cfg, out_dir=Path(cfg.output_dir), **kw)
    mark_stage(store, run_id, stage, done=True, counts=counts)
    return cfg, store, run_id, counts


@contextmanager
def _stoppable(cfg: AuditConfig, run_id: int) -> Iterator[None]:
    """A single stage run from the command line stops on SIGTERM/SIGINT too (what was stored is kept)."""
    from audit.runs import StageInterrupted
    from audit.stopping import signal_stop

    try:
        with signal_stop(cfg.limits.stop_grace_s, _notice):
            yield
    except (StageInterrupted, KeyboardInterrupt):
        exiting_after_stop()
        err_console.print(f"Interrumpido. Lo ya guardado de la corrida {run_id} se conserva; vuelva a ejecutar el "
                          "comando para continuar.", highlight=False)
        raise typer.Exit(130) from None


@app.command()
def probe(run: RunOpt = None, config: ConfigOpt = None, db: DbOpt = None, verbose: VerboseOpt = False) -> None:
    """Sondear por HTTP cada recurso de una corrida (reanuda si se interrumpió)."""
    cfg, store, run_id, counts = _stage_command("probe", run, config, db, None, verbose)
    print_probe_summary(store, run_id)


@app.command()
def content(run: RunOpt = None, config: ConfigOpt = None, db: DbOpt = None, verbose: VerboseOpt = False) -> None:
    """Validar el contenido de los recursos tabulares (Great Expectations)."""
    _, _, run_id, counts = _stage_command("content", run, config, db, None, verbose)
    console.print(f"Corrida {run_id}: validación de contenido {counts}")


@app.command()
def score(run: RunOpt = None, config: ConfigOpt = None, db: DbOpt = None, out: OutOpt = None,
          commitments: Annotated[Path | None, typer.Option(help="CSV de compromisos.")] = None,
          reviews: Annotated[Path | None, typer.Option(help="CSV de revisiones manuales.")] = None,
          verbose: VerboseOpt = False) -> None:
    """Evaluar (o re-evaluar) una corrida guardada y escribir scores.csv, datasets.csv, organizations.csv, scores.json."""
    from audit.indicator import load_commitments
    from audit.outdir import check_out_dir
    from audit.pipeline import run_stage
    from audit.reviews import load_reviews, store_reviews
    from audit.runs import mark_stage

    cfg = _setup(config, db, out=out, verbose=verbose)
    commitments_file = commitments or cfg.indicator.commitments_file
    reviews_file = reviews or cfg.indicator.reviews_file
    rows = load_commitments(commitments_file) if commitments_file else None
    review_rows = load_reviews(reviews_file) if reviews_file else None
    store = _store(cfg)
    run_id = _resolve_run(store, run)
    if review_rows:
        with store.session() as s:
            portal_id = s.get(AuditRun, run_id).portal_id  # type: ignore[union-attr]
        store_reviews(store, portal_id, review_rows)
    check_out_dir(Path(cfg.output_dir), cfg.limits.out_min_free_mb)
    with _stoppable(cfg, run_id):
        for stage in ("score", "export"):
            counts = run_stage(stage, store, run_id, cfg, out_dir=Path(cfg.output_dir), commitments=rows)
            mark_stage(store, run_id, stage, done=True, counts=counts)
    print_summary(store, run_id, cfg, out_dir=Path(cfg.output_dir) / str(_year(store, run_id)))


@app.command()
def report(run: RunOpt = None, year: YearOpt = None, config: ConfigOpt = None, db: DbOpt = None, out: OutOpt = None,
           organization: Annotated[list[str] | None, typer.Option(help="Sólo esta(s) organización(es).")] = None,
           verbose: VerboseOpt = False) -> None:
    """Regenerar los informes HTML y PDF desde la base de datos, sin rastrear."""
    from audit.outdir import check_out_dir, output_error, prepare_staging, swap_in
    from reports.render import render_reports

    cfg = _setup(config, db, out=out, verbose=verbose)
    store = _store(cfg)
    run_id = _run_for_year(store, year) if (year and run is None) else _resolve_run(store, run)
    base, run_year = Path(cfg.output_dir), _year(store, run_id)
    check_out_dir(base, cfg.limits.out_min_free_mb)
    # written aside and swapped in whole; the run's other outputs already in OUT/<year> are kept
    staging = prepare_staging(base, run_year, run_id)
    with _stoppable(cfg, run_id):
        try:
            result = render_reports(store, run_id, staging / "reports", cfg=cfg, organizations=organization or None,
                                    pdf=cfg.reports.pdf, workers=cfg.reports.workers)
        except OSError as exc:
            raise output_error(exc, base) from exc
    target = swap_in(base, run_year, run_id) / "reports"
    console.print(f"Informes de la corrida {run_id} escritos en [bold]{target}[/]")
    if result.errors:
        for subject, message in result.errors.items():
            err_console.print(f"[bold red]Error:[/] informe de {subject}: {message}", highlight=False)
        raise typer.Exit(1)


def _run_for_year(store: Store, year: int) -> int:
    from sqlalchemy import select

    with store.session() as s:
        rid = s.scalar(select(AuditRun.id).where(AuditRun.year == year, AuditRun.status == "complete")
                       .order_by(AuditRun.id.desc()).limit(1))
    if rid is None:
        raise AuditError(f"No hay una corrida completa del año {year}.", hint="Ejecute 'audit --year' primero.")
    return rid


def _year(store: Store, run_id: int) -> int:
    with store.session() as s:
        return int(s.get(AuditRun, run_id).year or 0)  # type: ignore[union-attr]


@app.command()
def demo(out: Annotated[Path, typer.Option("--out", help="Carpeta del demo.")] = Path("demo"),
         config: ConfigOpt = None, verbose: VerboseOpt = False) -> None:
    """Levanta el portal de muestra (Estado de México, 69 conjuntos) en 127.0.0.1 y lo audita de punta a punta."""
    from audit.sample_portal import SamplePortal

    out.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{(out / 'audit.db').resolve()}"
    cfg = _setup(config, db_url, out=out, verbose=verbose)
    demo_commitments = out / "compromisos.csv"
    demo_suites = (out / "suites").resolve()
    with SamplePortal() as portal:
        _write_demo_commitments(demo_commitments)
        suite_file = _write_demo_suite(demo_suites)
        console.print(f"Portal de muestra en [bold]{portal.url}[/] (sólo local)")
        console.print(f"Suite de ejemplo de una dependencia: [bold]{suite_file}[/]")
        # the demo's own suite folder: the example plus whatever the user adds there (content.suites_dir)
        content = cfg.content.model_copy(update={"suites_dir": str(demo_suites)})
        cfg = cfg.model_copy(update={"portal_url": portal.url, "content": content})
        store = _store(cfg)
        outcome = _run_with_signals(cfg, store, portal_url=portal.url, kind="demo",
                                    commitments=str(demo_commitments))
    print_summary(store, outcome.run_id, cfg, out_dir=outcome.out_dir)
    console.print(f"\nBase de datos: [bold]{out / 'audit.db'}[/]")
    if outcome.out_dir is not None:
        console.print(f"Resultados: [bold]{outcome.out_dir}[/]")
    _finish(outcome)


def _write_demo_commitments(path: Path) -> None:
    from audit.sample_portal import DEMO_COMMITMENTS_CSV

    path.write_text(DEMO_COMMITMENTS_CSV, encoding="utf-8")


def _write_demo_suite(folder: Path) -> Path:
    """Write the demo's example agency suite into ``folder`` (other suite files there are kept and run too)."""
    from audit.sample_portal import DEMO_SUITE_FILE, DEMO_SUITE_JSON

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_SUITE_FILE
    path.write_text(DEMO_SUITE_JSON, encoding="utf-8")
    return path


@app.command()
def status(config: ConfigOpt = None, db: DbOpt = None,
           as_json: Annotated[bool, typer.Option("--json", help="Salida JSON.")] = False) -> None:
    """Últimas corridas, candado de auditoría y próximos trabajos programados."""
    cfg = _setup(config, db)
    store = _store(cfg)
    from audit.status import print_status, status_data

    data = status_data(store, cfg)
    if as_json:
        console.print_json(json.dumps(data, default=str, ensure_ascii=False))
    else:
        print_status(data, console)


@app.command()
def schedule(config: ConfigOpt = None, db: DbOpt = None, portal: PortalOpt = None, verbose: VerboseOpt = False) -> None:
    """Servicio programado: auditoría periódica y evaluación anual (APScheduler)."""
    from audit.scheduler import run_scheduler

    cfg = _setup(config, db, portal=portal, verbose=verbose)
    _portal(cfg)
    # Jobs reload the config file at each run (edits apply without restart); flags given here still win.
    overrides = {k: v for k, v in {"database_url": db, "portal_url": portal}.items() if v}
    run_scheduler(cfg, str(config) if config else None, overrides=overrides)


@app.command()
def publish(year: Annotated[int, typer.Option("--year", help="Año evaluado.")], portal: PortalOpt = None,
            config: ConfigOpt = None, db: DbOpt = None, out: OutOpt = None) -> None:
    """Publicar la evaluación anual en el propio portal (requiere CKAN_API_TOKEN)."""
    from audit.publish import publish_year

    cfg = _setup(config, db, portal=portal, out=out)
    store = _store(cfg)
    url = publish_year(store, cfg, year=year, out_dir=Path(cfg.output_dir), portal_url=_portal(cfg),
                       token=cfg.ckan_api_token)
    console.print(f"Evaluación {year} publicada: [bold]{url}[/]")


@app.command()
def notify(year: Annotated[int, typer.Option("--year", help="Año evaluado.")], config: ConfigOpt = None,
           db: DbOpt = None, out: OutOpt = None,
           dry_run: Annotated[Path | None, typer.Option("--dry-run", help="Escribir los mensajes en esta carpeta.")] = None) -> None:
    """Enviar a cada enlace su informe PDF y un resumen (SMTP)."""
    from audit.notify import notify_year

    cfg = _setup(config, db, out=out)
    store = _store(cfg)
    result = notify_year(store, cfg, year=year, out_dir=Path(cfg.output_dir), dry_run_dir=dry_run)
    console.print(result.summary_es())
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def evidencia(dataset: Annotated[str, typer.Argument(help="Nombre CKAN, id o título del conjunto.")],
              out: Annotated[Path, typer.Option("--out", help="Archivo ZIP que se escribe.")],
              year: Annotated[int | None, typer.Option("--year", help="Año evaluado (por omisión, el actual).")] = None,
              config: ConfigOpt = None, db: DbOpt = None, portal: PortalOpt = None) -> None:
    """Paquete de evidencia de un conjunto para atender una inconformidad (lo que el auditor vio en el año)."""
    from datetime import date

    from audit.appeal import build_appeal_package

    cfg = _setup(config, db, portal=portal)
    counts = build_appeal_package(_store(cfg), cfg, dataset, year or date.today().year, out)
    console.print(f"Paquete de evidencia escrito en [bold]{out}[/]: {counts['revisions']} revisiones, "
                  f"{counts['files']} archivos incluidos ({counts['partial_files']} solo sus primeros bytes), "
                  f"{counts['files_missing']} no conservados.")


@app.command()
def serve(config: ConfigOpt = None, db: DbOpt = None,
          host: Annotated[str | None, typer.Option(help="Dirección (por omisión 127.0.0.1).")] = None,
          port: Annotated[int | None, typer.Option(help="Puerto (por omisión 8000).")] = None) -> None:
    """Tablero web y API JSON para la Secretaría de Finanzas."""
    from audit.web.app import serve as serve_app

    cfg = _setup(config, db)
    store = _store(cfg)
    serve_app(cfg, store, host or cfg.web.host, port or cfg.web.port)


# -- summaries ---------------------------------------------------------------------------------------------------
def _print_crawl_summary(store: Store, run_id: int) -> None:
    """What the run has stored (counted in the database: also right for a crawl that was interrupted)."""
    from sqlalchemy import func, select

    with store.session() as s:
        def count(model: Any, *where: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model).where(model.run_id == run_id, *where)) or 0)

        orgs, groups = count(OrganizationSnapshot), count(GroupSnapshot)
        datasets = count(DatasetSnapshot, DatasetSnapshot.presence == "listed")
        resources, errors = count(ResourceSnapshot), count(RunError, RunError.stage == "crawl")
    console.print(
        f"[bold]Corrida {run_id}[/]: {orgs} organizaciones, {groups} grupos, {datasets} conjuntos de datos, "
        f"{resources} recursos, {errors} errores de rastreo."
    )


def print_probe_summary(store: Store, run_id: int) -> None:
    from audit.probe import probe_summary, probe_summary_table

    rows = probe_summary(store, run_id)
    if rows:
        console.print(probe_summary_table(rows))


def print_summary(store: Store, run_id: int, cfg: AuditConfig, *, out_dir: Path | None) -> None:
    from sqlalchemy import select

    with store.session() as s:
        run = s.get(AuditRun, run_id)
        assert run is not None
        orgs = s.scalars(select(OrganizationResult).where(OrganizationResult.run_id == run_id)).all()
        status = run.status
    _print_crawl_summary(store, run_id)
    print_probe_summary(store, run_id)
    if orgs:
        table = Table(title=f"Resumen por organización (corrida {run_id}, {status})")
        table.add_column("Organización")
        table.add_column("Conjuntos", justify="right")
        table.add_column("Calificación", justify="right")
        table.add_column("Conformes", justify="right")
        table.add_column("Avance", justify="right")
        for o in sorted(orgs, key=lambda o: (-(o.score or -1), o.organization_name)):
            table.add_row(
                o.title or o.organization_name, str(o.datasets),
                "—" if o.score is None else f"{100 * o.score:.1f} %",
                str(o.conformes),
                "sin compromisos registrados" if o.progress_pct is None
                else f"{o.progress_pct:.1f} % ({o.published}/{o.committed})",
            )
        console.print(table)
        from audit.indicator import portal_commitment_totals

        with store.session() as s:
            committed, published, _ = portal_commitment_totals(s, run_id)
        total = sum(o.datasets for o in orgs)
        conf = sum(o.conformes for o in orgs)
        pct = f"{100 * published / committed:.1f} %" if committed else "sin compromisos registrados"
        console.print(f"Portal: {total} conjuntos, {conf} conformes; avance en la implementación: {pct}")
    if out_dir:
        console.print(f"Archivos: {out_dir}")
    if cfg.reports.enabled and not cfg.reports.evaluator.name.strip():
        err_console.print("[yellow]Aviso: los informes no nombran a la persona responsable de la evaluación (dicen «sin "
                          "designar»). Indíquela en config.yaml (reports.evaluator.name y reports.evaluator.position) "
                          f"y regenérelos con `run_audit.py report --run {run_id}` antes de firmarlos.[/]",
                          highlight=False)


from audit import cli_loop as _cli_loop  # noqa: E402,F401  — registers the `alerts` and `check` commands on `app` (here: --help keeps this order)
from audit.distributed import worker as _worker  # noqa: E402,F401  — registers the `worker` command on `app`


def main() -> None:
    try:
        app()
    except AuditError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        exiting_after_stop()
        err_console.print("Interrumpido.")
        sys.exit(130)
    except Exception as exc:  # a bug or an unforeseen condition: one line, the details in the log
        log.debug("unexpected error", exc_info=True)
        err_console.print(f"[bold red]Error inesperado:[/] {exc.__class__.__name__}: {exc}\n"
                          "  → Repita con --verbose para ver el detalle y repórtelo.", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
