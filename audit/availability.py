"""What a portal's year of runs says: its complete runs, its snapshot run and each resource's availability.

Read-only queries over the store, below the stages: the scoring stage asks for the year's availability, the annual
evaluation (:mod:`audit.annual`), the publication, the fleet comparison and the scheduler for the snapshot run. A run
belongs to the year stored in ``AuditRun.year``.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from audit.evidence import REACHABLE_OUTCOMES, Availability
from audit.store.db import Store
from audit.store.models import AuditRun, Portal, Probe, ResourceSnapshot


def find_portal_id(store: Store, portal_url: str) -> int | None:
    """The stored portal's id (with or without a trailing slash), or None when it was never audited."""
    url = portal_url.rstrip("/")
    with store.session() as s:
        return s.scalar(select(Portal.id).where(or_(Portal.url == url, Portal.url == url + "/")))


def year_runs(store: Store, portal_id: int, year: int, *, until_run_id: int | None = None) -> list[int]:
    """Ids of the runs whose probes count for ``year``: complete runs of that year, oldest first.

    With ``until_run_id`` only runs up to it count, and that run counts even while it is still running (the scoring
    stage of a run asks for the availability including its own probes).
    """
    with store.session() as s:
        cond = and_(AuditRun.portal_id == portal_id, AuditRun.year == year)
        if until_run_id is None:
            q = select(AuditRun.id).where(cond, AuditRun.status == "complete")
        else:
            q = select(AuditRun.id).where(
                cond,
                AuditRun.id <= until_run_id,
                or_(AuditRun.status == "complete", AuditRun.id == until_run_id),
            )
        return list(s.scalars(q.order_by(AuditRun.id)))


def availability_for_year(
    store: Store, portal_id: int, year: int, *, until_run_id: int | None = None
) -> dict[str, Availability]:
    """Resource key (CKAN id, else URL) → reachable runs / runs of the year that listed and probed it.

    A run in which a resource was listed but not probed (e.g. the probe stage skipped it) does not count against it.
    Computed with one grouped query, so it stays cheap for a year of weekly runs over a large portal.
    """
    run_ids = year_runs(store, portal_id, year, until_run_id=until_run_id)
    if not run_ids:
        return {}
    key = func.coalesce(func.nullif(ResourceSnapshot.ckan_id, ""), ResourceSnapshot.url)
    reachable = [str(o) for o in REACHABLE_OUTCOMES]
    with store.session() as s:
        rows = s.execute(
            select(
                key.label("key"),
                func.count(func.distinct(Probe.run_id)).label("total"),
                func.count(func.distinct(case((Probe.outcome.in_(reachable), Probe.run_id)))).label("ok"),
            )
            .join(Probe, Probe.resource_snapshot_id == ResourceSnapshot.id)
            .where(ResourceSnapshot.run_id.in_(run_ids), key.is_not(None))
            .group_by(key)
        ).all()
    return {str(k): Availability(reachable_runs=int(ok), total_runs=int(total)) for k, total, ok in rows}


def annual_snapshot_run(store: Store, portal_id: int, year: int) -> int | None:
    """The last complete run of ``year`` (the evaluation's snapshot), or None."""
    with store.session() as s:
        return s.scalar(
            select(AuditRun.id)
            .where(AuditRun.portal_id == portal_id, AuditRun.year == year, AuditRun.status == "complete")
            .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
            .limit(1)
        )


def describe_availability(av: Availability) -> str:
    """Spanish evidence text, e.g. "disponible en 50 de 52 revisiones (96 %)"."""
    noun = "revisión" if av.total_runs == 1 else "revisiones"
    return f"disponible en {av.reachable_runs} de {av.total_runs} {noun} ({av.ratio:.0%})".replace("%", " %")
