"""The records the report templates display: plain dataclasses, filled by :mod:`reports.model`.

The run's figures (``RunSummary``, ``OrgRow``) are the read model's (:mod:`audit.results`); the rest is what only
the reports show (dataset sections, findings in Spanish, actions, suites, commitments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from audit.duplicates import DuplicateGroup
from audit.legal import DEFAULT_LEGAL_BASIS, LegalBasis
from audit.privacy import PersonalDataAlert
from audit.results import OrgRow, RunSummary
from reports.document import DocumentInfo
from reports.resources import ResourceInfo

__all__ = [
    "Action", "ActionTarget", "Change", "CharacteristicInfo", "Commitment", "DatasetRow", "DatasetSection",
    "ExpectationIssue", "FindingView", "OrgRow", "OrganizationReport", "PortalReport", "ReviewNote", "RunSummary",
    "StatusCell", "SuiteOrgSummary", "SuiteResult",
]


@dataclass(slots=True)
class CharacteristicInfo:
    id: str
    title: str
    short: str
    legal_text: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)  # scalar thresholds from config.yaml


@dataclass(slots=True)
class StatusCell:
    characteristic: str
    title: str
    short: str
    status: str
    score: float | None
    manual: bool = False  # a manual review set this status
    automatic_status: str | None = None
    error: str | None = None


@dataclass(slots=True)
class FindingView:
    characteristic: str
    characteristic_title: str
    status: str
    code: str
    message: str
    remediation: str
    resource: str | None
    observed: str | None
    manual_review: bool
    resource_info: ResourceInfo | None = None  # the file the finding is about: URL, CKAN id, history


@dataclass(slots=True)
class FindingGroup:
    """A dataset's findings below «cumple» about one file (``resource``: its name; None: about the dataset itself),
    so the file's address, identifier and history are stated once, above its findings."""

    resource: str | None
    info: ResourceInfo | None
    findings: list[FindingView] = field(default_factory=list)


@dataclass(slots=True)
class ReviewNote:
    characteristic: str
    characteristic_title: str
    status: str
    automatic_status: str | None
    justification: str
    reviewer: str
    review_date: date | None


@dataclass(slots=True)
class DatasetRow:
    """A dataset in the portal annex (and the organization's summary table)."""

    organization: str
    name: str
    title: str
    presence: str
    score: float | None
    conforme: bool
    statuses: list[StatusCell]


@dataclass(slots=True)
class DatasetSection(DatasetRow):
    description: str = ""
    resources: int = 0
    findings: list[FindingView] = field(default_factory=list)
    reviews: list[ReviewNote] = field(default_factory=list)
    anchor: str = ""
    basis: list[tuple[str, str]] = field(default_factory=list)  # (characteristic title, «Base de la evaluación»)
    recommendations: list[FindingView] = field(default_factory=list)  # advice on characteristics that pass
    resource_list: list[ResourceInfo] = field(default_factory=list)
    demand: int | None = None  # views/downloads the portal reports for it (CKAN tracking), when it does

    @property
    def problem_groups(self) -> list[FindingGroup]:
        """The findings below «cumple», one group per file and one for the dataset itself, in the order of their
        first finding (findings come in the characteristics' order, so the file that fails «Accesibles» leads)."""
        groups: dict[str, FindingGroup] = {}
        for f in self.findings:
            if f.status not in ("fail", "partial"):
                continue
            info = f.resource_info
            key = (info.ckan_id or info.url or info.name) if info is not None else (f.resource or "")
            group = groups.get(key)
            if group is None:
                group = groups[key] = FindingGroup((info.name if info else "") or f.resource, info)
            group.findings.append(f)
        return list(groups.values())


@dataclass(slots=True)
class ActionTarget:
    """Where an action applies: a dataset (and the resource, when the cause is a file) and what it fixes there."""

    dataset: str  # title
    dataset_name: str
    anchor: str
    characteristics: list[str]  # titles of the states it lifts or helps lift here
    resource: ResourceInfo | None = None
    problem: str = ""  # what was observed (Spanish)


@dataclass(slots=True)
class Action:
    """One root cause and the states below "pass" it is credited with (the prioritised action list).

    A root cause is a resource that cannot be obtained (every characteristic it fails is one action), or else one
    remediation, wherever it applies. A state is one (dataset, characteristic) below "pass"; it is credited only to
    the causes of its findings (``state_causes``) and weighs 1 in total: ``weight`` adds 1/n for each state that
    needs this action and n − 1 others, so the weights of all actions add up to the number of states. A state with
    no remediation recorded gets a «revise» action of its own: every state is in some action."""

    remediation: str
    code: str
    statuses: int  # states credited to it (alone + shared)
    fails: int  # of which "no cumple"
    characteristics: list[str]
    datasets: list[str]
    alone: int = 0  # states this remediation lifts by itself
    alone_fails: int = 0
    shared: int = 0  # states that also need other remediations
    weight: float = 0.0
    kind: str = "fix"  # fix | resource (a file that cannot be obtained) | review (no remediation recorded)
    targets: list[ActionTarget] = field(default_factory=list)
    demand: int = 0  # views/downloads of the datasets affected (0 when the portal does not report them)
    states: list[tuple[str, str]] = field(default_factory=list)  # (dataset name, characteristic id) credited

    @property
    def impact(self) -> int:
        """Characteristics fixed × datasets affected (the ranking key)."""
        return len(self.characteristics) * len(self.datasets)


@dataclass(slots=True)
class Commitment:
    dataset_key: str
    due_date: date | None
    matched_dataset: str | None
    committed: bool
    published: bool
    conforme: bool
    #: counted | in_term (due after the portal was read, by the cut-off) | after_cutoff | repeated (counted once)
    state: str = "counted"


@dataclass(slots=True)
class Change:
    """Comparison with the previous year's evaluation."""

    previous: RunSummary
    sentences: list[str]


@dataclass(slots=True)
class ExpectationIssue:
    """A failed expectation of a suite (or one that could not be evaluated), described in Spanish."""

    type: str  # "expect_…"; "" when the whole suite could not be read
    column: str | None
    text: str
    examples: list[str] = field(default_factory=list)  # up to 5 distinct unexpected values (from the portal)
    note: str | None = None  # the suite's own explanation (``meta.nota``)


@dataclass(slots=True)
class SuiteResult:
    """One suite run on one resource: an agency suite or the data-dictionary expectations."""

    dataset: str
    dataset_title: str
    resource: str
    suite: str
    source: str  # "agency" | "dictionary"
    success: bool
    expectations: int  # evaluated + those that could not be built (unknown type, bad arguments)
    failed: int
    issues: list[ExpectationIssue] = field(default_factory=list)


@dataclass(slots=True)
class SuiteOrgSummary:
    """Agency suites of one organization in the portal report."""

    organization: str
    title: str
    resources: int  # resources validated with at least one agency suite
    suites: int  # suite runs (resource × suite)
    failed: int  # suite runs that did not pass


@dataclass(slots=True)
class PortalReport:
    portal_title: str
    portal_url: str
    year: int
    run_id: int
    generated_at: datetime
    crawl_date: datetime | None
    evaluating_unit: str
    summary: RunSummary
    characteristics: list[CharacteristicInfo]
    ranking: list[OrgRow]
    annex: list[DatasetRow]
    resources: int
    resources_probed: int
    probe_outcomes: list[tuple[str, int]]
    errors: int
    change: Change | None
    trend: list[RunSummary]  # earlier years' summaries plus this one, oldest first
    agency_suites: list[SuiteOrgSummary] = field(default_factory=list)  # organizations with agency suites
    legal_basis: LegalBasis = DEFAULT_LEGAL_BASIS
    doc: DocumentInfo | None = None  # folio, period, method version, legal basis, evaluator
    duplicates: list[DuplicateGroup] = field(default_factory=list)  # same data of different organizations
    personal_data_alerts: int = 0  # likely personal data found in files (detail in each organization's report)
    previous_positions: dict[str, int | None] = field(default_factory=dict)  # last year's ranking, by name
    glossary: list[tuple[str, str]] = field(default_factory=list)  # codes of the CSV/JSON files and their meaning


#: the organization report's «Acciones prioritarias» lists this many actions with this many datasets each; when one
#: is cut, the «Anexo de acciones» repeats the list in full (when nothing is cut the list is complete, no annex)
ACTIONS_LISTED = 12
TARGETS_LISTED = 3


@dataclass(slots=True)
class OrganizationReport:
    portal_title: str
    portal_url: str
    year: int
    run_id: int
    generated_at: datetime
    crawl_date: datetime | None
    evaluating_unit: str
    organization: OrgRow
    organizations_ranked: int
    characteristics: list[CharacteristicInfo]
    portal_characteristic_pct: dict[str, float | None]
    portal_score: float | None
    datasets: list[DatasetSection]
    retired: int
    actions: list[Action]
    commitments: list[Commitment]
    unmatched: list[Commitment]
    previous: OrgRow | None
    previous_year: int | None
    agency_suites: list[SuiteResult] = field(default_factory=list)
    dictionary_checks: list[SuiteResult] = field(default_factory=list)
    portal_characteristic_partial_pct: dict[str, float | None] = field(default_factory=dict)
    unattributed: int = 0  # states below "pass" without any remediation (not in ``actions``)
    history: list[tuple[int, OrgRow | None, int]] = field(default_factory=list)  # (year, row, ranked), oldest first
    changes: list[str] = field(default_factory=list)  # what changed since the previous year, in Spanish
    glossary: list[tuple[str, str]] = field(default_factory=list)  # codes of the CSV/JSON rows and their meaning

    legal_basis: LegalBasis = DEFAULT_LEGAL_BASIS
    doc: DocumentInfo | None = None  # folio, period, method version, legal basis, evaluator
    personal_data: list[PersonalDataAlert] = field(default_factory=list)  # masked; for a person to decide
    duplicates: list[DuplicateGroup] = field(default_factory=list)  # groups with one of its datasets

    @property
    def covered_states(self) -> int:
        """(dataset, characteristic) states the actions cover (each counted once): equals ``states_below_pass``."""
        return len({st for a in self.actions for st in a.states})

    @property
    def actions_abridged(self) -> bool:
        """True when «Acciones prioritarias» leaves out actions or datasets (then the «Anexo de acciones» has them)."""
        return len(self.actions) > ACTIONS_LISTED or any(len(a.targets) > TARGETS_LISTED for a in self.actions)

    @property
    def states_below_pass(self) -> int:
        return sum(1 for d in self.datasets for c in d.statuses if c.status in ("fail", "partial"))
