"""The seam between the crawl and a catalogue: what every source yields.

A source lists the catalogue's organizations, groups (themes), licences and datasets, each dataset with its
resources in **one normalized shape** — a CKAN ``package_show`` dict — because that is what the crawl stores and
the rules read. ``audit.crawl`` stores what a source yields (one transaction per page, resumable at the page);
sources that can list their datasets' ids cheaply (CKAN) also get the crawl's reconciliation.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

#: ``on_error(code, message, subject)``: a source reports a dataset it could not read; the crawl records it
ErrorSink = Callable[[str, str, str | None], None]


@dataclass(frozen=True)
class PortalInfo:
    kind: str  # "ckan" | "dcat"
    title: str | None
    version: str | None  # CKAN's version, or the DCAT flavour ("DCAT-US 1.1", "DCAT (RDF)")
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetPage:
    datasets: list[dict[str, Any]]  # normalized packages
    next_start: int  # position to resume from once this page is stored
    count: int | None  # datasets the source reports in total, when it says


class CatalogSource(Protocol):
    kind: str
    url: str

    def identify(self) -> PortalInfo:
        """Prove the URL is this kind of catalogue (raise ``audit.errors.PortalError`` otherwise)."""
        ...

    def organizations(self) -> list[dict[str, Any]]: ...

    def groups(self) -> list[dict[str, Any]]: ...

    def licenses(self) -> list[dict[str, Any]]: ...

    def dataset_pages(self, start: int, rows: int, on_error: ErrorSink) -> Generator[DatasetPage, None, None]:
        """Pages of normalized datasets from position ``start``; a failure before the first page raises."""
        ...

    def close(self) -> None: ...
