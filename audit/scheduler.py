"""The scheduled service (``run_audit.py schedule``): periodic audits and the annual evaluation, unattended.

APScheduler 3 with its job store in the audit database (``apscheduler_jobs`` table), so the schedule and any run
missed while the service was down survive restarts:

* jobs come from ``config.yaml`` (``schedule.periodic_cron``, ``schedule.annual_cron``); restarting with a changed
  config replaces them (``replace_existing``);
* ``coalesce=True`` + ``misfire_grace_time``: runs missed while the service was down run **once** on restart, if
  the latest missed time is within the grace period. To make that work across restarts a job whose trigger did not
  change keeps its stored next run time (APScheduler would otherwise recompute it from "now" and lose the miss);
* ``max_instances=1``; and the audit lock (``audit.locking``) keeps a manual audit or a second scheduler process
  from auditing the same portal at the same time;
* after each complete periodic audit (also one completed by the resume job) the organizations get their change
  digests (:func:`send_change_alerts`, audit.alerts; idempotent per run, ``alerts.enabled``);
* SIGTERM/SIGINT set :data:`STOP`: the running audit finishes its current batch, marks the run ``interrupted`` and
  the service exits; on the next start the interrupted run is resumed first.

Cron expressions have 5 fields (``minute hour day month day-of-week``, as in crontab: 0 or 7 = Sunday, or names)
or 6 fields with seconds first (``second minute hour day month day-of-week``), handy for tests.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from audit.errors import AuditError, ConfigError, LockHeldError

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.store.db import Store

log = logging.getLogger(__name__)

PERIODIC_JOB_ID = "periodic-audit"
ANNUAL_JOB_ID = "annual-evaluation"
RESUME_JOB_ID = "resume-interrupted"
JOBS_TABLE = "apscheduler_jobs"

#: set by SIGTERM/SIGINT in :func:`run_scheduler`; the pipeline checks it between batches
STOP = threading.Event()

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- cron ------------------------------------------------------------------------------------------------------


def _dow_to_names(field: str) -> str:
    """crontab day-of-week (0/7 = Sunday) → APScheduler names (APScheduler's numbers start at Monday = 0)."""
    out: list[str] = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        if not base.replace("-", "").isdigit():
            out.append(part)  # *, names (mon-fri), */2 …
            continue
        lo_s, _, hi_s = base.partition("-")
        lo = int(lo_s)
        hi = int(hi_s) if hi_s else (7 if step else lo)
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi):
            raise ValueError(f"día de la semana fuera de rango: {part!r}")
        values = range(lo, hi + 1, int(step) if step else 1)
        out.extend(dict.fromkeys(_DOW_NAMES[v] for v in values))
    return ",".join(dict.fromkeys(out))


def parse_cron(expr: str, timezone: str, *, key: str = "schedule") -> CronTrigger:
    """Parse a 5-field crontab (or 6-field with seconds first) into a CronTrigger; bad input → ConfigError."""
    fields = expr.split()
    try:
        tz = ZoneInfo(timezone)
    except Exception as exc:
        raise ConfigError(f"Zona horaria desconocida: {timezone!r}", hint="Use p. ej. America/Mexico_City.") from exc
    try:
        if len(fields) == 5:
            second, (minute, hour, day, month, dow) = "0", fields
        elif len(fields) == 6:
            second, minute, hour, day, month, dow = fields
        else:
            raise ValueError(f"tiene {len(fields)} campos")
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_dow_to_names(dow), timezone=tz)
    except ValueError as exc:
        raise ConfigError(
            f"Expresión cron inválida en {key}: {expr!r} ({exc})",
            hint="Use 5 campos 'minuto hora día mes día-semana', p. ej. '30 2 * * mon' (lunes 02:30).",
        ) from exc


def cron_text(trigger: Any) -> str:
    """A CronTrigger back as a short cron line (seconds first only when not 0), for humans."""
    fields = {f.name: str(f) for f in getattr(trigger, "fields", [])}
    if not fields:
        return str(trigger)
    parts = [fields.get(k, "*") for k in ("minute", "hour", "day", "month", "day_of_week")]
    return " ".join(parts if fields.get("second", "0") == "0" else [fields["second"], *parts])


# --- building the scheduler ------------------------------------------------------------------------------------


def job_overrides(cfg: AuditConfig) -> dict[str, Any]:
    """What a job needs to rebuild exactly this configuration in its own thread (CLI flags included)."""
    return cfg.model_dump(mode="json")


def build_scheduler(
    cfg: AuditConfig,
    *,
    blocking: bool = True,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    jobs: bool = True,
) -> BaseScheduler:
    """A scheduler with its job store in ``cfg.database_url`` and, if ``jobs``, the configured jobs registered.

    Not started. ``blocking=False`` gives a BackgroundScheduler (tests, embedding).
    """
    from audit.store.db import make_engine

    tz = ZoneInfo(cfg.timezone)
    jobstore = SQLAlchemyJobStore(engine=make_engine(cfg.database_url), tablename=JOBS_TABLE)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": jobstore},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": cfg.schedule.misfire_grace_s,
            "max_instances": 1,
        },
        timezone=tz,
    )
    if jobs:
        register_jobs(scheduler, cfg, config_path=config_path, overrides=overrides)
    return scheduler


def register_jobs(
    scheduler: BaseScheduler, cfg: AuditConfig, *, config_path: str | None = None, overrides: dict[str, Any] | None = None
) -> None:
    """Add (or replace) the periodic and annual jobs from the config; remove disabled ones."""
    kwargs = {
        "config_path": str(Path(config_path).resolve()) if config_path else None,
        "overrides": overrides if overrides is not None else job_overrides(cfg),
    }
    sch = cfg.schedule
    wanted = {
        PERIODIC_JOB_ID: (sch.periodic_enabled, periodic_audit_job, sch.periodic_cron, "schedule.periodic_cron",
                          "Auditoría periódica"),
        ANNUAL_JOB_ID: (sch.annual_enabled, annual_evaluation_job, sch.annual_cron, "schedule.annual_cron",
                        "Evaluación anual (año anterior)"),
    }
    for job_id, (enabled, func, expr, key, name) in wanted.items():
        trigger = parse_cron(expr, cfg.timezone, key=key)  # validate even when disabled
        if enabled:
            schedule_job(scheduler, func, trigger, job_id, name=name, kwargs=kwargs)
        else:
            _remove_stored_job(scheduler, job_id)


def _stored_job(scheduler: BaseScheduler, job_id: str) -> Any:
    """The job as persisted by a previous process (None if absent or unreadable)."""
    store = scheduler._jobstores.get("default")  # noqa: SLF001 — lookup before start; APScheduler has no API for it
    if not isinstance(store, BaseJobStore):
        return None
    try:
        store.start(scheduler, "default")  # idempotent: creates the table if needed
        return store.lookup_job(job_id)
    except Exception as exc:  # a job whose function no longer imports: it will be replaced
        log.warning("scheduler stored job %s unreadable (%s); replacing it", job_id, exc)
        return None


def _remove_stored_job(scheduler: BaseScheduler, job_id: str) -> None:
    if _stored_job(scheduler, job_id) is not None:
        scheduler._jobstores["default"].remove_job(job_id)  # noqa: SLF001
        log.info("scheduler job=%s event=removed (disabled in config)", job_id)


def schedule_job(
    scheduler: BaseScheduler,
    func: Callable[..., Any],
    trigger: CronTrigger,
    job_id: str,
    *,
    name: str | None = None,
    kwargs: dict[str, Any] | None = None,
) -> None:
    """``add_job(replace_existing=True)``, keeping the stored next run time when the trigger is unchanged, so a run
    missed while the service was down is still due (and coalesced into one) when it starts again."""
    previous = _stored_job(scheduler, job_id)
    extra: dict[str, Any] = {}
    if previous is not None and str(previous.trigger) == str(trigger) and previous.next_run_time is not None:
        extra["next_run_time"] = previous.next_run_time
        if previous.next_run_time < datetime.now(previous.next_run_time.tzinfo):
            log.info("scheduler job=%s event=missed_run due=%s (runs once if within the grace time)",
                     job_id, previous.next_run_time.isoformat())
    elif previous is not None:
        log.info("scheduler job=%s event=trigger_changed old=%s new=%s", job_id, previous.trigger, trigger)
    scheduler.add_job(func, trigger, id=job_id, name=name or job_id, kwargs=kwargs or {}, replace_existing=True,
                      **extra)


def next_jobs(cfg: AuditConfig) -> list[dict[str, Any]]:
    """The persisted jobs and their next run time, without running a scheduler (for ``status``)."""
    scheduler = build_scheduler(cfg, blocking=False, jobs=False)
    store = scheduler._jobstores["default"]  # noqa: SLF001
    try:
        store.start(scheduler, "default")
        out = []
        for job in store.get_all_jobs():
            out.append({
                "id": job.id,
                "name": job.name,
                "trigger": cron_text(job.trigger),
                "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
            })
        return out
    except Exception as exc:
        log.warning("could not read scheduled jobs: %s", exc)
        return []
    finally:
        store.shutdown()


# --- jobs (module-level: the job store pickles them by reference) -----------------------------------------------

_active_lock = threading.Condition()
_active = 0


@contextmanager
def _tracked() -> Iterator[None]:
    global _active
    with _active_lock:
        _active += 1
    try:
        yield
    finally:
        with _active_lock:
            _active -= 1
            _active_lock.notify_all()


def wait_for_jobs(timeout: float | None = None) -> bool:
    """Block until no job is running (True) or the timeout passes (False)."""
    with _active_lock:
        return _active_lock.wait_for(lambda: _active == 0, timeout=timeout)


@contextmanager
def _job_context(job: str, config_path: str | None, overrides: dict[str, Any]) -> Iterator[tuple[Any, Any] | None]:
    """Load config and open the store for one job (None if that fails); every failure is logged, never raised
    into APScheduler (which would only log it less clearly)."""
    from audit.config import load_config
    from audit.store.db import open_store

    with _tracked():
        try:
            cfg = load_config(config_path, overrides)
            store = open_store(cfg.database_url)
        except AuditError as exc:
            log.error("job=%s event=failed error=%s", job, exc)
            yield None
            return
        try:
            yield cfg, store
        except LockHeldError as exc:
            log.warning("job=%s event=skipped reason=lock_held %s", job, exc.message)
        except AuditError as exc:
            log.error("job=%s event=failed error=%s", job, exc)
        except Exception:  # a bug must not kill the service: log it, the next trigger runs again
            log.exception("job=%s event=crashed", job)
        finally:
            store.close()


def _resumable(store: Store, portal_url: str) -> tuple[int, str, int | None] | None:
    """(run id, kind, year) of the portal's unfinished run, if any."""
    from sqlalchemy import select

    from audit.availability import find_portal_id
    from audit.runs import resumable_run
    from audit.store.models import AuditRun

    portal_id = find_portal_id(store, portal_url)
    if portal_id is None:
        return None
    run_id = resumable_run(store, portal_id)
    if run_id is None:
        return None
    with store.session() as s:
        row = s.execute(select(AuditRun.kind, AuditRun.year).where(AuditRun.id == run_id)).one()
    return run_id, row.kind, row.year


def _holder(what: str) -> str:
    from audit.locking import default_holder

    return f"servicio programado, {what} — {default_holder()}"


def _portal(cfg: AuditConfig, job: str) -> str | None:
    if not cfg.portal_url:
        log.error("job=%s event=skipped reason=no_portal (defina portal_url en config.yaml o use --portal)", job)
    return cfg.portal_url


def periodic_audit_job(config_path: str | None, overrides: dict[str, Any]) -> None:
    """Audit the configured portal (resuming its interrupted run, if any)."""
    with _job_context("periodic", config_path, overrides) as ctx:
        if ctx is None:
            return
        cfg, store = ctx
        portal_url = _portal(cfg, "periodic")
        if not portal_url:
            return
        from audit.pipeline import run_audit

        pending = _resumable(store, portal_url)
        log.info("job=periodic event=start portal=%s resume=%s", portal_url, pending is not None)
        outcome = run_audit(cfg, store, portal_url=portal_url, kind="periodic", resume=pending is not None, stop=STOP,
                            holder=_holder("auditoría periódica"))
        log.info("job=periodic event=end run=%s status=%s counts=%s", outcome.run_id, outcome.status, outcome.counts)
        if outcome.status == "complete":
            send_change_alerts(cfg, store, outcome.run_id)


def send_change_alerts(cfg: AuditConfig, store: Store, run_id: int) -> None:
    """After a complete periodic audit: the organizations' change digests (audit.alerts). Idempotent per run, so
    the resume job may call it again; a failure is logged and never fails the audit."""
    if not cfg.alerts.enabled:
        return
    from audit.alerts import send_alerts

    try:
        result = send_alerts(store, cfg, run_id, dry_run_dir=Path(cfg.notify.dry_run_dir) if cfg.notify.dry_run_dir
                             else None)
    except AuditError as exc:
        log.error("job=alerts run=%d event=failed error=%s", run_id, exc)
        return
    log.info("job=alerts run=%d %s", run_id, result.summary_es().replace("\n", " | "))


def annual_evaluation_job(config_path: str | None, overrides: dict[str, Any]) -> None:
    """Produce the previous calendar year's evaluation (exports and reports in ``output_dir/<year>/``)."""
    with _job_context("annual", config_path, overrides) as ctx:
        if ctx is None:
            return
        cfg, store = ctx
        portal_url = _portal(cfg, "annual")
        if not portal_url:
            return
        from audit.annual import annual_evaluation

        year = datetime.now(ZoneInfo(cfg.timezone)).year - 1
        log.info("job=annual event=start portal=%s year=%d", portal_url, year)
        result = annual_evaluation(store, cfg, portal_url=portal_url, year=year, out_dir=Path(cfg.output_dir),
                                   stop=STOP)
        log.info("job=annual event=end year=%d snapshot_run=%d runs_in_year=%d out=%s",
                 year, result.run_id, result.runs_in_year, result.out_dir)


def resume_interrupted_job(config_path: str | None, overrides: dict[str, Any]) -> None:
    """Run once at start-up: continue the run a previous stop interrupted (writing outputs if it was annual)."""
    with _job_context("resume", config_path, overrides) as ctx:
        if ctx is None:
            return
        cfg, store = ctx
        portal_url = _portal(cfg, "resume")
        if not portal_url:
            return
        pending = _resumable(store, portal_url)
        if pending is None:
            return
        run_id, kind, year = pending
        from audit.pipeline import run_audit

        log.info("job=resume event=start portal=%s run=%d kind=%s", portal_url, run_id, kind)
        out_dir = Path(cfg.output_dir) if kind == "annual" else None
        outcome = run_audit(cfg, store, portal_url=portal_url, year=year, kind=kind, resume=True, stop=STOP,
                            out_dir=out_dir, holder=_holder(f"reanudación de la corrida {run_id}"))
        log.info("job=resume event=end run=%s status=%s", outcome.run_id, outcome.status)
        if kind == "periodic" and outcome.status == "complete":
            send_change_alerts(cfg, store, outcome.run_id)
        if kind == "annual" and outcome.status == "complete":
            from audit.annual import write_outputs

            write_outputs(store, cfg, outcome.run_id, Path(cfg.output_dir))


# --- the service ------------------------------------------------------------------------------------------------


def run_scheduler(cfg: AuditConfig, config_path: str | None, *, overrides: dict[str, Any] | None = None) -> None:
    """Run the service in the foreground until SIGTERM/SIGINT (blocking)."""
    STOP.clear()
    overrides = overrides if overrides is not None else job_overrides(cfg)
    scheduler = build_scheduler(cfg, blocking=True, config_path=config_path, overrides=overrides)
    kwargs = {"config_path": str(Path(config_path).resolve()) if config_path else None, "overrides": overrides}
    if cfg.schedule.resume_on_start and cfg.portal_url:
        scheduler.add_job(resume_interrupted_job, "date", run_date=datetime.now(ZoneInfo(cfg.timezone)),
                          id=RESUME_JOB_ID, name="Reanudar corrida interrumpida", kwargs=kwargs,
                          replace_existing=True, misfire_grace_time=None)

    def on_signal(signum: int, _frame: object) -> None:
        if STOP.is_set():  # second signal: the operator insists
            log.warning("scheduler event=forced_exit signal=%s", signal.Signals(signum).name)
            os._exit(128 + signum)
        log.info("scheduler event=stopping signal=%s (finishing the current batch)", signal.Signals(signum).name)
        STOP.set()
        if scheduler.state != STATE_STOPPED:
            scheduler.shutdown(wait=False)

    def on_started(_event: object) -> None:
        # a signal that arrived before start() could not shut the scheduler down yet: honour it now
        if STOP.is_set():
            scheduler.shutdown(wait=False)
            return
        for job in scheduler.get_jobs():
            log.info("scheduler job=%s trigger=%s next=%s", job.id, job.trigger, job.next_run_time)
        log.info("scheduler event=started timezone=%s database=%s", cfg.timezone, _safe_url(cfg.database_url))

    scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        wait_for_jobs()
        log.info("scheduler event=stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "?"
