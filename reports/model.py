"""Builds what the report templates need (the records of :mod:`reports.records`) over the read model.

``build_portal_report(store, run_id)`` and ``build_organization_report(store, run_id, org_name)`` read one run
through :mod:`audit.results` (summaries, ranking, earlier years) plus what only the reports show (findings in
Spanish, resources, suites, commitments) and return dataclasses the templates only display. Nothing here formats
numbers or knows about HTML/PDF. The action list is :mod:`reports.actions`; suite results in Spanish,
:mod:`reports.validation`.

Definitions used (documented in docs/reports.md):
- dataset score = weighted mean of the scores of its applicable characteristics (weights from ``scoring``);
  *conforme* = every applicable characteristic passes (and at least one applies);
- portal score = mean of the dataset scores; portal progress = 100 × Σ published / Σ committed;
- characteristic compliance = datasets that pass / datasets where it applies × 100 (and, next to it, the share
  that passes partially: an organization whose datasets are all partial is not shown like one where all fail);
- evaluated datasets = listed + retired (a retired dataset is evaluated: permanentes fails, the rest do not apply);
  every total in the reports counts them both, and the text says how many of them are retired;
- prioritized actions: each (dataset, characteristic) state below "pass" is credited once, to the remediations of
  the findings that cause it (see ``reports.actions``);
- previous evaluation = the last complete run of the same portal with year Y − 1;
- suite results = the agency suites (``content.suites_dir``) and data-dictionary expectations the content stage
  ran on each tabular resource (``ContentCheck.expectations["suites"]``), one row per resource and suite.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from audit.clock import utcnow
from audit.duplicates import DuplicateGroup, find_duplicates
from audit.errors import ConfigError
from audit.indicator import in_term
from audit.legal import DEFAULT_LEGAL_BASIS, LegalBasis
from audit.privacy import personal_data_alerts
from audit.results import (
    OrgRow,
    PortalContext,
    RunData,
    RunSummary,
    earlier_years,
    get_run,
    load_run_data,
    org_rows,
    portal_context,
    run_summary,
    run_year,
)
from audit.results import score_cells as dataset_score
from audit.store.db import Store
from audit.store.models import (
    CommitmentRecord,
    DatasetSnapshot,
    ManualReview,
    OrganizationResult,
    OrganizationSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
    RunError,
)
from reports.actions import actions_of, state_causes
from reports.document import DocSettings, DocumentInfo, document_info
from reports.evidence import evidence_line
from reports.records import (
    Action,
    ActionTarget,
    Change,
    CharacteristicInfo,
    Commitment,
    DatasetRow,
    DatasetSection,
    ExpectationIssue,
    FindingView,
    OrganizationReport,
    PortalReport,
    ReviewNote,
    StatusCell,
    SuiteOrgSummary,
    SuiteResult,
)
from reports.resources import dataset_resources, find_resource
from reports.validation import agency_summary, suite_result, suite_results
from reports.wording import plain_es
from rules import RULES

#: the records, the actions and the suite wording used to live here: their names stay importable from this module
__all__ = [
    "Action", "ActionTarget", "Change", "CharacteristicInfo", "Commitment",
    "DatasetRow", "DatasetSection", "ExpectationIssue", "FindingView", "OrgRow", "OrganizationReport",
    "PortalContext", "PortalReport", "ReviewNote", "RunSummary", "StatusCell", "SuiteOrgSummary", "SuiteResult",
    "build_organization_report", "build_portal_context", "build_portal_report", "characteristic_infos",
    "dataset_score", "glossary", "organization_names", "state_causes", "suite_result",
]
_suite_results = suite_results  # tests read suite rows through the old private name

log = logging.getLogger(__name__)

SHORT_TITLES = {rule.id: rule.short_title_es or rule.title_es[:3] for rule in RULES}


# ---------------------------------------------------------------------------------------------- helpers


def _effective_params(rules_params: dict[str, Any] | None) -> dict[str, Any]:
    """Each rule's validated parameters (defaults filled in) when the rules registry offers them."""
    try:
        from rules import params_for  # type: ignore[attr-defined]

        return {k: v.model_dump(mode="json") for k, v in params_for(rules_params or {}).items()}
    except Exception:  # noqa: BLE001 - registry missing or section invalid (already reported at config load)
        return dict(rules_params or {})


def _documentation_params(rules_params: dict[str, Any] | None) -> Any:
    """``rules.common``: what tells data files from dictionaries and notes, as the scoring stage's duplicate scan
    uses it (so the reports list the same duplicate groups the indicator discounted)."""
    from rules import common_params

    return common_params(rules_params)


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


def _portal_title(portal: Portal, override: str | None) -> str:
    return override or portal.title or portal.url


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


def _cells_for(data: RunData, ds_id: int, infos: list[CharacteristicInfo]) -> list[StatusCell]:
    cells = data.cells.get(ds_id, {})
    return [
        StatusCell(i.id, i.title, i.short, cells.get(i.id, ("not_applicable", None))[0], cells.get(i.id, (None, None))[1])
        for i in infos
    ]


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
    context: PortalContext | None = None,
) -> PortalReport:
    """The portal report; ``context`` (:func:`build_portal_context`) lends its whole-run scans when given."""
    infos = characteristic_infos(rules_params, legal_basis)
    with store.session() as s:
        run = get_run(s, run_id)
        year = run_year(run)
        portal = run.portal
        data = load_run_data(s, run_id, weights)
        orgs = org_rows(s, run_id, data)
        summary = run_summary(s, run, data, orgs)

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
        earlier = earlier_years(s, run, year, weights, trend_years)
        if earlier and earlier[-1].year == year - 1:
            change = Change(previous=earlier[-1].summary, sentences=_change_sentences(earlier[-1].summary, summary))
            previous_positions = {o.name: o.position for o in earlier[-1].orgs}
        trend: list[RunSummary] = [y.summary for y in earlier]
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
            agency_suites=agency_summary(suite_results(s, run_id, dictionary=False), orgs),
            legal_basis=legal_basis,
            doc=document_info(run, year, doc_settings or DocSettings(unit=evaluating_unit)),
            duplicates=_duplicates(store, run_id, rules_params, context),
            personal_data_alerts=len(personal_data_alerts(store, run_id)),
            previous_positions=previous_positions,
            glossary=glossary(infos, outcomes=[o for o, _n in outcomes]),
        )


def build_portal_context(store: Store, run_id: int, *, weights: dict[str, float] | None = None,
                         rules_params: dict[str, Any] | None = None) -> PortalContext:
    """Ranking, averages, earlier years and (given ``rules_params``) the duplicate groups of the run, computed once
    for every organization report — the parallel workers receive it filled in."""
    context = portal_context(store, run_id, weights=weights)
    if rules_params is not None:
        _duplicates(store, run_id, rules_params, context)
    return context


def _duplicates(store: Store, run_id: int, rules_params: dict[str, Any] | None,
                context: PortalContext | None) -> list[DuplicateGroup]:
    """Duplicate groups of the whole run: scanned once per run through the shared context when there is one."""
    params = _documentation_params(rules_params)
    return context.duplicates(store, run_id, params) if context is not None else find_duplicates(store, run_id, params)


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
    ctx = context if context is not None else portal_context(store, run_id, weights=weights)
    row = next((o for o in ctx.orgs if o.name == org_name), None)
    if row is None:
        raise ConfigError(
            f"La organización {org_name!r} no existe en la corrida {run_id}.",
            hint="Use el nombre CKAN (slug) de la organización, p. ej. secretaria-de-finanzas.",
        )
    with store.session() as s:
        run = get_run(s, run_id)
        year = run_year(run)
        portal = run.portal
        data_org = load_run_data(s, run_id, weights, org=org_name)

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
                        resource_info=find_resource(resources_of.get(ds.id, []), f.get("resource"),
                                                    f.get("resource_id")),
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

        suite_rows = [r for _org, r in suite_results(s, run_id, org=org_name)]

        doc = document_info(run, year, doc_settings or DocSettings(unit=evaluating_unit))
        commitments = [
            Commitment(c.dataset_key, c.due_date, c.matched_dataset, c.committed, c.published, c.conforme,
                       _commitment_state(c.committed, c.due_date, doc))
            for c in s.scalars(select(CommitmentRecord).where(
                CommitmentRecord.run_id == run_id, CommitmentRecord.organization_name == org_name)
                .order_by(CommitmentRecord.due_date, CommitmentRecord.dataset_key))
        ]

        actions, unattributed = actions_of(sections)
        prev_id = next((rid for y, rid, _n, _rows in ctx.history if y == year - 1), None)
        changes = _dataset_changes(load_run_data(s, prev_id, weights, org=org_name), data_org, infos) \
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
            agency_suites=[r for r in suite_rows if r.source == "agency"],
            dictionary_checks=[r for r in suite_rows if r.source == "dictionary"],
            portal_characteristic_partial_pct=ctx.portal_partial_pct,
            legal_basis=legal_basis,
            doc=doc,
            personal_data=personal_data_alerts(store, run_id, org_name),
            duplicates=[g for g in _duplicates(store, run_id, rules_params, ctx) if org_name in g.organizations],
            history=[(y, rows.get(org_name), ranked) for y, _rid, ranked, rows in ctx.history],
            changes=changes,
            glossary=glossary(infos, findings=[f for d in sections for f in d.findings],
                              outcomes=[r.reason or r.outcome or "" for d in sections for r in d.resource_list]),
        )


def _dataset_changes(prev: RunData, cur: RunData, infos: list[CharacteristicInfo]) -> list[str]:
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


def _commitment_state(committed: bool, due: date | None, doc: DocumentInfo) -> str:
    """Why a commitment does (not) count in the indicator, for the table (audit.indicator decided it)."""
    if committed:
        return "counted"
    if due is None or due > doc.cutoff:
        return "after_cutoff"
    if in_term(due, doc.cutoff, doc.review_day):
        return "in_term"
    return "repeated"


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
        get_run(s, run_id)
        names = set(s.scalars(select(OrganizationSnapshot.name).where(OrganizationSnapshot.run_id == run_id)))
        names |= set(s.scalars(select(OrganizationResult.organization_name).where(OrganizationResult.run_id == run_id)))
        names |= {n for n in s.scalars(select(DatasetSnapshot.organization_name).where(
            DatasetSnapshot.run_id == run_id).distinct()) if n}
    return sorted(names)

