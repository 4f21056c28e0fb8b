"""What the report templates need, computed once from the store as plain dataclasses.

``build_portal_report(store, run_id)`` and ``build_organization_report(store, run_id, org_name)`` read one run
(plus the previous years' complete runs of the same portal for comparisons) and return frozen-free dataclasses
the templates only display. Nothing here formats numbers or knows about HTML/PDF.

Definitions used (documented in docs/reports.md):
- dataset score = weighted mean of the scores of its applicable characteristics (weights from ``scoring``);
  *conforme* = every applicable characteristic passes (and at least one applies);
- portal score = mean of the dataset scores; portal progress = 100 × Σ published / Σ committed;
- characteristic compliance = datasets that pass / datasets where it applies × 100 (and, next to it, the share
  that passes partially: an organization whose datasets are all partial is not shown like one where all fail);
- evaluated datasets = listed + retired (a retired dataset is evaluated: permanentes fails, the rest do not apply);
  every total in the reports counts them both, and the text says how many of them are retired;
- prioritized actions: each (dataset, characteristic) state below "pass" is credited once, to the remediations of
  the findings that cause it (see ``state_causes`` and ``_actions``);
- previous evaluation = the last complete run of the same portal with year Y − 1;
- suite results = the agency suites (``content.suites_dir``) and data-dictionary expectations the content stage
  ran on each tabular resource (``ContentCheck.expectations["suites"]``), one row per resource and suite.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.clock import utcnow
from audit.duplicates import DuplicateGroup, find_duplicates
from audit.errors import ConfigError
from audit.indicator import portal_commitment_totals
from audit.legal import DEFAULT_LEGAL_BASIS, LegalBasis
from audit.privacy import PersonalDataAlert, personal_data_alerts
from audit.store.db import Store
from audit.store.models import (
    AuditRun,
    CommitmentRecord,
    ContentCheck,
    DatasetSnapshot,
    GroupSnapshot,
    ManualReview,
    OrganizationResult,
    OrganizationSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
    RunError,
)
from reports.document import DocSettings, DocumentInfo, document_info
from reports.evidence import evidence_line
from reports.resources import ResourceInfo, dataset_resources, find_resource
from reports.wording import expectation_names_es, plain_es
from rules import CHARACTERISTICS, RULES

log = logging.getLogger(__name__)

SHORT_TITLES = {rule.id: rule.short_title_es or rule.title_es[:3] for rule in RULES}


# ---------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class CharacteristicInfo:
    id: str
    title: str
    short: str
    legal_text: str
    description: str
    params: dict[str, Any] = field(default_factory=dict)  # scalar thresholds from config.yaml


@dataclass(slots=True)
class RunSummary:
    run_id: int
    year: int | None
    date: datetime | None
    datasets: int  # listed (public) datasets
    retired: int
    organizations: int
    groups: int
    conformes: int
    score: float | None  # 0–1
    committed: int
    published: int
    progress_pct: float | None
    quality_progress_pct: float | None
    characteristic_pct: dict[str, float | None]
    characteristic_partial_pct: dict[str, float | None] = field(default_factory=dict)

    @property
    def evaluated(self) -> int:
        """Every dataset the evaluation covers: listed + retired (the denominator of ``conformes_pct``)."""
        return self.datasets + self.retired

    @property
    def conformes_pct(self) -> float | None:
        total = self.evaluated
        return 100.0 * self.conformes / total if total else None


@dataclass(slots=True)
class OrgRow:
    name: str
    title: str
    datasets: int  # evaluated: listed + retired
    score: float | None
    conformes: int
    characteristic_pct: dict[str, float | None]
    committed: int
    published: int
    progress_pct: float | None
    quality_progress_pct: float | None
    position: int | None = None  # ranking among organizations with datasets (ties share the position)
    tied: bool = False  # another organization shares the position
    retired: int = 0  # of ``datasets``, those retired from the portal
    characteristic_partial_pct: dict[str, float | None] = field(default_factory=dict)

    @property
    def listed(self) -> int:
        return self.datasets - self.retired


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
    def states_below_pass(self) -> int:
        return sum(1 for d in self.datasets for c in d.statuses if c.status in ("fail", "partial"))


# ---------------------------------------------------------------------------------------------- helpers


def _effective_params(rules_params: dict[str, Any] | None) -> dict[str, Any]:
    """Each rule's validated parameters (defaults filled in) when the rules registry offers them."""
    try:
        from rules import params_for  # type: ignore[attr-defined]

        return {k: v.model_dump(mode="json") for k, v in params_for(rules_params or {}).items()}
    except Exception:  # noqa: BLE001 - registry missing or section invalid (already reported at config load)
        return dict(rules_params or {})


def _documentation_params(rules_params: dict[str, Any] | None) -> Any:
    """The *legibles* rule's parameters: its documentation test tells data files from dictionaries and notes."""
    from rules import params_for

    return params_for(rules_params or {})["legibles_por_maquinas"]


def characteristic_infos(rules_params: dict[str, Any] | None = None,
                         legal_basis: LegalBasis = DEFAULT_LEGAL_BASIS) -> list[CharacteristicInfo]:
    """Title, legal text (from the ``legal_basis`` config) and measurement description per characteristic."""
    effective = _effective_params(rules_params)
    infos = []
    for rule in RULES:
        params: dict[str, Any] = {}
        raw = effective.get(rule.id)
        if isinstance(raw, dict):  # thresholds only: numbers and switches (vocabularies are in docs/reglas.md)
            params = {k: v for k, v in raw.items() if isinstance(v, int | float | bool)}
        infos.append(CharacteristicInfo(rule.id, rule.title_es, SHORT_TITLES[rule.id], legal_basis.quote(rule.id),
                                        rule.description_es, params))
    return infos


def dataset_score(cells: dict[str, tuple[str, float | None]], weights: dict[str, float] | None) -> tuple[float | None, bool]:
    """The dataset score and *conforme* flag exactly as the scoring stage computes them (one definition)."""
    from audit.scoring import dataset_score as score_of
    from audit.scoring import is_conforme

    statuses = {cid: (status, score if score is not None else (1.0 if status == "pass" else 0.0))
                for cid, (status, score) in cells.items()}
    return score_of(statuses, weights or {}), is_conforme(statuses)


def _mean(values: list[float] | list[float | None]) -> float | None:
    """Mean of the known values (None = no applicable characteristic)."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _portal_title(portal: Portal, override: str | None) -> str:
    return override or portal.title or portal.url


def _get_run(s: Session, run_id: int) -> AuditRun:
    run = s.get(AuditRun, run_id)
    if run is None:
        raise ConfigError(
            f"No existe la corrida {run_id} en la base de datos.",
            hint="Consulte las corridas con 'run_audit.py status' o indique --year.",
        )
    return run


def _run_year(run: AuditRun) -> int:
    if run.year:
        return run.year
    return (run.started_at or utcnow()).year


def previous_run_id(s: Session, run: AuditRun, year: int) -> int | None:
    """The last complete run of the same portal for ``year`` (None when there is none)."""
    return s.scalar(
        select(AuditRun.id)
        .where(AuditRun.portal_id == run.portal_id, AuditRun.year == year, AuditRun.status == "complete")
        .order_by(AuditRun.finished_at.desc().nulls_last(), AuditRun.id.desc())
        .limit(1)
    )


@dataclass(slots=True)
class _RunData:
    """Rule results of a run, keyed by dataset, plus dataset rows (enough for summaries and the annex)."""

    datasets: list[tuple[int, str, str | None, str | None, str]]  # id, name, title, organization, presence
    cells: dict[int, dict[str, tuple[str, float | None]]]
    scores: dict[int, tuple[float | None, bool]]


def _load_run_data(s: Session, run_id: int, weights: dict[str, float] | None, org: str | None = None) -> _RunData:
    q = select(
        DatasetSnapshot.id, DatasetSnapshot.name, DatasetSnapshot.title, DatasetSnapshot.organization_name,
        DatasetSnapshot.presence,
    ).where(DatasetSnapshot.run_id == run_id)
    rq = select(RuleResultRecord.dataset_snapshot_id, RuleResultRecord.characteristic, RuleResultRecord.status,
                RuleResultRecord.score).where(RuleResultRecord.run_id == run_id)
    if org is not None:
        q = q.where(DatasetSnapshot.organization_name == org)
        rq = rq.join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id).where(
            DatasetSnapshot.organization_name == org
        )
    datasets: list[Any] = [tuple(r) for r in s.execute(q.order_by(DatasetSnapshot.organization_name, DatasetSnapshot.name))]
    cells: dict[int, dict[str, tuple[str, float | None]]] = defaultdict(dict)
    for ds_id, cid, status, score in s.execute(rq):
        cells[ds_id][cid] = (status, score)
    scores = {d[0]: dataset_score(cells.get(d[0], {}), weights) for d in datasets}
    return _RunData(datasets=datasets, cells=cells, scores=scores)


def _characteristic_pct(ds_ids: list[int], cells: dict[int, dict[str, tuple[str, float | None]]],
                        status: str = "pass") -> dict[str, float | None]:
    """Per characteristic: datasets with ``status`` ÷ datasets where it applies × 100 (None: applies to none)."""
    out: dict[str, float | None] = {}
    for cid in CHARACTERISTICS:
        applicable = matched = 0
        for ds in ds_ids:
            st = cells.get(ds, {}).get(cid)
            if st is None or st[0] == "not_applicable":
                continue
            applicable += 1
            matched += st[0] == status
        out[cid] = 100.0 * matched / applicable if applicable else None
    return out


def _org_rows(s: Session, run_id: int, data: _RunData) -> list[OrgRow]:
    """Every organization of the run (incl. those without datasets), ranked by score."""
    snaps = {o.name: o for o in s.scalars(select(OrganizationSnapshot).where(OrganizationSnapshot.run_id == run_id))}
    results = {r.organization_name: r for r in s.scalars(
        select(OrganizationResult).where(OrganizationResult.run_id == run_id))}
    by_org: dict[str, list[int]] = defaultdict(list)
    retired: dict[str, int] = defaultdict(int)
    for ds_id, _name, _title, org, presence in data.datasets:
        if org:
            by_org[org].append(ds_id)
            retired[org] += presence != "listed"
    rows: list[OrgRow] = []
    for name in sorted(set(snaps) | set(results) | set(by_org)):
        snap, res = snaps.get(name), results.get(name)
        title = (res.title if res and res.title else None) or (snap.title if snap and snap.title else None) or name
        ds_ids = by_org.get(name, [])
        # evaluated datasets counted from the snapshots, the same way everywhere (listed + retired)
        evaluated = len(ds_ids) if ds_ids or res is None else res.datasets
        if res is not None:
            row = OrgRow(
                name=name, title=title, datasets=evaluated, score=res.score, conformes=res.conformes,
                characteristic_pct={c: res.characteristic_pct.get(c) for c in CHARACTERISTICS},
                committed=res.committed, published=res.published, progress_pct=res.progress_pct,
                quality_progress_pct=res.quality_progress_pct,
            )
        else:  # scoring did not write aggregates: compute them from the rule results
            scores = [data.scores[d][0] for d in ds_ids if data.scores[d][0] is not None]
            row = OrgRow(
                name=name, title=title,
                datasets=evaluated,
                score=_mean(scores),
                conformes=sum(1 for d in ds_ids if data.scores[d][1]),
                characteristic_pct=_characteristic_pct(ds_ids, data.cells),
                committed=0, published=0, progress_pct=None, quality_progress_pct=None,
            )
        row.retired = retired.get(name, 0)
        row.characteristic_partial_pct = _characteristic_pct(ds_ids, data.cells, "partial")
        rows.append(row)
    ranked = sorted((r for r in rows if r.datasets > 0 and r.score is not None), key=lambda r: -r.score)  # type: ignore[operator]
    position, last = 0, None
    for i, r in enumerate(ranked, start=1):
        if last is None or abs(r.score - last) > 1e-9:  # type: ignore[operator]
            position, last = i, r.score
        r.position = position
    shared: dict[int | None, int] = defaultdict(int)
    for r in ranked:
        shared[r.position] += 1
    for r in ranked:
        r.tied = shared[r.position] > 1
    unranked = sorted((r for r in rows if r.position is None), key=lambda r: r.title.casefold())
    return ranked + unranked


def _summary(s: Session, run: AuditRun, data: _RunData, orgs: list[OrgRow]) -> RunSummary:
    ds_ids = [d[0] for d in data.datasets]
    scores = [data.scores[d][0] for d in ds_ids if data.scores[d][0] is not None]
    # from the stored commitments, not a sum over organizations: commitments of organizations the portal does
    # not have still count (committed, not published)
    committed, published, conforme_committed = portal_commitment_totals(s, run.id)
    quality = round(100.0 * conforme_committed / committed, 1) if committed else None
    groups = s.scalar(select(func.count()).select_from(GroupSnapshot).where(GroupSnapshot.run_id == run.id)) or 0
    return RunSummary(
        run_id=run.id,
        year=_run_year(run),
        date=run.started_at,
        datasets=sum(1 for d in data.datasets if d[4] == "listed"),
        retired=sum(1 for d in data.datasets if d[4] != "listed"),
        organizations=len(orgs),
        groups=groups,
        conformes=sum(1 for d in ds_ids if data.scores[d][1]),
        score=_mean(scores),
        committed=committed,
        published=published,
        progress_pct=round(100.0 * published / committed, 1) if committed else None,
        quality_progress_pct=quality,
        characteristic_pct=_characteristic_pct(ds_ids, data.cells),
        characteristic_partial_pct=_characteristic_pct(ds_ids, data.cells, "partial"),
    )


def _change_sentences(prev: RunSummary, cur: RunSummary) -> list[str]:
    from reports.format import fmt_int, fmt_pct, fmt_score, plural  # local: model stays format-free elsewhere

    out = [
        f"de {fmt_int(prev.evaluated)} a {plural(cur.evaluated, 'conjunto evaluado', 'conjuntos evaluados')}",
        f"de {fmt_int(prev.organizations)} a {plural(cur.organizations, 'organización', 'organizaciones')}",
        f"de {fmt_int(prev.conformes)} a {plural(cur.conformes, 'conjunto conforme', 'conjuntos conformes')}",
    ]
    if prev.score is not None and cur.score is not None:
        out.append(f"calificación de {fmt_score(prev.score)} a {fmt_score(cur.score)}")
    if prev.progress_pct is not None and cur.progress_pct is not None:
        out.append(f"avance de {fmt_pct(prev.progress_pct)} a {fmt_pct(cur.progress_pct)}")
    return out


def _cells_for(data: _RunData, ds_id: int, infos: list[CharacteristicInfo]) -> list[StatusCell]:
    cells = data.cells.get(ds_id, {})
    return [
        StatusCell(i.id, i.title, i.short, cells.get(i.id, ("not_applicable", None))[0], cells.get(i.id, (None, None))[1])
        for i in infos
    ]


# ---------------------------------------------------------------------------------------------- suite results

#: what a failed expectation means, by GX type (the column is named separately)
_EXPECTATION_ES = {
    "expect_column_to_exist": "la columna no existe",
    "expect_column_values_to_not_be_null": "valores vacíos",
    "expect_column_values_to_be_null": "valores que deberían estar vacíos",
    "expect_column_values_to_be_between": "valores fuera del intervalo",
    "expect_column_values_to_be_in_set": "valores fuera de los permitidos",
    "expect_column_values_to_not_be_in_set": "valores no permitidos",
    "expect_column_values_to_match_regex": "valores que no siguen el patrón",
    "expect_column_values_to_not_match_regex": "valores con un patrón no permitido",
    "expect_column_values_to_match_strftime_format": "fechas con otro formato",
    "expect_column_values_to_be_dateutil_parseable": "valores que no son fechas",
    "expect_column_values_to_be_unique": "valores repetidos",
    "expect_compound_columns_to_be_unique": "combinaciones repetidas",
    "expect_column_value_lengths_to_be_between": "longitud fuera del intervalo",
    "expect_column_value_lengths_to_equal": "longitud distinta de la esperada",
    "expect_column_values_to_be_of_type": "valores de otro tipo",
    "expect_column_values_to_be_in_type_list": "valores de otro tipo",
    "expect_column_values_to_be_increasing": "valores que no aumentan",
    "expect_column_values_to_be_decreasing": "valores que no disminuyen",
    "expect_table_row_count_to_be_between": "número de filas fuera del intervalo",
    "expect_table_row_count_to_equal": "número de filas distinto del esperado",
    "expect_table_column_count_to_equal": "número de columnas distinto del esperado",
    "expect_table_columns_to_match_set": "las columnas no coinciden",
    "expect_table_columns_to_match_ordered_list": "las columnas no coinciden o están en otro orden",
    "expect_column_distinct_values_to_be_in_set": "valores distintos fuera de los permitidos",
    "expect_column_mean_to_be_between": "promedio fuera del intervalo",
    "expect_column_median_to_be_between": "mediana fuera del intervalo",
    "expect_column_min_to_be_between": "mínimo fuera del intervalo",
    "expect_column_max_to_be_between": "máximo fuera del intervalo",
    "expect_column_sum_to_be_between": "suma fuera del intervalo",
    "expect_column_stdev_to_be_between": "desviación estándar fuera del intervalo",
    "expect_column_unique_value_count_to_be_between": "número de valores distintos fuera del intervalo",
}
_MAX_EXAMPLES = 5
_MAX_ISSUES = 12  # per suite and resource: a broken file would otherwise fill pages


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short_value(value: Any, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_list(values: Any, limit: int = 6) -> str:
    items = [_short_value(v, 30) for v in values] if isinstance(values, list | tuple | set) else [_short_value(values)]
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" y {more} más" if more > 0 else "")


def _range_text(kwargs: dict[str, Any]) -> str:
    from reports.format import fmt_num  # local: model stays format-free elsewhere

    def num(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return _short_value(v, 30)
        return fmt_num(v, 0) if float(v).is_integer() else fmt_num(v, 2).rstrip("0").rstrip(".")

    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and hi is not None:
        return f"de {num(lo)} a {num(hi)}"
    if lo is not None:
        return f"mínimo {num(lo)}"
    if hi is not None:
        return f"máximo {num(hi)}"
    return ""


def _expectation_issue(item: dict[str, Any]) -> ExpectationIssue:
    """A failed expectation as one Spanish sentence: what was expected, how many values failed, examples."""
    from reports.format import fmt_int, fmt_pct, plural

    etype = str(item.get("type") or "")
    kwargs = _as_dict(item.get("kwargs"))
    result = _as_dict(item.get("result"))
    meta = _as_dict(item.get("meta"))
    column = kwargs.get("column")
    if column is None and isinstance(kwargs.get("column_list"), list):
        column = ", ".join(str(c) for c in kwargs["column_list"][:5])
    parts = [_EXPECTATION_ES.get(etype, "no se cumple")]
    bounds = _range_text(kwargs)
    if bounds:
        parts[0] += f" ({bounds})"
    elif "value_set" in kwargs:
        parts[0] += f" ({_value_list(kwargs['value_set'])})"
    elif "regex" in kwargs:  # the pattern itself is in scores.json; a reader gets the meaning
        parts[0] += " definido en la suite"
    if item.get("error"):
        parts = [f"no se pudo evaluar: {_short_value(item['error'], 200)}"]
    count = result.get("unexpected_count")
    if isinstance(count, int | float) and not isinstance(count, bool):
        total = result.get("element_count")
        text = (f"{fmt_int(count)} de {plural(total, 'valor', 'valores')}" if isinstance(total, int | float)
                else plural(count, "valor", "valores"))
        pct = result.get("unexpected_percent")
        if isinstance(pct, int | float) and not isinstance(pct, bool):
            text += f" ({fmt_pct(pct)})"
        parts.append(text)
    mismatched = _as_dict(result.get("details")).get("mismatched")
    if isinstance(mismatched, dict) and mismatched.get("missing"):
        parts.append("faltan: " + _value_list(mismatched["missing"], 8))
    elif "observed_value" in result and not isinstance(count, int | float):
        parts.append(f"observado: {_value_list(result['observed_value'])}")
    if "mostly" in kwargs and isinstance(kwargs["mostly"], int | float):
        parts.append(f"tolerancia: al menos {fmt_pct(100 * kwargs['mostly'])} de los valores")
    examples = list(dict.fromkeys(_short_value(v) for v in result.get("partial_unexpected_list") or []))
    note = meta.get("nota") or meta.get("notes") or meta.get("description")
    return ExpectationIssue(type=etype, column=None if column is None else _short_value(column, 80),
                            text="; ".join(parts), examples=examples[:_MAX_EXAMPLES],
                            note=_short_value(note, 200) if note else None)


def _invalid_issue(entry: dict[str, Any]) -> ExpectationIssue:
    etype = str(entry.get("type") or "")
    column = entry.get("column")
    error = str(entry.get("error") or "")
    if error == "column_missing":
        text = "columna inexistente: la suite la menciona, pero el archivo no la tiene"
    elif "index" in entry:
        text = f"expectativa n.º {int(entry['index']) + 1} inválida (tipo desconocido o argumentos incorrectos): {_short_value(error, 200)}"
    else:
        text = f"la suite no se pudo leer o ejecutar: {_short_value(error, 200)}"
    text = expectation_names_es(text)
    return ExpectationIssue(type=etype, column=None if column is None else _short_value(column, 80), text=text)


def suite_result(dataset: str, dataset_title: str, resource: str, suite: dict[str, Any]) -> SuiteResult:
    """One stored suite result (``ContentCheck.expectations["suites"][i]``) as a report row."""
    invalid = [e for e in suite.get("invalid") or [] if isinstance(e, dict)]
    missing = {(str(e.get("type")), str(e.get("column"))) for e in invalid if e.get("error") == "column_missing"}
    issues = [_invalid_issue(e) for e in invalid]
    failed_items = [f for f in suite.get("failed") or [] if isinstance(f, dict)]
    for f in failed_items:
        kwargs = _as_dict(f.get("kwargs"))
        if (str(f.get("type")), str(kwargs.get("column"))) in missing:
            continue  # already said: "columna inexistente"
        issues.append(_expectation_issue(f))
    stats = _as_dict(suite.get("statistics"))
    evaluated = stats.get("evaluated_expectations")
    if not isinstance(evaluated, int):
        evaluated = len(suite.get("results") or [])
    unsuccessful = stats.get("unsuccessful_expectations")
    if not isinstance(unsuccessful, int):
        unsuccessful = len(failed_items)
    not_built = sum(1 for e in invalid if "index" in e and e.get("error") != "column_missing")
    if len(issues) > _MAX_ISSUES:
        more = len(issues) - _MAX_ISSUES + 1
        issues = issues[: _MAX_ISSUES - 1] + [ExpectationIssue("", None, f"y {more} expectativas fallidas más")]
    name = str(suite.get("name") or "")
    source = str(suite.get("source") or "agency")
    return SuiteResult(
        dataset=dataset, dataset_title=dataset_title, resource=resource,
        suite="Diccionario de datos" if source == "dictionary" else _short_value(name or "suite", 80),
        source=source, success=bool(suite.get("success")), expectations=evaluated + not_built,
        failed=unsuccessful + not_built, issues=issues,
    )


def _resource_label(name: str | None, url: str | None, position: int | None) -> str:
    if name and name.strip():
        return name.strip()
    tail = (url or "").rstrip("/").rsplit("/", 1)[-1]
    return tail or f"Recurso {(position or 0) + 1}"


def _suite_results(s: Session, run_id: int, *, org: str | None = None,
                   dictionary: bool = True) -> list[tuple[str, SuiteResult]]:
    """(organization, result) for every agency suite (and dictionary check) the content stage ran in ``run_id``.

    One query; only the checks whose evidence says a suite applied are read (``agency_success`` /
    ``dictionary_conformance`` are not null), so a portal of plain files costs almost nothing."""
    applied = ContentCheck.details["agency_success"].as_string().is_not(None)
    if dictionary:
        applied = applied | ContentCheck.details["dictionary_conformance"].as_string().is_not(None)
    q = (
        select(DatasetSnapshot.organization_name, DatasetSnapshot.name, DatasetSnapshot.title, ResourceSnapshot.name,
               ResourceSnapshot.url, ResourceSnapshot.position, ContentCheck.expectations)
        .join(ResourceSnapshot, ResourceSnapshot.id == ContentCheck.resource_snapshot_id)
        .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
        .where(ContentCheck.run_id == run_id, applied)
    )
    if org is not None:
        q = q.where(DatasetSnapshot.organization_name == org)
    sources = ("agency", "dictionary") if dictionary else ("agency",)
    rows: list[tuple[tuple[str, str, int, int, str], str, SuiteResult]] = []
    for org_name, ds_name, ds_title, res_name, res_url, position, expectations in s.execute(q):
        suites = (expectations or {}).get("suites") if isinstance(expectations, dict) else None
        label = _resource_label(res_name, res_url, position)
        for suite in suites or []:
            if not isinstance(suite, dict) or suite.get("source") not in sources:
                continue
            res = suite_result(ds_name, ds_title or ds_name, label, suite)
            key = (res.dataset_title.casefold(), ds_name, position or 0, 0 if res.source == "agency" else 1,
                   res.suite.casefold())
            rows.append((key, org_name or "", res))
    rows.sort(key=lambda r: r[0])
    return [(o, r) for _k, o, r in rows]


def _agency_summary(results: list[tuple[str, SuiteResult]], orgs: list[OrgRow]) -> list[SuiteOrgSummary]:
    titles = {o.name: o.title for o in orgs}
    acc: dict[str, dict[str, Any]] = {}
    for org, r in results:
        if r.source != "agency":
            continue
        a = acc.setdefault(org, {"resources": set(), "suites": 0, "failed": 0})
        a["resources"].add((r.dataset, r.resource))
        a["suites"] += 1
        a["failed"] += not r.success
    out = [SuiteOrgSummary(org, titles.get(org, org), len(a["resources"]), a["suites"], a["failed"])
           for org, a in acc.items()]
    out.sort(key=lambda x: (-x.failed, x.title.casefold()))
    return out


# ---------------------------------------------------------------------------------------------- builders


def build_portal_report(
    store: Store,
    run_id: int,
    *,
    weights: dict[str, float] | None = None,
    evaluating_unit: str = "",
    portal_title: str | None = None,
    rules_params: dict[str, Any] | None = None,
    legal_basis: LegalBasis = DEFAULT_LEGAL_BASIS,
    trend_years: int = 5,
    doc_settings: DocSettings | None = None,
) -> PortalReport:
    infos = characteristic_infos(rules_params, legal_basis)
    with store.session() as s:
        run = _get_run(s, run_id)
        year = _run_year(run)
        portal = run.portal
        data = _load_run_data(s, run_id, weights)
        orgs = _org_rows(s, run_id, data)
        summary = _summary(s, run, data, orgs)

        annex = [
            DatasetRow(org or "", name, title or name, presence, data.scores[ds_id][0], data.scores[ds_id][1],
                       _cells_for(data, ds_id, infos))
            for ds_id, name, title, org, presence in data.datasets
        ]
        resources = s.scalar(select(func.count()).select_from(ResourceSnapshot).where(ResourceSnapshot.run_id == run_id)) or 0
        outcomes = [(o, n) for o, n in s.execute(
            select(Probe.outcome, func.count()).where(Probe.run_id == run_id).group_by(Probe.outcome)
            .order_by(func.count().desc()))]
        errors = s.scalar(select(func.count()).select_from(RunError).where(RunError.run_id == run_id)) or 0

        change = None
        previous_positions: dict[str, int | None] = {}
        trend: list[RunSummary] = []
        for y in range(year - trend_years, year):
            rid = previous_run_id(s, run, y)
            if rid is None:
                continue
            prun = s.get(AuditRun, rid)
            assert prun is not None
            pdata = _load_run_data(s, rid, weights)
            prows = _org_rows(s, rid, pdata)
            psum = _summary(s, prun, pdata, prows)
            trend.append(psum)
            if y == year - 1:
                change = Change(previous=psum, sentences=_change_sentences(psum, summary))
                previous_positions = {o.name: o.position for o in prows}
        trend.append(summary)

        return PortalReport(
            portal_title=_portal_title(portal, portal_title),
            portal_url=portal.url,
            year=year,
            run_id=run_id,
            generated_at=utcnow(),
            crawl_date=run.started_at,
            evaluating_unit=evaluating_unit,
            summary=summary,
            characteristics=infos,
            ranking=orgs,
            annex=annex,
            resources=resources,
            resources_probed=sum(n for _o, n in outcomes),
            probe_outcomes=outcomes,
            errors=errors,
            change=change,
            trend=trend,
            agency_suites=_agency_summary(_suite_results(s, run_id, dictionary=False), orgs),
            legal_basis=legal_basis,
            doc=document_info(run, year, doc_settings or DocSettings(unit=evaluating_unit)),
            duplicates=find_duplicates(store, run_id, _documentation_params(rules_params)),
            personal_data_alerts=len(personal_data_alerts(store, run_id)),
            previous_positions=previous_positions,
            glossary=glossary(infos, outcomes=[o for o, _n in outcomes]),
        )



@dataclass(slots=True)
class PortalContext:
    """Portal-wide numbers every organization report needs (ranking, averages, previous year), computed once."""

    orgs: list[OrgRow]
    portal_pct: dict[str, float | None]
    portal_score: float | None
    previous_orgs: dict[str, OrgRow]
    previous_year: int | None
    portal_partial_pct: dict[str, float | None] = field(default_factory=dict)
    #: earlier years' evaluations, oldest first: (year, run id, organizations ranked that year, rows by name)
    history: list[tuple[int, int, int, dict[str, OrgRow]]] = field(default_factory=list)


def _org_history(s: Session, run: AuditRun, year: int, weights: dict[str, float] | None,
                 years: int = 5) -> list[tuple[int, int, int, dict[str, OrgRow]]]:
    out = []
    for y in range(year - years, year):
        rid = previous_run_id(s, run, y)
        if rid is None:
            continue
        rows = _org_rows(s, rid, _load_run_data(s, rid, weights))
        out.append((y, rid, sum(1 for o in rows if o.position is not None), {o.name: o for o in rows}))
    return out


def build_portal_context(store: Store, run_id: int, *, weights: dict[str, float] | None = None) -> PortalContext:
    with store.session() as s:
        run = _get_run(s, run_id)
        year = _run_year(run)
        data = _load_run_data(s, run_id, weights)
        orgs = _org_rows(s, run_id, data)
        ids = [d[0] for d in data.datasets]
        history = _org_history(s, run, year, weights)
        last = history[-1] if history and history[-1][0] == year - 1 else None
        previous_orgs = last[3] if last else {}
        prev_id = last[1] if last else None
        return PortalContext(
            orgs=orgs,
            portal_pct=_characteristic_pct(ids, data.cells),
            portal_score=_mean([data.scores[d][0] for d in ids]),
            previous_orgs=previous_orgs,
            previous_year=year - 1 if prev_id is not None else None,
            portal_partial_pct=_characteristic_pct(ids, data.cells, "partial"),
            history=history,
        )


#: Findings that decide a characteristic's verdict by themselves. When a state below "pass" has one of them, the
#: state's other findings are advice that cannot lift it (declaring or fixing the frequency does not make data that
#: are years old timely: the stale-data finding's own remediation covers both), so they do not claim it.
DECISIVE_FINDINGS: dict[str, frozenset[str]] = {
    "oportunos": frozenset({"desactualizado", "irregular_antiguo", "sin_fecha_actualizacion"}),
}
#: Findings that the rules also emit on passing results: advice that never decides a verdict (they claim a state
#: only when nothing else explains it).
ADVISORY_FINDINGS: dict[str, frozenset[str]] = {
    "oportunos": frozenset({"fecha_solo_metadatos"}),
    "gratuitos": frozenset({"precio_por_revisar"}),
}


def _remediation_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def state_causes(characteristic: str, findings: list[FindingView]) -> list[FindingView]:
    """The findings of one (dataset, characteristic) state below "pass" whose remediations would lift it.

    Only findings with a remediation count. A decisive finding (``DECISIVE_FINDINGS``) leaves out the others;
    advisory findings (``ADVISORY_FINDINGS``) count only when nothing else explains the state."""
    actionable = [f for f in findings if f.remediation.strip()]
    decisive = DECISIVE_FINDINGS.get(characteristic, frozenset())
    if any(f.code in decisive for f in actionable):
        return [f for f in actionable if f.code in decisive]
    advisory = ADVISORY_FINDINGS.get(characteristic, frozenset())
    causes = [f for f in actionable if f.code not in advisory]
    return causes or actionable


def _cause_key(ds: DatasetSection, f: FindingView) -> tuple[str, str]:
    """A file that cannot be obtained as data (an error, or a page instead of the file) is one root cause whatever
    it fails, and so is a dataset without any resource; otherwise the remediation is."""
    info = f.resource_info
    if info is not None and info.problem:
        return ("resource", f"{ds.name}\x00{info.ckan_id or info.url or info.name}")
    if ds.resources == 0 and ds.presence == "listed":
        return ("empty", ds.name)
    return ("fix", _remediation_key(f.remediation))


def _new_group(kind: str, f: FindingView | None, title: str) -> dict[str, Any]:
    if f is None:
        remediation = (f"Revise «{title}» en los conjuntos señalados: el resultado no registró una corrección "
                       "(vea el detalle de cada conjunto).")
    else:
        remediation = f.remediation.strip()
    return {"remediation": remediation, "code": f.code if f else "", "kind": kind, "alone": 0, "alone_fails": 0,
            "shared": 0, "fails": 0, "weight": Fraction(0), "fail_weight": Fraction(0), "chars": [], "datasets": [],
            "targets": {}, "demand": 0, "states": [], "seen_ds": set()}


def _actions(sections: list[DatasetSection]) -> tuple[list[Action], int]:
    """Every action (root cause) with the states below "pass" it is credited with, most impact first.

    Each (dataset, characteristic) state below "pass" is attributed to the root causes of its findings
    (``state_causes``, ``_cause_key``) and counted once: a state that needs n causes fixed adds 1/n to each; a state
    with no remediation recorded gets a «revise» action. Actions are ranked by impact (characteristics fixed ×
    datasets affected), then by weight, by the weight of their «no cumple», and by demand (views/downloads)."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for ds in sections:
        by_state: dict[str, list[FindingView]] = defaultdict(list)
        for f in ds.findings:
            if f.status in ("fail", "partial"):
                by_state[f.characteristic].append(f)
        for cell in ds.statuses:
            if cell.status not in ("fail", "partial"):
                continue
            causes: dict[tuple[str, str], FindingView | None] = {}
            for cause in state_causes(cell.characteristic, by_state.get(cell.characteristic, [])):
                causes.setdefault(_cause_key(ds, cause), cause)
            if not causes:
                causes[("review", cell.characteristic)] = None
            share = Fraction(1, len(causes))
            failed = cell.status == "fail"
            for key, cause_f in causes.items():
                g = groups.get(key)
                if g is None:
                    g = groups[key] = _new_group(key[0], cause_f, cell.title)
                g["weight"] += share
                g["fails"] += failed
                if len(causes) == 1:
                    g["alone"] += 1
                    g["alone_fails"] += failed
                else:
                    g["shared"] += 1
                if failed:
                    g["fail_weight"] += share
                if cell.title not in g["chars"]:
                    g["chars"].append(cell.title)
                if ds.title not in g["datasets"]:
                    g["datasets"].append(ds.title)
                if ds.name not in g["seen_ds"]:
                    g["seen_ds"].add(ds.name)
                    g["demand"] += ds.demand or 0
                g["states"].append((ds.name, cell.characteristic))
                info = cause_f.resource_info if cause_f is not None else None
                tkey = (ds.name, (info.ckan_id or info.url or info.name) if info else "")
                target = g["targets"].get(tkey)
                if target is None:
                    problem = plain_es(info.reason or info.outcome) if info is not None and info.problem else (
                        cause_f.message if cause_f is not None else "")
                    target = g["targets"][tkey] = ActionTarget(ds.title, ds.name, ds.anchor, [], info, problem)
                if cell.title not in target.characteristics:
                    target.characteristics.append(cell.title)
    actions = [
        Action(g["remediation"], g["code"], g["alone"] + g["shared"], g["fails"], g["chars"], g["datasets"],
               alone=g["alone"], alone_fails=g["alone_fails"], shared=g["shared"], weight=float(g["weight"]),
               kind=g["kind"], targets=list(g["targets"].values()), demand=g["demand"], states=g["states"])
        for g in groups.values()
    ]
    fail_weight = {id(a): float(g["fail_weight"]) for a, g in zip(actions, groups.values(), strict=True)}
    actions.sort(key=lambda a: (-a.impact, -a.weight, -fail_weight[id(a)], -a.demand, a.remediation))
    return actions, 0


def build_organization_report(
    store: Store,
    run_id: int,
    org_name: str,
    *,
    weights: dict[str, float] | None = None,
    evaluating_unit: str = "",
    portal_title: str | None = None,
    rules_params: dict[str, Any] | None = None,
    legal_basis: LegalBasis = DEFAULT_LEGAL_BASIS,
    description_chars: int = 600,
    context: PortalContext | None = None,
    doc_settings: DocSettings | None = None,
) -> OrganizationReport:
    """One organization's report. ``context`` (portal-wide ranking and averages, see
    :func:`build_portal_context`) is computed once by the caller when rendering many organizations."""
    infos = characteristic_infos(rules_params, legal_basis)
    ctx = context if context is not None else build_portal_context(store, run_id, weights=weights)
    row = next((o for o in ctx.orgs if o.name == org_name), None)
    if row is None:
        raise ConfigError(
            f"La organización {org_name!r} no existe en la corrida {run_id}.",
            hint="Use el nombre CKAN (slug) de la organización, p. ej. secretaria-de-finanzas.",
        )
    with store.session() as s:
        run = _get_run(s, run_id)
        year = _run_year(run)
        portal = run.portal
        data_org = _load_run_data(s, run_id, weights, org=org_name)

        snaps = list(s.scalars(
            select(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id, DatasetSnapshot.organization_name == org_name)
            .order_by(DatasetSnapshot.name)))
        ids = [d.id for d in snaps]
        records: dict[int, list[RuleResultRecord]] = defaultdict(list)
        review_ids: set[int] = set()
        if ids:
            for rec in s.scalars(select(RuleResultRecord).where(RuleResultRecord.run_id == run_id,
                                                                RuleResultRecord.dataset_snapshot_id.in_(ids))):
                records[rec.dataset_snapshot_id].append(rec)
                if rec.manual_review_id:
                    review_ids.add(rec.manual_review_id)
        reviews = {r.id: r for r in s.scalars(select(ManualReview).where(ManualReview.id.in_(review_ids)))} if review_ids else {}
        resources_of = dataset_resources(s, run, year, ids)

        sections: list[DatasetSection] = []
        for i, ds in enumerate(snaps):
            recs = {r.characteristic: r for r in records.get(ds.id, [])}
            cells, findings, notes = [], [], []
            basis: list[tuple[str, str]] = []
            for info in infos:
                found = recs.get(info.id)
                if found is None:
                    cells.append(StatusCell(info.id, info.title, info.short, "not_applicable", None))
                    continue
                rec = found
                cells.append(StatusCell(info.id, info.title, info.short, rec.status, rec.score,
                                        manual=rec.manual_review_id is not None,
                                        automatic_status=rec.automatic_status, error=rec.error))
                line = evidence_line(rec.evidence if isinstance(rec.evidence, dict) else None)
                if line:
                    basis.append((info.title, plain_es(line)))
                for f in rec.findings or []:
                    if not isinstance(f, dict):
                        continue
                    # every text a reader sees in Spanish words: the codes stay in scores.csv / scores.json
                    findings.append(FindingView(
                        characteristic=info.id, characteristic_title=info.title, status=rec.status,
                        code=str(f.get("code") or ""), message=plain_es(f.get("message_es") or ""),
                        remediation=plain_es(f.get("remediation_es") or ""),
                        resource=(str(f["resource"]) if f.get("resource") else None),
                        observed=(plain_es(f["observed"]) if f.get("observed") not in (None, "") else None),
                        manual_review=bool(f.get("manual_review")),
                        resource_info=find_resource(resources_of.get(ds.id, []), f.get("resource")),
                    ))
                review = reviews.get(rec.manual_review_id) if rec.manual_review_id else None
                if review is not None:
                    notes.append(ReviewNote(info.id, info.title, rec.status, rec.automatic_status,
                                            review.justification, review.reviewer, review.review_date))
            score, conforme = data_org.scores.get(ds.id, (None, False))
            notes_text = ds.raw.get("notes") if isinstance(ds.raw, dict) else None
            desc = " ".join(str(notes_text or "").split())
            if len(desc) > description_chars:
                desc = desc[: description_chars - 1].rstrip() + "…"
            sections.append(DatasetSection(
                organization=org_name, name=ds.name, title=ds.title or ds.name, presence=ds.presence,
                score=score, conforme=conforme, statuses=cells, description=desc,
                resources=len(resources_of.get(ds.id, [])), findings=findings, reviews=notes,
                anchor=f"ds-{i + 1}", basis=basis,
                recommendations=[f for f in findings if f.status == "pass" and f.remediation],
                resource_list=resources_of.get(ds.id, []), demand=_demand(ds.raw),
            ))
        # worst first: the reader starts with what needs the most work
        sections.sort(key=lambda d: (d.conforme, d.score if d.score is not None else -1.0, d.title.casefold()))
        for i, sec in enumerate(sections, start=1):
            sec.anchor = f"ds-{i}"

        suite_results = [r for _org, r in _suite_results(s, run_id, org=org_name)]

        commitments = [
            Commitment(c.dataset_key, c.due_date, c.matched_dataset, c.committed, c.published, c.conforme)
            for c in s.scalars(select(CommitmentRecord).where(
                CommitmentRecord.run_id == run_id, CommitmentRecord.organization_name == org_name)
                .order_by(CommitmentRecord.due_date, CommitmentRecord.dataset_key))
        ]

        actions, unattributed = _actions(sections)
        prev_id = next((rid for y, rid, _n, _rows in ctx.history if y == year - 1), None)
        changes = _dataset_changes(_load_run_data(s, prev_id, weights, org=org_name), data_org, infos) \
            if prev_id is not None else []
        return OrganizationReport(
            portal_title=_portal_title(portal, portal_title),
            portal_url=portal.url,
            year=year,
            run_id=run_id,
            generated_at=utcnow(),
            crawl_date=run.started_at,
            evaluating_unit=evaluating_unit,
            organization=row,
            organizations_ranked=sum(1 for o in ctx.orgs if o.position is not None),
            characteristics=infos,
            portal_characteristic_pct=ctx.portal_pct,
            portal_score=ctx.portal_score,
            datasets=sections,
            retired=sum(1 for d in sections if d.presence != "listed"),
            actions=actions,
            unattributed=unattributed,
            commitments=commitments,
            unmatched=[c for c in commitments if c.matched_dataset is None],
            previous=ctx.previous_orgs.get(org_name),
            previous_year=ctx.previous_year,
            agency_suites=[r for r in suite_results if r.source == "agency"],
            dictionary_checks=[r for r in suite_results if r.source == "dictionary"],
            portal_characteristic_partial_pct=ctx.portal_partial_pct,
            legal_basis=legal_basis,
            doc=document_info(run, year, doc_settings or DocSettings(unit=evaluating_unit)),
            personal_data=personal_data_alerts(store, run_id, org_name),
            duplicates=[g for g in find_duplicates(store, run_id, _documentation_params(rules_params))
                        if org_name in g.organizations],
            history=[(y, rows.get(org_name), ranked) for y, _rid, ranked, rows in ctx.history],
            changes=changes,
            glossary=glossary(infos, findings=[f for d in sections for f in d.findings],
                              outcomes=[r.reason or r.outcome or "" for d in sections for r in d.resource_list]),
        )


def _dataset_changes(prev: _RunData, cur: _RunData, infos: list[CharacteristicInfo]) -> list[str]:
    """«3 conjuntos dejaron de cumplir «Oportunos»», «2 conjuntos empezaron a cumplir …», new and gone datasets."""
    from reports.format import plural

    prev_ids = {d[1]: d[0] for d in prev.datasets}
    cur_ids = {d[1]: d[0] for d in cur.datasets}
    out = []
    new, gone = sorted(set(cur_ids) - set(prev_ids)), sorted(set(prev_ids) - set(cur_ids))
    if new:
        out.append(f"{plural(len(new), 'conjunto nuevo', 'conjuntos nuevos')} en la evaluación")
    if gone:
        out.append(f"{plural(len(gone), 'conjunto', 'conjuntos')} de la evaluación anterior ya no "
                   f"{'aparece' if len(gone) == 1 else 'aparecen'}")
    both = sorted(set(prev_ids) & set(cur_ids))
    for info in infos:
        before = {n for n in both if prev.cells.get(prev_ids[n], {}).get(info.id, ("",))[0] == "pass"}
        now = {n for n in both if cur.cells.get(cur_ids[n], {}).get(info.id, ("",))[0] == "pass"}
        if lost := len(before - now):
            out.append(f"{plural(lost, 'conjunto', 'conjuntos')} {'dejó' if lost == 1 else 'dejaron'} de cumplir "
                       f"«{info.title}»")
        if won := len(now - before):
            out.append(f"{plural(won, 'conjunto', 'conjuntos')} {'empezó' if won == 1 else 'empezaron'} a cumplir "
                       f"«{info.title}»")
    conf_before = sum(1 for n in both if prev.scores.get(prev_ids[n], (None, False))[1])
    conf_now = sum(1 for n in both if cur.scores.get(cur_ids[n], (None, False))[1])
    if both and conf_before != conf_now:
        out.append(f"conformes entre los conjuntos de ambos años: de {conf_before} a {conf_now}")
    return out


def glossary(infos: list[CharacteristicInfo], *, findings: list[FindingView] | None = None,
             outcomes: list[str] | None = None) -> list[tuple[str, str]]:
    """The codes a reader meets in scores.csv / scores.json / datasets.csv and what they mean, in Spanish:
    statuses, characteristic columns, the findings' reason codes (with their message) and the probe results."""
    from reports.format import STATUS_LABEL
    from reports.wording import CODES_ES, http_text

    items: dict[str, str] = {k: v for k, v in STATUS_LABEL.items()}
    items.update({i.id: f"característica «{i.title}»" for i in infos})
    for f in sorted(findings or [], key=lambda f: f.code):
        if f.code and f.code not in items:
            items[f.code] = f"{f.characteristic_title}: {f.message}"
    for o in sorted(set(outcomes or [])):
        if not o or o in items:
            continue
        if o.startswith("http_") and o[5:].isdigit():
            items[o] = http_text(int(o[5:]))
        elif o in CODES_ES:
            items[o] = CODES_ES[o]
    return list(items.items())


def _demand(raw: Any) -> int | None:
    """Views or downloads the portal reports for a dataset (CKAN ``tracking_summary``, or ``views``/``downloads``
    extras), None when it reports none: the tie-breaker of the action list («by demand»)."""
    if not isinstance(raw, dict):
        return None
    tracking = raw.get("tracking_summary")
    if isinstance(tracking, dict) and isinstance(tracking.get("total"), int):
        return int(tracking["total"])
    for key in ("downloads", "views", "num_downloads", "num_views"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def organization_names(store: Store, run_id: int) -> list[str]:
    """Every organization of the run, including those without datasets (snapshots ∪ results ∪ datasets)."""
    with store.session() as s:
        _get_run(s, run_id)
        names = set(s.scalars(select(OrganizationSnapshot.name).where(OrganizationSnapshot.run_id == run_id)))
        names |= set(s.scalars(select(OrganizationResult.organization_name).where(OrganizationResult.run_id == run_id)))
        names |= {n for n in s.scalars(select(DatasetSnapshot.organization_name).where(
            DatasetSnapshot.run_id == run_id).distinct()) if n}
    return sorted(names)

