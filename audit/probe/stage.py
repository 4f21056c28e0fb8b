"""The probe stage over the store: probe every resource of a run, write ``Probe`` rows, summarize."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin

from sqlalchemy import and_, delete, func, insert, select

from audit.archive import EvidenceArchive, maybe_prune
from audit.clock import to_utc, utcnow
from audit.config import AuditConfig
from audit.errors import StoreError
from audit.evidence import ProbeEvidence
from audit.httppolicy import allow_list
from audit.outcomes import UNPROBED_TABLE_ES, Outcome, outcome_es
from audit.probe.client import ProbeCrash, ProbeRequest, probe_urls, with_previous
from audit.progress import stage_progress
from audit.store.db import Store
from audit.store.models import AuditRun, DatasetSnapshot, Probe, ResourceSnapshot, RunError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Spanish headings of the CLI probe summary table (outcome values, then "unprobed")
OUTCOME_LABELS_ES: dict[str, str] = {**outcome_es("cli_heading"), "unprobed": UNPROBED_TABLE_ES}

_EVIDENCE_FIELDS = (
    "outcome", "reason", "status_code", "final_url", "content_type", "content_length", "content_disposition",
    "last_modified", "etag", "sniffed_type", "sniffed_detail", "encoding", "bytes_read", "truncated", "sha256",
    "elapsed_ms", "error", "not_modified",
)


def evidence_from_row(row: Probe) -> ProbeEvidence:
    values: dict[str, Any] = {f: getattr(row, f) for f in _EVIDENCE_FIELDS}
    values["last_modified"] = to_utc(values["last_modified"])
    values["redirects"] = tuple(row.redirects or ())
    values["reason"] = values["reason"] or ""
    values["bytes_read"] = values["bytes_read"] or 0
    values["truncated"] = bool(values["truncated"])
    values["not_modified"] = bool(values["not_modified"])
    return ProbeEvidence(**values)


def _db_text(value: Any) -> Any:
    """Strings from servers may hold NUL or lone surrogates, which PostgreSQL refuses; make them storable."""
    if not isinstance(value, str):
        return value
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _values_from_evidence(run_id: int, resource_id: int, ev: ProbeEvidence, checked_at: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {f: _db_text(getattr(ev, f)) for f in _EVIDENCE_FIELDS}
    values.update(
        run_id=run_id,
        resource_snapshot_id=resource_id,
        redirects=[_db_text(u) for u in ev.redirects],
        checked_at=checked_at,
    )
    return values


def _row_from_evidence(run_id: int, resource_id: int, ev: ProbeEvidence, checked_at: datetime) -> Probe:
    return Probe(**_values_from_evidence(run_id, resource_id, ev, checked_at))


def _run_coro(coro: Awaitable[T]) -> T:
    """asyncio.run, also from code that already runs inside an event loop (then in a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="probe-stage")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _previous_evidence(s: Session, run: AuditRun) -> tuple[dict[str, ProbeEvidence], dict[str, ProbeEvidence]]:
    """Evidence of the latest earlier run of the same portal that probed anything: by CKAN id and by URL."""
    prev_run_id = s.scalar(
        select(func.max(Probe.run_id))
        .join(AuditRun, AuditRun.id == Probe.run_id)
        .where(AuditRun.portal_id == run.portal_id, Probe.run_id < run.id)
    )
    by_id: dict[str, ProbeEvidence] = {}
    by_url: dict[str, ProbeEvidence] = {}
    if prev_run_id is None:
        return by_id, by_url
    rows = s.execute(
        select(Probe, ResourceSnapshot.ckan_id, ResourceSnapshot.url)
        .join(ResourceSnapshot, ResourceSnapshot.id == Probe.resource_snapshot_id)
        .where(Probe.run_id == prev_run_id)
    ).all()
    for probe, ckan_id, url in rows:
        ev = evidence_from_row(probe)
        if ckan_id:
            by_id[ckan_id] = ev
        if url:
            by_url[url.strip()] = ev
    return by_id, by_url


def resolve_on_portal(url: str | None, portal_url: str) -> str | None:
    """A site-relative link ("/dataset/x/resource/y/download/f.csv", "//host/f.csv") as a browser on the portal's
    dataset page would follow it. Anything else is left for the prober to judge (e.g. "www.host/f.csv" without a
    scheme stays invalid: a browser would not find it either)."""
    text = (url or "").strip()
    if text.startswith("/") and portal_url:
        return urljoin(portal_url.rstrip("/") + "/", text)
    return url


def run_probe_stage(store: Store, run_id: int, cfg: AuditConfig, *, resume: bool = True) -> dict[str, int]:
    """Probe every resource of run ``run_id`` that has no Probe row yet; return counts by outcome (whole run).

    ``resume=False`` deletes this run's probes first. Writes are batched (``cfg.probe.batch_size`` rows per
    transaction), so an interrupted stage resumes where it stopped. Conditional requests reuse the previous
    run's evidence of the same resource (by CKAN id, else by URL). A crash while probing one resource is
    recorded as a RunError and the stage goes on (that resource stays unprobed and is retried on resume).
    """
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is None:
            raise StoreError(f"No existe la corrida {run_id}.", hint="Consulte las corridas con 'run_audit.py status'.")
        portal_url = run.portal.url
        if not resume:
            s.execute(delete(Probe).where(Probe.run_id == run_id))
        probed = select(Probe.resource_snapshot_id).where(Probe.run_id == run_id)
        todo = s.execute(
            select(ResourceSnapshot.id, ResourceSnapshot.ckan_id, ResourceSnapshot.url, ResourceSnapshot.format)
            .where(ResourceSnapshot.run_id == run_id, ResourceSnapshot.id.not_in(probed))
            .order_by(ResourceSnapshot.id)
        ).all()
        by_id, by_url = _previous_evidence(s, run) if cfg.probe.conditional_requests else ({}, {})

    requests: list[ProbeRequest] = []
    for res_id, ckan_id, url, fmt in todo:
        req = ProbeRequest(url=resolve_on_portal(url, portal_url), key=res_id, declared_format=fmt)
        prev = (by_id.get(ckan_id) if ckan_id else None) or (by_url.get(url.strip()) if url else None)
        requests.append(with_previous(req, prev))

    allow_hosts = allow_list(cfg, portal_url)
    log.info("probe run=%d resources=%d (already probed skipped) allow_hosts=%s", run_id, len(requests),
             sorted(allow_hosts))
    if requests and cfg.execution.backend == "distributed":  # batches of one host per task, on the workers
        from audit.distributed.coordinator import run_probe_distributed

        run_probe_distributed(store, run_id, cfg, requests, allow_hosts)
    elif requests:
        _run_coro(_probe_and_store(store, run_id, cfg, requests, allow_hosts))
    if requests and cfg.archive.enabled:  # cheap unless the cap is exceeded or the daily full prune is due
        maybe_prune(store, cfg)

    # Run bookkeeping (stage, stages_done, counts) belongs to the pipeline (audit.runs.mark_stage).
    with store.session() as s:
        counts = dict(
            s.execute(select(Probe.outcome, func.count()).where(Probe.run_id == run_id).group_by(Probe.outcome)).all()
        )
    return {str(k): int(v) for k, v in counts.items()}


async def _probe_and_store(
    store: Store, run_id: int, cfg: AuditConfig, requests: list[ProbeRequest], allow_hosts: frozenset[str]
) -> None:
    batch: list[dict[str, Any]] = []
    errors: list[RunError] = []
    writing: asyncio.Task[None] | None = None
    archive = EvidenceArchive.from_config(cfg)

    def write(rows: list[dict[str, Any]], errs: list[RunError]) -> None:
        with store.session() as s:
            if rows:
                s.execute(insert(Probe), rows)  # Core bulk insert: a fraction of the ORM's CPU per row
            s.add_all(errs)

    async def flush() -> None:
        # Writes run in a thread so the event loop keeps probing; one transaction at a time, in order.
        nonlocal writing, batch, errors
        if writing is not None:
            await writing
            writing = None
        if batch or errors:
            writing = asyncio.create_task(asyncio.to_thread(write, batch, errors))
            batch, errors = [], []

    try:
        with stage_progress("Sondeando recursos", total=len(requests)) as advance:
            async for req, ev in probe_urls(requests, cfg, allow_hosts=allow_hosts, archive=archive):
                now = utcnow()
                if isinstance(ev, ProbeCrash):  # our own bug, not the publisher's: record it, leave it unprobed
                    errors.append(
                        RunError(run_id=run_id, stage="probe", subject=(req.url or "")[:500], code=ev.reason,
                                 message=ev.error or "", created_at=now)
                    )
                else:
                    batch.append(_values_from_evidence(run_id, int(req.key), ev, now))
                advance(1)
                if len(batch) + len(errors) >= cfg.probe.batch_size:
                    await flush()
    finally:
        await flush()  # what was probed before an interruption is kept (resume)
        if writing is not None:
            await writing


def probe_evidence_for_run(store: Store, run_id: int) -> dict[int, ProbeEvidence]:
    """resource_snapshot_id → evidence for every probed resource of the run (what scoring uses)."""
    with store.session() as s:
        rows = s.scalars(select(Probe).where(Probe.run_id == run_id)).all()
        return {row.resource_snapshot_id: evidence_from_row(row) for row in rows}


def probe_summary(store: Store, run_id: int) -> list[dict[str, Any]]:
    """One row per organization: ``organization``, ``total``, one count per outcome, ``unprobed``.

    Organizations sorted by name ("" for datasets without one). Keys are the outcome values; Spanish headings
    are in :data:`OUTCOME_LABELS_ES`.
    """
    with store.session() as s:
        rows = s.execute(
            select(DatasetSnapshot.organization_name, Probe.outcome, func.count())
            .select_from(ResourceSnapshot)
            .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
            .outerjoin(Probe, and_(Probe.resource_snapshot_id == ResourceSnapshot.id, Probe.run_id == run_id))
            .where(ResourceSnapshot.run_id == run_id)
            .group_by(DatasetSnapshot.organization_name, Probe.outcome)
        ).all()
    per_org: dict[str, Counter[str]] = {}
    for org, outcome, n in rows:
        per_org.setdefault(org or "", Counter())[outcome or "unprobed"] += int(n)
    out: list[dict[str, Any]] = []
    for org in sorted(per_org):
        counter = per_org[org]
        row: dict[str, Any] = {"organization": org, "total": sum(counter.values())}
        for outcome in Outcome:
            row[outcome.value] = counter.get(outcome.value, 0)
        row["unprobed"] = counter.get("unprobed", 0)
        out.append(row)
    return out


def probe_summary_table(rows: list[dict[str, Any]]) -> Any:
    """A ``rich.table.Table`` with Spanish headings for :func:`probe_summary` rows (only outcomes that occur)."""
    from rich.table import Table

    keys = [k for k in OUTCOME_LABELS_ES if any(r.get(k) for r in rows)]
    table = Table(title="Resultado del sondeo por organización")
    table.add_column("Organización")
    table.add_column("Recursos", justify="right")
    for key in keys:
        table.add_column(OUTCOME_LABELS_ES[key], justify="right")
    totals = {k: sum(int(r.get(k, 0)) for r in rows) for k in ["total", *keys]}
    for r in rows:
        table.add_row(r["organization"] or "(sin organización)", str(r["total"]), *(str(r.get(k, 0)) for k in keys))
    table.add_row("Total", str(totals["total"]), *(str(totals[k]) for k in keys), style="bold")
    return table
