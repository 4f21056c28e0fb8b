"""Plain evidence records passed from the stages (probe, content, history) to the rules.

The rules are pure functions of a :class:`DatasetContext`; the scoring stage builds one per dataset from the
store. Keeping these records free of SQLAlchemy makes the rules testable with hand-built dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from audit.outcomes import REACHABLE_OUTCOMES as REACHABLE_OUTCOMES
from audit.outcomes import Outcome as Outcome


@dataclass(frozen=True, slots=True)
class ProbeEvidence:
    outcome: Outcome  # stored as its plain string; a string given here is converted, an unknown one raises
    reason: str = ""  # machine reason code, e.g. "http_404", "login_form", "redirect_loop"
    status_code: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    content_type: str | None = None
    content_length: int | None = None
    content_disposition: str | None = None
    last_modified: datetime | None = None  # HTTP Last-Modified, parsed, UTC
    etag: str | None = None
    sniffed_type: str | None = None  # csv, tsv, json, geojson, xml, rdf, kml, kmz, xlsx, xls, ods, docx, doc, pdf, html, zip, shapefile-zip, png, jpeg, gif, rar, 7z, parquet, gpkg, text, unknown
    sniffed_detail: str | None = None  # e.g. members of a zip, delimiter
    encoding: str | None = None
    bytes_read: int = 0
    truncated: bool = False
    sha256: str | None = None
    elapsed_ms: float | None = None
    error: str | None = None
    not_modified: bool = False  # 304 on a conditional request; sha256/sniffed_type carried from the last run

    def __post_init__(self) -> None:
        if type(self.outcome) is not Outcome:  # a typo («login_required», «error») cannot become evidence
            object.__setattr__(self, "outcome", Outcome(self.outcome))

    @property
    def reachable(self) -> bool:
        return self.outcome in REACHABLE_OUTCOMES


@dataclass(frozen=True, slots=True)
class ContentEvidence:
    """Result of opening a tabular resource (the content stage)."""

    parsed_ok: bool
    rows: int | None = None
    columns: int | None = None
    has_header: bool | None = None
    empty_columns: tuple[str, ...] = ()
    summary_rows: int = 0  # Total/Subtotal/Suma rows
    disaggregation_keys: tuple[str, ...] = ()  # date columns, INEGI codes, identifiers
    type_consistent: bool | None = None
    encoding: str | None = None
    delimiter: str | None = None
    problems: tuple[str, ...] = ()  # reason codes
    expectations: dict[str, Any] = field(default_factory=dict)  # {"success": bool, "failed": [...], "suites": [...]}
    dictionary_conformance: bool | None = None
    # optional, so older stored evidence still loads: how the file was read and what the suites said
    kind: str | None = None  # sniffed type used to load it (csv, xlsx …)
    quotechar: str | None = None
    header_row: int | None = None  # 0-based; > 0 means title rows above the header
    sheet_names: tuple[str, ...] = ()
    sheet_used: str | None = None  # the sheet validated: the one with the most data, not always the first
    dtypes: dict[str, str] = field(default_factory=dict)  # column → pandas dtype
    column_kinds: dict[str, str] = field(default_factory=dict)  # column → numeric/date/text/code/numeric_text/empty
    null_share: dict[str, float] = field(default_factory=dict)  # columns above content.null_share_max
    duplicate_share: float | None = None
    invalid_codes: tuple[str, ...] = ()  # INEGI code columns with malformed values
    agency_success: bool | None = None  # None: no agency suite applies
    sample_rows: int | None = None  # rows GX validated (bounded sample)
    personal_data: tuple[dict[str, Any], ...] = ()  # likely personal data (audit/content/personal.py), masked
    #: the file differed between the probe and the content download minutes later (the bytes the probe read
    #: hash differently): generated on every request, so a change of its hash is not an update
    regenerated: bool | None = None


@dataclass(frozen=True, slots=True)
class Availability:
    """How often a resource was reachable across a period's runs (the annual evaluation judges *accesibles* by it)."""

    reachable_runs: int
    total_runs: int

    @property
    def ratio(self) -> float:
        return self.reachable_runs / self.total_runs if self.total_runs else 0.0


@dataclass(frozen=True, slots=True)
class ResourceEvidence:
    resource: dict[str, Any]  # raw CKAN resource dict
    probe: ProbeEvidence | None = None
    content: ContentEvidence | None = None
    availability: Availability | None = None

    @property
    def id(self) -> str:
        return str(self.resource.get("id") or self.resource.get("url") or "")

    @property
    def label(self) -> str:
        """Human label for findings: the resource name, else its URL."""
        return str(self.resource.get("name") or self.resource.get("url") or self.id).strip()


@dataclass(frozen=True, slots=True)
class HistoricResource:
    ckan_id: str | None
    name: str | None
    url: str | None
    sha256: str | None
    outcome: str | None
    final_url: str | None = None  # additive (rules/permanentes): where the URL led then, to tell a new redirect


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """The same dataset as seen in an earlier run (matched by CKAN id, else by name)."""

    run_id: int
    run_started: datetime
    metadata_modified: datetime | None
    resources: tuple[HistoricResource, ...]


@dataclass(frozen=True, slots=True)
class DatasetContext:
    dataset: dict[str, Any]  # raw CKAN package dict (package_show / package_search shape)
    organization: str  # CKAN organization name ("" if none)
    resources: tuple[ResourceEvidence, ...]
    audit_date: datetime  # aware datetime of the evaluation
    history: tuple[HistoryEntry, ...] = ()  # earlier runs inside the look-back window, oldest first
    has_previous_runs: bool = False  # the portal has at least one earlier completed run
    retired: bool = False  # present in an earlier run and absent now
    licenses: dict[str, dict[str, Any]] = field(default_factory=dict)  # the portal's license_list by id
