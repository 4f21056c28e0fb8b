"""Stage 1: crawl a whole catalogue into the store.

Any :class:`~audit.sources.base.CatalogSource` (CKAN, DCAT) is stored by :class:`SourceCrawler`: metadata first,
then pages of normalized datasets, one transaction per page with the position to resume from. For CKAN
(:class:`Crawler`), datasets are listed with ``package_search`` (paged, stable sort), streamed page by page into the database (one
transaction per page, so a kill leaves a consistent run and ``--resume`` continues from the last stored page), then
reconciled against an id-only listing taken at the end: datasets added or removed while paging are fetched or
dropped instead of silently lost. When ``package_search`` is unavailable the crawler falls back to
``package_list`` + ``package_show``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from dateutil import parser as dateparser
from sqlalchemy import Table, delete, select, update

from audit.ckan import CKANClient
from audit.clock import to_utc
from audit.config import AuditConfig
from audit.errors import PortalResponseError
from audit.progress import stage_progress
from audit.runs import StageInterrupted, record_error
from audit.sources.base import CatalogSource
from audit.sources.ckan import CKANSource
from audit.store import (
    AuditRun,
    DatasetSnapshot,
    GroupSnapshot,
    LicenseSnapshot,
    OrganizationSnapshot,
    ResourceSnapshot,
    RunError,
    Store,
)
from audit.store.bulk import bulk_insert

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    run_id: int
    mode: str = "package_search"
    datasets: int = 0
    resources: int = 0
    organizations: int = 0
    groups: int = 0
    licenses: int = 0
    errors: int = 0
    added_during_crawl: int = 0
    removed_during_crawl: int = 0
    reported_count: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_counts(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets, "resources": self.resources, "organizations": self.organizations,
            "groups": self.groups, "licenses": self.licenses, "crawl_errors": self.errors,
            "added_during_crawl": self.added_during_crawl, "removed_during_crawl": self.removed_during_crawl,
            "crawl_mode": self.mode,
        }


def parse_ckan_datetime(value: Any) -> datetime | None:
    """CKAN timestamps are naive UTC ISO strings; anything unparsable becomes None."""
    if not value or not isinstance(value, str):
        return None
    try:  # C-fast path for CKAN's own format (the crawl's hot spot: six timestamps per dataset)
        fast = datetime.fromisoformat(value)
        return fast.replace(tzinfo=UTC) if fast.tzinfo is None else fast.astimezone(UTC)
    except ValueError:
        pass
    text = value.strip()
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        for parse in (dateparser.isoparse, lambda t: dateparser.parse(t, dayfirst=True)):
            try:
                dt = parse(text)
                break
            except (ValueError, OverflowError):
                continue
    return to_utc(dt)


def dataset_row(run_id: int, pkg: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Column values for one dataset and its resources (plain dicts: bulk Core inserts are ~10x faster than ORM
    objects, and the crawl benchmark is dominated by them)."""
    org = pkg.get("organization") or {}
    resources = [r for r in (pkg.get("resources") or []) if isinstance(r, dict)]
    dataset = {
        "run_id": run_id,
        "ckan_id": str(pkg.get("id") or pkg.get("name")),
        "name": str(pkg.get("name") or pkg.get("id")),
        "title": pkg.get("title"),
        "organization_name": (org.get("name") if isinstance(org, dict) else None) or None,
        "private": bool(pkg.get("private")),
        "state": pkg.get("state"),
        "presence": "listed",
        "license_id": pkg.get("license_id"),
        "metadata_created": parse_ckan_datetime(pkg.get("metadata_created")),
        "metadata_modified": parse_ckan_datetime(pkg.get("metadata_modified")),
        "num_resources": len(resources),
        "raw": pkg,
    }
    rows = [
        {
            "run_id": run_id,
            "ckan_id": (str(r["id"]) if r.get("id") else None),
            "position": i,
            "name": r.get("name"),
            "description": r.get("description"),
            "url": (r.get("url") or "").strip() or None,
            "format": r.get("format"),
            "last_modified": parse_ckan_datetime(r.get("last_modified")),
            "created": parse_ckan_datetime(r.get("created")),
            "raw": r,
        }
        for i, r in enumerate(resources)
    ]
    return dataset, rows


def insert_datasets(session: Session, run_id: int, pkgs: list[dict[str, Any]]) -> int:
    """Bulk-insert datasets and their resources in the caller's transaction."""
    if not pkgs:
        return 0
    pairs = [dataset_row(run_id, p) for p in pkgs]
    # Core executemany, then one query for the new ids: RETURNING with guaranteed order makes SQLite insert
    # row by row, and ORM objects cost ~10x more than plain rows.
    table = cast(Table, DatasetSnapshot.__table__)
    bulk_insert(session, table, [d for d, _ in pairs])
    ckan_ids = [d["ckan_id"] for d, _ in pairs]
    id_of = dict(session.execute(select(table.c.ckan_id, table.c.id).where(
        table.c.run_id == run_id, table.c.ckan_id.in_(ckan_ids))).all())
    resources = [dict(r, dataset_snapshot_id=id_of[d["ckan_id"]]) for d, rs in pairs for r in rs]
    if resources:
        bulk_insert(session, cast(Table, ResourceSnapshot.__table__), resources)
    return len(pairs)


class SourceCrawler:
    """Stores what a :class:`~audit.sources.base.CatalogSource` yields: metadata, then pages of datasets (one
    transaction per page, with the position to resume from). Sources that can list their ids cheaply add a
    reconciliation phase (:class:`Crawler` for CKAN)."""

    def __init__(self, store: Store, run_id: int, cfg: AuditConfig, source: CatalogSource,
                 stop: threading.Event | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.cfg = cfg
        self.source = source
        self.stop = stop
        self.result = CrawlResult(run_id=run_id, mode=source.kind)

    # -- state -------------------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        with self.store.session() as s:
            run = s.get(AuditRun, self.run_id)
            assert run is not None
            return dict(run.crawl_state or {})

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise StageInterrupted("crawl")

    # -- phases ------------------------------------------------------------------------------------------
    def run(self) -> CrawlResult:
        state = self._state()
        phase = state.get("phase", "meta")
        if phase == "meta":
            self._crawl_metadata()
            phase = "datasets"
        if phase == "datasets":
            self._crawl_datasets(state)
            phase = "reconcile"
        if phase == "reconcile":
            self._reconcile()
        self._final_counts()
        return self.result

    def _set_state(self, session: Session, **state: Any) -> None:
        current = session.scalar(select(AuditRun.crawl_state).where(AuditRun.id == self.run_id)) or {}
        session.execute(update(AuditRun).where(AuditRun.id == self.run_id).values(crawl_state={**current, **state}))

    def _record_error(self, code: str, message: str, subject: str | None = None) -> None:
        with self.store.session() as s:
            record_error(s, self.run_id, "crawl", code, message, subject=subject)
        self.result.errors += 1

    def _crawl_metadata(self) -> None:
        orgs = self.source.organizations()
        groups = self.source.groups()
        try:
            licenses = self.source.licenses()
        except PortalResponseError as exc:
            licenses = []
            with self.store.session() as s:
                record_error(s, self.run_id, "crawl", "license_list_failed", exc.message)
        with self.store.session() as s:
            for model in (OrganizationSnapshot, GroupSnapshot, LicenseSnapshot):
                s.execute(delete(model).where(model.run_id == self.run_id))  # idempotent on resume
            s.add_all(
                OrganizationSnapshot(run_id=self.run_id, ckan_id=o.get("id"), name=o["name"], title=o.get("title"),
                                     package_count=o.get("package_count"), raw=o)
                for o in orgs
            )
            s.add_all(
                GroupSnapshot(run_id=self.run_id, ckan_id=g.get("id"), name=g["name"], title=g.get("title"),
                              package_count=g.get("package_count"), raw=g)
                for g in groups
            )
            seen_lic: set[str] = set()
            for lic in licenses:
                lid = str(lic.get("id") or "")
                if lid and lid not in seen_lic:
                    seen_lic.add(lid)
                    s.add(LicenseSnapshot(run_id=self.run_id, license_id=lid, title=lic.get("title"),
                                          url=lic.get("url"), raw=lic))
            self._set_state(s, phase="datasets", start=0)
        log.info("run=%d crawl organizations=%d groups=%d licenses=%d", self.run_id, len(orgs), len(groups),
                 len(licenses))

    def _stored_ids(self) -> set[str]:
        with self.store.session() as s:
            return set(s.scalars(select(DatasetSnapshot.ckan_id).where(DatasetSnapshot.run_id == self.run_id,
                                                                       DatasetSnapshot.presence == "listed")))

    def _store_page(self, pkgs: Iterable[dict[str, Any]], seen: set[str], **state: Any) -> int:
        fresh: list[dict[str, Any]] = []
        for pkg in pkgs:
            pid = str(pkg.get("id") or pkg.get("name") or "")
            if not pid or pid in seen:
                continue
            if pkg.get("private") and not self.cfg.crawl.include_private:
                continue
            if str(pkg.get("type") or "dataset") in self.cfg.crawl.exclude_types:
                continue  # a harvest source or showcase is not published data
            seen.add(pid)
            fresh.append(pkg)
        self._enrich(fresh)
        with self.store.session() as s:
            insert_datasets(s, self.run_id, fresh)
            if state:
                self._set_state(s, **state)
        return len(fresh)

    def _enrich(self, pkgs: list[dict[str, Any]]) -> None:
        """Add what the source gives only on request (CKAN: DataStore field lists) before storing."""

    def _pages_unavailable(self, exc: PortalResponseError) -> bool:
        """The first page failed: True if the source has another way to list datasets (then the reconcile
        phase lists them), else the error stands."""
        return False

    def _crawl_datasets(self, state: dict[str, Any]) -> None:
        seen = self._stored_ids()
        start = int(state.get("start", 0))
        pages = self.source.dataset_pages(start, self.cfg.crawl.page_size, self._record_error)
        with closing(pages):
            try:
                first = next(pages, None)
            except PortalResponseError as exc:
                if not self._pages_unavailable(exc):
                    raise
                return
            count = first.count if first is not None else 0
            self.result.reported_count = count
            with stage_progress("Rastreando conjuntos de datos", total=count) as advance:
                advance(len(seen))
                page = first
                while page is not None:
                    self._check_stop()
                    advance(self._store_page(page.datasets, seen, phase="datasets", start=page.next_start))
                    if not page.datasets or (page.count is not None and page.next_start >= page.count):
                        break
                    page = next(pages, None)
        with self.store.session() as s:
            self._set_state(s, phase="reconcile")

    def _reconcile(self) -> None:
        """Sources without a cheap id listing end after paging."""
        with self.store.session() as s:
            self._set_state(s, phase="done")

    def _final_counts(self) -> None:
        from sqlalchemy import func

        with self.store.session() as s:
            r = self.result
            r.datasets = s.scalar(select(func.count()).select_from(DatasetSnapshot).where(
                DatasetSnapshot.run_id == self.run_id, DatasetSnapshot.presence == "listed")) or 0
            r.resources = s.scalar(select(func.count()).select_from(ResourceSnapshot).where(
                ResourceSnapshot.run_id == self.run_id)) or 0
            r.organizations = s.scalar(select(func.count()).select_from(OrganizationSnapshot).where(
                OrganizationSnapshot.run_id == self.run_id)) or 0
            r.groups = s.scalar(select(func.count()).select_from(GroupSnapshot).where(
                GroupSnapshot.run_id == self.run_id)) or 0
            r.licenses = s.scalar(select(func.count()).select_from(LicenseSnapshot).where(
                LicenseSnapshot.run_id == self.run_id)) or 0
            r.errors = s.scalar(select(func.count()).select_from(RunError).where(
                RunError.run_id == self.run_id, RunError.stage == "crawl",
                RunError.code != "removed_during_crawl")) or 0


class Crawler(SourceCrawler):
    """The CKAN crawl: the generic paging plus DataStore dictionaries, the ``package_list`` fallback and the
    reconciliation against an id-only listing."""

    source: CKANSource

    def __init__(self, store: Store, run_id: int, cfg: AuditConfig, client: CKANClient | CKANSource,
                 stop: threading.Event | None = None) -> None:
        source = client if isinstance(client, CKANSource) else CKANSource(client.url, cfg, client=client)
        super().__init__(store, run_id, cfg, source, stop)
        self.client = source.client
        self.result.mode = "package_search"

    def _enrich(self, pkgs: list[dict[str, Any]]) -> None:
        if self.cfg.crawl.datastore_fields:
            for pkg in pkgs:
                self._add_datastore_fields(pkg)

    def _add_datastore_fields(self, pkg: dict[str, Any]) -> None:
        """A DataStore field list with descriptions is a data dictionary (*integrales*); CKAN only gives it
        through ``datastore_search``. Stored in the resource's raw JSON as ``datastore_fields``."""
        for res in pkg.get("resources") or []:
            if not (isinstance(res, dict) and res.get("datastore_active") is True and res.get("id")):
                continue
            try:
                result = self.client.call("datastore_search", resource_id=res["id"], limit=0)
            except PortalResponseError as exc:  # DataStore disabled or the table is gone: no dictionary, no error
                log.debug("datastore_search resource=%s failed: %s", res["id"], exc.message)
                continue
            fields = result.get("fields") if isinstance(result, dict) else None
            if isinstance(fields, list):
                res["datastore_fields"] = [f for f in fields if isinstance(f, dict) and f.get("id") != "_id"]

    def _pages_unavailable(self, exc: PortalResponseError) -> bool:
        log.warning("package_search unavailable (%s); falling back to package_list + package_show", exc.message)
        self.result.mode = "package_list"
        self.result.notes.append(f"package_search no disponible: {exc.message}")
        return True  # the reconcile phase fetches everything via package_list + package_show

    def _listing_ids(self) -> dict[str, str] | None:
        """id → name of every dataset listed now (cheap id-only package_search pages); None if unavailable."""
        listing: dict[str, str] = {}
        start = 0
        try:
            while True:
                page = self.client.call("package_search", q="*:*", rows=1000, start=start, fl="id,name,type",
                                        sort=self.cfg.crawl.sort, **self.source.private_param())
                results = page.get("results") or []
                for r in results:
                    if r.get("private") and not self.cfg.crawl.include_private:
                        continue
                    if str(r.get("type") or "dataset") in self.cfg.crawl.exclude_types:
                        continue
                    listing[str(r.get("id") or r.get("name"))] = str(r.get("name") or r.get("id"))
                start += len(results)
                if not results or start >= int(page.get("count") or 0):
                    return listing
        except PortalResponseError:
            return None

    def _package_list(self) -> dict[str, str]:
        """All dataset names via package_list, paged where the server supports limit/offset."""
        names: dict[str, str] = {}
        offset = 0
        while True:
            page = self.client.call("package_list", limit=1000, offset=offset)
            fresh = [n for n in page if n not in names]
            names.update((n, n) for n in fresh)
            if len(page) < 1000 or not fresh:
                return names
            offset += len(page)

    def _reconcile(self) -> None:
        self._check_stop()
        listing = None if self.result.mode == "package_list" else self._listing_ids()
        by_name = listing is None
        if listing is None:
            self.result.mode = "package_list"
            listing = self._package_list()
        with self.store.session() as s:
            stored = {
                (name if by_name else cid): cid
                for cid, name in s.execute(
                    select(DatasetSnapshot.ckan_id, DatasetSnapshot.name).where(
                        DatasetSnapshot.run_id == self.run_id, DatasetSnapshot.presence == "listed"))
            }
        missing = [k for k in listing if k not in stored]
        removed = [k for k in stored if k not in listing]
        seen = set(stored.values())
        if missing:
            with stage_progress("Descargando conjuntos faltantes (package_show)", total=len(missing)) as advance:
                batch: list[dict[str, Any]] = []
                for key in missing:
                    self._check_stop()
                    try:
                        batch.append(self.client.call("package_show", id=key))
                    except PortalResponseError as exc:
                        self.result.errors += 1
                        with self.store.session() as s:
                            record_error(s, self.run_id, "crawl", "package_show_failed", exc.message,
                                         subject=listing.get(key, key))
                    advance(1)
                    if len(batch) >= self.cfg.crawl.batch_size:
                        self._store_page(batch, seen)
                        batch = []
                self._store_page(batch, seen)
        if not by_name:
            self.result.added_during_crawl = len(missing)
        if removed:
            # Listed while paging but gone by the end: not published at the end of the crawl.
            with self.store.session() as s:
                for key in removed:
                    snap = s.scalar(select(DatasetSnapshot).where(DatasetSnapshot.run_id == self.run_id,
                                                                  DatasetSnapshot.ckan_id == stored[key]))
                    if snap is not None:
                        s.delete(snap)
                        record_error(s, self.run_id, "crawl", "removed_during_crawl",
                                     "El conjunto se retiró del portal mientras se rastreaba; no se evalúa en esta corrida.",
                                     subject=snap.name)
            self.result.removed_during_crawl = len(removed)
        with self.store.session() as s:
            self._set_state(s, phase="done")


def crawl_portal(store: Store, run_id: int, cfg: AuditConfig, *, client: CKANClient | None = None,
                 source: CatalogSource | None = None, stop: threading.Event | None = None) -> CrawlResult:
    """Crawl a catalogue into the run: a CKAN portal (``client`` or a ``CKANSource``) with the CKAN crawler, any
    other source with the generic one."""
    if source is None or isinstance(source, CKANSource):
        ckan = source or client
        if ckan is None:
            raise ValueError("crawl_portal needs a client or a source")
        return Crawler(store, run_id, cfg, ckan, stop).run()
    return SourceCrawler(store, run_id, cfg, source, stop).run()
