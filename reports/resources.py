"""The resources of an organization's datasets with their history in the evaluated year.

A finding about a resource must tell the agency which file (name, URL, CKAN id), since when it fails («falla desde
el 3 de marzo de 2026, en 12 de 14 revisiones») and when it last worked. The history is read from the probes of the
year's complete runs of the same portal (plus the run being reported), matching a resource by its CKAN id (its URL
when it has none), in a few grouped queries per organization.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from audit.outcomes import REACHABLE_OUTCOMES, Outcome
from audit.store.models import AuditRun, Probe, ResourceSnapshot

_REACHABLE = frozenset(str(o) for o in REACHABLE_OUTCOMES)
_CHUNK = 500


@dataclass(slots=True)
class ResourceInfo:
    name: str
    url: str | None
    ckan_id: str | None
    outcome: str | None = None  # this run's probe outcome (None: not probed)
    reason: str | None = None
    revisions: int = 0  # runs of the year (incl. this one) in which it was probed
    failures: int = 0  # of those, runs in which it did not answer with content
    failing_since: datetime | None = None  # first run of the current streak of failures
    last_ok: datetime | None = None  # last run in which it answered

    @property
    def failing(self) -> bool:
        return self.outcome is not None and self.outcome not in _REACHABLE

    @property
    def problem(self) -> bool:
        """The file could not be obtained as data: an error, or a web page instead of the file."""
        return self.outcome is not None and self.outcome != Outcome.OK

    @property
    def reachable(self) -> bool:
        return self.outcome is not None and self.outcome in _REACHABLE

    def matches(self, label: str) -> bool:
        """Whether a finding's ``resource`` (the resource's name, else its URL or id) names this resource."""
        label = label.strip()
        return bool(label) and label in (self.name.strip(), (self.url or "").strip(), (self.ckan_id or "").strip())


def _year_run_ids(s: Session, run: AuditRun, year: int) -> list[int]:
    return list(s.scalars(select(AuditRun.id).where(
        AuditRun.portal_id == run.portal_id, AuditRun.year == year, AuditRun.id <= run.id,
        or_(AuditRun.status == "complete", AuditRun.id == run.id)).order_by(AuditRun.id)))


def dataset_resources(s: Session, run: AuditRun, year: int, dataset_ids: list[int]) -> dict[int, list[ResourceInfo]]:
    """dataset snapshot id → its resources (in portal order) with this run's probe and the year's history."""
    if not dataset_ids:
        return {}
    out: dict[int, list[ResourceInfo]] = defaultdict(list)
    keys: dict[str, ResourceInfo] = {}
    for i in range(0, len(dataset_ids), _CHUNK):
        chunk = dataset_ids[i:i + _CHUNK]
        rows = s.execute(
            select(ResourceSnapshot.dataset_snapshot_id, ResourceSnapshot.name, ResourceSnapshot.url,
                   ResourceSnapshot.ckan_id, ResourceSnapshot.position, Probe.outcome, Probe.reason)
            .outerjoin(Probe, (Probe.resource_snapshot_id == ResourceSnapshot.id) & (Probe.run_id == run.id))
            .where(ResourceSnapshot.dataset_snapshot_id.in_(chunk))
            .order_by(ResourceSnapshot.dataset_snapshot_id, ResourceSnapshot.position)).all()
        for ds_id, name, url, ckan_id, position, outcome, reason in rows:
            label = (name or "").strip() or (url or "").rstrip("/").rsplit("/", 1)[-1] or f"Recurso {position + 1}"
            info = ResourceInfo(name=label, url=url, ckan_id=ckan_id or None, outcome=outcome, reason=reason)
            out[ds_id].append(info)
            key = ckan_id or url
            if key:
                keys[key] = info
    _add_history(s, _year_run_ids(s, run, year), keys)
    return dict(out)


def _add_history(s: Session, run_ids: list[int], keys: dict[str, ResourceInfo]) -> None:
    if not run_ids or not keys:
        return
    key = func.coalesce(func.nullif(ResourceSnapshot.ckan_id, ""), ResourceSnapshot.url)
    probes: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
    wanted = list(keys)
    for i in range(0, len(wanted), _CHUNK):
        for k, outcome, checked in s.execute(
            select(key, Probe.outcome, Probe.checked_at)
            .join(Probe, Probe.resource_snapshot_id == ResourceSnapshot.id)
            .where(ResourceSnapshot.run_id.in_(run_ids), key.in_(wanted[i:i + _CHUNK]))):
            probes[str(k)].append((checked, outcome in _REACHABLE))
    for k, seen in probes.items():
        info = keys.get(k)
        if info is None:
            continue
        seen.sort(key=lambda p: p[0])
        info.revisions = len(seen)
        info.failures = sum(1 for _when, ok in seen if not ok)
        oks = [when for when, ok in seen if ok]
        info.last_ok = oks[-1] if oks else None
        since = None
        for when, ok in reversed(seen):
            if ok:
                break
            since = when
        info.failing_since = since


def find_resource(resources: list[ResourceInfo], label: Any, resource_id: Any = None) -> ResourceInfo | None:
    """The resource a finding is about: by its ``resource_id`` (CKAN id, or URL when it has none) when the finding
    records one — two files of a dataset may share a name, and a file removed from the dataset (*permanentes*) must
    not borrow the facts of a new one with its name —, else by its label (findings stored before the id was)."""
    if resource_id:
        key = str(resource_id).strip()
        return next((r for r in resources if key in ((r.ckan_id or "").strip(), (r.url or "").strip())), None)
    if not label:
        return None
    return next((r for r in resources if r.matches(str(label))), None)
