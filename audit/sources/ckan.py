"""The CKAN Action API as a catalogue source (its packages already are the normalized shape).

Paging is ``package_search`` with ``rows ≤ 1000`` and a stable sort; the next page is fetched in a background
thread while the crawl stores the current one; a page that keeps failing is bisected down to single rows so one
broken dataset costs one recorded error, not the crawl. The crawl's reconciliation and ``package_list`` fallback
(CKAN-only) live in ``audit.crawl.Crawler``.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from audit.ckan import CKANClient
from audit.config import AuditConfig
from audit.errors import PortalResponseError
from audit.sources.base import DatasetPage, ErrorSink, PortalInfo

log = logging.getLogger(__name__)
ORG_PAGE = 25  # CKAN caps organization_list/group_list with all_fields at 25 by default


class CKANSource:
    kind = "ckan"

    def __init__(self, url: str, cfg: AuditConfig, *, client: CKANClient | None = None) -> None:
        self.cfg = cfg
        self.client = client or CKANClient(url, cfg.http, token=cfg.ckan_api_token, allow_hosts=cfg.probe.allow_hosts)
        self.url = self.client.url

    def close(self) -> None:
        self.client.close()

    def identify(self) -> PortalInfo:
        info = self.client.identify()
        return PortalInfo("ckan", info.get("site_title"), info.get("ckan_version"), info)

    # -- metadata -----------------------------------------------------------------------------------------
    def _paged_list(self, action: str) -> list[dict[str, Any]]:
        """organization_list / group_list with all_fields, paged; tolerant of servers that ignore limit/offset."""
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        offset = 0
        while True:
            page = self.client.call(action, all_fields=True, limit=ORG_PAGE, offset=offset)
            fresh = [g for g in page if isinstance(g, dict) and g.get("name") not in seen]
            for g in fresh:
                seen.add(g["name"])
            items.extend(fresh)
            if not page or not fresh or len(page) < ORG_PAGE:
                return items
            offset += len(page)

    def organizations(self) -> list[dict[str, Any]]:
        return self._paged_list("organization_list")

    def groups(self) -> list[dict[str, Any]]:
        return self._paged_list("group_list")

    def licenses(self) -> list[dict[str, Any]]:
        return self.client.call("license_list") or []

    # -- datasets -----------------------------------------------------------------------------------------
    def private_param(self) -> dict[str, Any]:
        # Sent only when wanted: CKAN before 2.6 rejects the unknown parameter.
        return {"include_private": True} if self.cfg.crawl.include_private else {}

    def search(self, start: int, rows: int) -> dict[str, Any]:
        return self.client.call("package_search", q="*:*", rows=rows, start=start, sort=self.cfg.crawl.sort,
                                **self.private_param())

    def dataset_pages(self, start: int, rows: int, on_error: ErrorSink) -> Generator[DatasetPage, None, None]:
        first = self.search(start, rows)  # a failure here means package_search is unavailable: the caller decides
        count = int(first.get("count") or 0)
        page: dict[str, Any] | None = first
        # The next page is fetched in a background thread while the caller stores this one.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
            pending: Future[dict[str, Any]] | None = None
            while True:
                if page is None:
                    page = pending.result() if pending is not None else self.search_resilient(start, rows, on_error)
                results = page.get("results") or []
                count = int(page.get("count") or count)
                next_start = start + len(results)
                more = bool(results) and next_start < count
                pending = pool.submit(self.search_resilient, next_start, rows, on_error) if more else None
                yield DatasetPage(results, next_start, count)
                page = None
                if not more:
                    return
                start = next_start

    def search_resilient(self, start: int, rows: int, on_error: ErrorSink) -> dict[str, Any]:
        """A page that keeps failing is bisected so one broken dataset costs one error, not the crawl."""
        try:
            return self.search(start, rows)
        except PortalResponseError as exc:
            if rows == 1:
                on_error("dataset_unlistable", f"No se pudo listar el conjunto en la posición {start}: {exc.message}",
                         f"package_search start={start}")
                return {"results": [{}], "count": None}  # skip one position; reconcile retries it by id
            smaller = max(1, rows // 10)
            log.warning("package_search start=%d rows=%d failed; retrying with rows=%d", start, rows, smaller)
            merged: list[dict[str, Any]] = []
            count: int | None = None
            pos = start
            while pos < start + rows:
                part = self.search_resilient(pos, smaller, on_error)
                part_results = part.get("results") or []
                merged.extend(r for r in part_results if r)
                count = part.get("count") or count
                if not part_results:
                    break
                pos += len(part_results)
            return {"results": merged, "count": count or (start + len(merged))}
