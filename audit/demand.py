"""Demand: how much a dataset is used, where the portal says so, to fix first what people use.

CKAN reports usage only when its tracking is on: ``tracking_summary`` (``{"total": n, "recent": m}``, views of
the dataset page; ``recent`` = last 14 days) appears in ``package_show`` with ``include_tracking`` and, on portals
that index it, in ``package_search``. ckanext-googleanalytics-style portals put counts in extras instead
(``views``, ``pageviews``, ``downloads``, ``descargas`` …). The crawl stores each dataset as the portal returned
it, so the counts are read from the stored snapshot and recorded per run in ``dataset_demand``
(:func:`record_demand`, idempotent). When the listing carried none, :func:`collect_demand` (run before the change
alerts) asks ``package_show`` with ``include_tracking`` for one dataset and, only if that one reports usage, for
each dataset of the run (at most ``alerts.usage_max_calls`` calls). When no dataset carries usage the portal
"exposes nothing": callers say so once (:data:`NO_DEMAND_NOTE_ES`) and order by impact alone.

For the reports and the dashboard (reports/*, audit/web/*): :func:`run_demand` gives the usage of a run's datasets
by name, :func:`rank_by_impact_and_demand` orders any list of actions by impact × demand, and
:func:`most_used_failing` lists the most-used datasets that fail.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, select

from audit.errors import AuditError
from audit.store.models import AuditRun, DatasetDemand, DatasetSnapshot, RuleResultRecord

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.store.db import Store

T = TypeVar("T")
log = logging.getLogger(__name__)

NO_DEMAND_NOTE_ES = ("El portal no publica estadísticas de uso de los conjuntos (tracking de CKAN ni contadores de "
                     "visitas o descargas); las acciones se ordenan sólo por su impacto.")

#: extras (or top-level keys) with view or download counts, as ckanext-googleanalytics and custom schemas name them
VIEW_KEYS = ("views_total", "views", "pageviews", "page_views", "visits", "visitas", "vistas", "googleanalytics_views")
DOWNLOAD_KEYS = ("downloads", "descargas", "googleanalytics_downloads", "total_downloads")


@dataclass(frozen=True, slots=True)
class Usage:
    views_total: int | None = None
    views_recent: int | None = None
    downloads: int | None = None
    source: str = "tracking_summary"

    @property
    def weight(self) -> int:
        """The count that best says 'people use this': recent views, else total views, else downloads."""
        for value in (self.views_recent, self.views_total, self.downloads):
            if value is not None:
                return value
        return 0

    def label_es(self) -> str:
        parts = []
        if self.views_recent is not None:
            parts.append(f"{self.views_recent:,} visitas recientes".replace(",", " "))
        if self.views_total is not None:
            parts.append(f"{self.views_total:,} visitas en total".replace(",", " "))
        if self.downloads is not None:
            parts.append(f"{self.downloads:,} descargas".replace(",", " "))
        return ", ".join(parts)


def _count(value: Any) -> int | None:
    try:
        number = int(str(value).strip().replace(",", "")) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def extract_usage(dataset: dict[str, Any]) -> Usage | None:
    """Usage from a raw CKAN dataset dict; None when it carries none."""
    summary = dataset.get("tracking_summary")
    if isinstance(summary, dict) and ("total" in summary or "recent" in summary):
        total, recent = _count(summary.get("total")), _count(summary.get("recent"))
        if total is not None or recent is not None:
            return Usage(views_total=total, views_recent=recent, source="tracking_summary")
    fields: dict[str, Any] = {str(k).lower(): v for k, v in dataset.items() if not isinstance(v, (dict, list))}
    for extra in dataset.get("extras") or []:
        if isinstance(extra, dict) and extra.get("key"):
            fields.setdefault(str(extra["key"]).lower(), extra.get("value"))
    views = next(((k, _count(fields[k])) for k in VIEW_KEYS if _count(fields.get(k)) is not None), None)
    downloads = next(((k, _count(fields[k])) for k in DOWNLOAD_KEYS if _count(fields.get(k)) is not None), None)
    if views is None and downloads is None:
        return None
    key = (views or downloads or ("", None))[0]
    recent = _count(fields.get("views_recent"))  # the Solr fields of a tracking-enabled CKAN
    return Usage(views_total=views[1] if views else None, views_recent=recent,
                 downloads=downloads[1] if downloads else None, source=f"extras:{key}"[:50])


def record_demand(store: Store, run_id: int) -> dict[str, Usage]:
    """Read usage from the run's stored datasets and (re)write it in ``dataset_demand``; {} when none has any."""
    found: dict[str, Usage] = {}
    with store.session() as s:
        for name, raw in s.execute(select(DatasetSnapshot.name, DatasetSnapshot.raw)
                                   .where(DatasetSnapshot.run_id == run_id, DatasetSnapshot.presence == "listed")):
            usage = extract_usage(raw if isinstance(raw, dict) else {})
            if usage is not None:
                found[name] = usage
    _save(store, run_id, found)
    return found


def _save(store: Store, run_id: int, found: dict[str, Usage]) -> None:
    with store.session() as s:
        s.execute(delete(DatasetDemand).where(DatasetDemand.run_id == run_id))
        s.add_all(DatasetDemand(run_id=run_id, dataset_name=name, views_total=u.views_total,
                                views_recent=u.views_recent, downloads=u.downloads, source=u.source)
                  for name, u in found.items())


def collect_demand(store: Store, cfg: AuditConfig, run_id: int) -> dict[str, Usage]:
    """Usage of the run's datasets: from the stored listing, else from ``package_show`` with ``include_tracking``
    when the portal reports it. Never raises: a portal error only means "no usage" (logged)."""
    from audit.ckan import CKANClient

    found = run_demand(store, run_id)
    if found:
        return found
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        url = run.portal.url if run is not None else None
        names = list(s.scalars(select(DatasetSnapshot.name).where(
            DatasetSnapshot.run_id == run_id, DatasetSnapshot.presence == "listed").order_by(DatasetSnapshot.id)))
    if not url or not names:
        return {}
    try:
        with CKANClient(url, cfg.http, token=cfg.ckan_api_token) as client:
            first = extract_usage(client.call("package_show", id=names[0], include_tracking=True) or {})
            if first is None:
                log.info("demand run=%d portal=%s usage=none (tracking not exposed)", run_id, url)
                return {}
            found[names[0]] = first
            for name in names[1:cfg.alerts.usage_max_calls]:
                try:
                    usage = extract_usage(client.call("package_show", id=name, include_tracking=True) or {})
                except AuditError as exc:
                    log.warning("demand run=%d dataset=%s error=%s", run_id, name, exc.message)
                    continue
                if usage is not None:
                    found[name] = usage
    except AuditError as exc:
        log.warning("demand run=%d portal=%s usage unavailable: %s", run_id, url, exc.message)
    _save(store, run_id, found)
    log.info("demand run=%d datasets_with_usage=%d source=package_show", run_id, len(found))
    return found


def run_demand(store: Store, run_id: int) -> dict[str, Usage]:
    """dataset name → usage recorded for the run (recorded now if the run has none yet). {} = portal exposes
    nothing (say :data:`NO_DEMAND_NOTE_ES` once)."""
    with store.session() as s:
        rows = s.execute(select(DatasetDemand).where(DatasetDemand.run_id == run_id)).scalars().all()
        if rows:
            return {r.dataset_name: Usage(r.views_total, r.views_recent, r.downloads, r.source) for r in rows}
    return record_demand(store, run_id)


def priority(impact: float, usage: Usage | None) -> float:
    """impact × demand. Demand grows with the logarithm of use (a dataset viewed 10 000 times is not 10 000 times
    more urgent than one viewed once), and is 1 for an unused dataset or a portal without statistics."""
    return impact * (1.0 + math.log10(1 + (usage.weight if usage else 0)))


def rank_by_impact_and_demand(items: Iterable[T], demand: dict[str, Usage], *, dataset: Callable[[T], str],
                              impact: Callable[[T], float]) -> list[T]:
    """Order actions by impact × demand, highest first; ties keep their input order (stable sort).

    ``dataset(item)`` gives the item's dataset name (key of ``demand``, from :func:`run_demand`) and
    ``impact(item)`` its impact (e.g. the characteristic's weight × 1 for *no cumple*, × 0.5 for *parcial*)."""
    listed = list(items)
    return sorted(listed, key=lambda it: -priority(impact(it), demand.get(dataset(it))))


def most_used_failing(store: Store, run_id: int, demand: dict[str, Usage] | None = None,
                      limit: int = 10) -> list[tuple[str, str, str, Usage, int]]:
    """The most-used datasets of the run that fail at least one characteristic, most used first:
    (name, title, organization, usage, characteristics failed). [] when the portal reports no usage."""
    from sqlalchemy import func

    demand = run_demand(store, run_id) if demand is None else demand
    if not demand:
        return []
    with store.session() as s:
        rows = s.execute(select(DatasetSnapshot.name, DatasetSnapshot.title, DatasetSnapshot.organization_name,
                                func.count(RuleResultRecord.id))
                         .join(RuleResultRecord, RuleResultRecord.dataset_snapshot_id == DatasetSnapshot.id)
                         .where(RuleResultRecord.run_id == run_id, RuleResultRecord.status == "fail")
                         .group_by(DatasetSnapshot.name, DatasetSnapshot.title, DatasetSnapshot.organization_name)
                         ).all()
    used = [(n, t or n, o or "", demand[n], k) for n, t, o, k in rows if n in demand and demand[n].weight > 0]
    return sorted(used, key=lambda r: (-r[3].weight, r[0]))[:limit]
