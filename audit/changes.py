"""What changed for each organization between a complete audit and the previous one (alerts, Atom feeds).

Per organization, from what the store already holds:

* **new failures** — a characteristic of a dataset that now fails or passes partially and before passed (or the
  dataset is new), with the rule's findings and remediations. A rule that did not apply before (*permanentes*
  before there is history) is not a change; a dataset removed from the portal since the previous audit is
  (*permanentes*). A dataset with a link that has failed fewer than
  ``alerts.consecutive_failures`` audits in a row is held back: a link that failed once is not news
  (ckanext-deadoralive's «3 failures over 36 h»); it is reported as a broken resource when the streak reaches
  that number, and its recovery before then is not reported as a fix;
* **broken resources** — resources whose probe failed in exactly the last N complete audits (reported once, when
  the streak reaches N);
* **overdue soon** — datasets that pass *oportunos* today with a declared periodic frequency longer than
  ``alerts.overdue_warning_days`` and will stop passing (last real update + ``pass_factor`` × period, the rule's
  own threshold) within that many days; a reminder repeated by every audit inside the window (a daily or weekly
  dataset would always be "about to be due": its lateness is reported as a new failure instead);
* **commitments due soon** — inventory rows of the organization due within ``alerts.commitment_warning_days`` and
  not published yet (also a reminder);
* **fixed** — characteristics that failed (or passed partially) before and pass now.

The first complete audit of a portal is the baseline: it has no previous audit and yields no changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from audit.clock import assume_utc, local_day
from audit.demand import Usage, most_used_failing, priority, run_demand
from audit.evidence import REACHABLE_OUTCOMES
from audit.indicator import cutoff_date
from audit.privacy import PersonalDataAlert, personal_data_alerts
from audit.store.models import (
    AuditRun,
    CommitmentRecord,
    DatasetSnapshot,
    OrganizationSnapshot,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
)
from audit.textnorm import match_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from audit.config import AuditConfig
    from audit.store.db import Store

FAILING = ("fail", "partial")
#: run kinds that are evaluations of the whole portal (a future one-dataset "check" kind never counts)
AUDIT_KINDS = ("manual", "periodic", "annual", "demo")


@dataclass(frozen=True, slots=True)
class NewFailure:
    dataset: str
    title: str
    characteristic: str
    status: str  # fail | partial
    findings: tuple[tuple[str, str], ...]  # (message, remediation)
    priority: float = 0.0
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Fixed:
    dataset: str
    title: str
    characteristic: str


@dataclass(frozen=True, slots=True)
class BrokenResource:
    dataset: str
    title: str
    resource: str
    url: str
    outcome: str
    runs: int  # consecutive failed audits
    message: str = ""
    remediation: str = ""
    priority: float = 0.0
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class OverdueSoon:
    dataset: str
    title: str
    frequency: str
    last_update: date
    deadline: date
    priority: float = 0.0
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class CommitmentSoon:
    dataset: str  # as written in the inventory
    due_date: date
    matched_dataset: str | None


@dataclass
class OrgChanges:
    organization: str
    title: str
    new_failures: list[NewFailure] = field(default_factory=list)
    broken: list[BrokenResource] = field(default_factory=list)
    overdue: list[OverdueSoon] = field(default_factory=list)
    commitments: list[CommitmentSoon] = field(default_factory=list)
    fixed: list[Fixed] = field(default_factory=list)
    #: likely personal data found in this audit and not in the previous one (masked examples only)
    personal_data: list[PersonalDataAlert] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (len(self.new_failures) + len(self.broken) + len(self.overdue) + len(self.commitments)
                + len(self.fixed) + len(self.personal_data))


@dataclass
class PortalChanges:
    run_id: int
    previous_run_id: int | None
    portal_url: str
    portal_title: str
    audited_at: datetime  # the run's start (aware)
    as_of: date  # reference day for the look-ahead windows
    organizations: dict[str, OrgChanges] = field(default_factory=dict)
    demand_available: bool = False
    consecutive_failures: int = 3
    #: the most-used datasets failing at least one characteristic now (only when the portal reports usage)
    most_used_failing: list[tuple[str, str, str, Usage, int]] = field(default_factory=list)  # name, title, org, usage, failing

    @property
    def baseline(self) -> bool:
        return self.previous_run_id is None

    @property
    def changed(self) -> list[OrgChanges]:
        """Organizations with at least one change, by title."""
        return sorted((o for o in self.organizations.values() if o.count), key=lambda o: (o.title.casefold(),
                                                                                            o.organization))

    @property
    def count(self) -> int:
        return sum(o.count for o in self.organizations.values())


def previous_complete_run(session: Session, run: AuditRun) -> int | None:
    return session.scalar(select(AuditRun.id).where(
        AuditRun.portal_id == run.portal_id, AuditRun.id < run.id, AuditRun.status == "complete",
        AuditRun.kind.in_(AUDIT_KINDS)).order_by(AuditRun.id.desc()).limit(1))


def _recent_complete_runs(session: Session, run: AuditRun, n: int) -> list[int]:
    """This run and the complete audits before it, newest first (at most n)."""
    return list(session.scalars(select(AuditRun.id).where(
        AuditRun.portal_id == run.portal_id, AuditRun.id <= run.id, AuditRun.status == "complete",
        AuditRun.kind.in_(AUDIT_KINDS)).order_by(AuditRun.id.desc()).limit(n)))


def _results(session: Session, run_id: int) -> list[Any]:
    return list(session.execute(
        select(DatasetSnapshot.name, DatasetSnapshot.title, DatasetSnapshot.organization_name,
               RuleResultRecord.characteristic, RuleResultRecord.status, RuleResultRecord.findings,
               RuleResultRecord.evidence, DatasetSnapshot.presence)
        .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
        .where(RuleResultRecord.run_id == run_id)).all())


def _failing_resources(session: Session, run_id: int) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(dataset, resource key) → (resource label, url, outcome) for resources whose probe failed in the run."""
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    for ds, rid, name, url, outcome in session.execute(
            select(DatasetSnapshot.name, ResourceSnapshot.ckan_id, ResourceSnapshot.name, ResourceSnapshot.url,
                   Probe.outcome)
            .join(ResourceSnapshot, ResourceSnapshot.id == Probe.resource_snapshot_id)
            .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
            .where(Probe.run_id == run_id, Probe.outcome.not_in([str(o) for o in REACHABLE_OUTCOMES]))):
        out[(ds, rid or url or "")] = ((name or url or "").strip(), url or "", outcome)
    return out


def compute_changes(store: Store, cfg: AuditConfig, run_id: int, *, as_of: date | None = None) -> PortalChanges:
    """The changes of ``run_id`` (a complete audit) against the portal's previous complete audit."""
    import rules as rules_pkg

    alerts = cfg.alerts
    n_fail = alerts.consecutive_failures
    weights = cfg.scoring.weights
    oportunos = rules_pkg.params_for(cfg.rules.model_dump())["oportunos"]
    pass_factor = float(getattr(oportunos, "pass_factor", 1.25))
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is None:
            raise ValueError(f"no run {run_id}")
        audited_at = assume_utc(run.started_at)
        day = as_of or local_day(audited_at, cfg.timezone)
        out = PortalChanges(run_id=run_id, previous_run_id=previous_complete_run(s, run),
                            portal_url=run.portal.url, portal_title=cfg.portal_title or run.portal.title or run.portal.url,
                            audited_at=audited_at, as_of=day, consecutive_failures=n_fail)
        if out.previous_run_id is None:
            return out
        titles = dict(s.execute(select(OrganizationSnapshot.name, OrganizationSnapshot.title)
                                .where(OrganizationSnapshot.run_id == run_id)).all())
        current = _results(s, run_id)
        earlier = s.execute(  # only what the comparison needs (no findings or evidence documents)
            select(DatasetSnapshot.name, DatasetSnapshot.presence, RuleResultRecord.characteristic,
                   RuleResultRecord.status)
            .join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
            .where(RuleResultRecord.run_id == out.previous_run_id)).all()
        before = {(r.name, r.characteristic): r.status for r in earlier}
        listed_before = {r.name for r in earlier if r.presence == "listed"}
        runs = _recent_complete_runs(s, run, n_fail + 1)
        failing = [_failing_resources(s, r) for r in runs]
        cutoff = cutoff_date(run.year or day.year, cfg.indicator.cutoff_month_day)
        commitments = s.execute(select(CommitmentRecord).where(
            # "published" is only judged for rows due by the year's cut-off (in term or already due); a row due
            # after it counts as not published until the next year, so there only a missing dataset is news
            CommitmentRecord.run_id == run_id, CommitmentRecord.published.is_(False),
            or_(CommitmentRecord.due_date <= cutoff, CommitmentRecord.matched_dataset.is_(None)),
            CommitmentRecord.organization_name.is_not(None),
            CommitmentRecord.due_date >= day,
            CommitmentRecord.due_date <= day + timedelta(days=alerts.commitment_warning_days))).scalars().all()
    demand = run_demand(store, run_id)
    out.demand_available = bool(demand)

    def org(name: str | None) -> OrgChanges:
        key = name or ""
        if key not in out.organizations:
            out.organizations[key] = OrgChanges(key, titles.get(key) or key or "(sin organización)")
        return out.organizations[key]

    def streaks_at(i: int) -> dict[tuple[str, str], int]:
        """How many complete audits in a row (from runs[i] backwards) each resource failing in runs[i] failed."""
        out_: dict[tuple[str, str], int] = {}
        for key in failing[i] if i < len(failing) else {}:
            streak = 0
            for earlier in failing[i:]:
                if key not in earlier:
                    break
                streak += 1
            out_[key] = streak
        return out_

    streaks = streaks_at(0)
    # datasets with a link that has failed fewer than N audits in a row: what that changed is not news yet, and
    # what it had changed in the previous audit was never announced, so its recovery is not news either
    young_now = {ds for (ds, _r), k in streaks.items() if k < n_fail}
    young_before = {ds for (ds, _r), k in streaks_at(1).items() if k < n_fail}
    previous_names = {name for name, _char in before}

    accesibles_findings: dict[str, list[dict[str, Any]]] = {}
    for name, title, org_name, char, status, findings, evidence, presence in current:
        if char == "accesibles":
            accesibles_findings[name] = list(findings or [])
        prev = before.get((name, char))
        usage = demand.get(name)
        label = title or name
        # "newly fails": passed before, or the dataset is new; a rule that did not apply before (e.g. permanentes
        # before it had history) is not a change the agency made
        gone = presence == "retired" and name in listed_before  # removed from the portal since the last audit
        if status in FAILING and (prev == "pass" or name not in previous_names or gone) and name not in young_now:
            pairs = tuple(dict.fromkeys((str(f.get("message_es") or ""), str(f.get("remediation_es") or ""))
                                        for f in findings or [] if f.get("message_es")))
            impact = float(weights.get(char, 1.0)) * (1.0 if status == "fail" else 0.5)
            org(org_name).new_failures.append(NewFailure(name, label, char, status, pairs,
                                                         priority(impact, usage), usage))
        elif status == "pass" and prev in FAILING and name not in young_before:
            org(org_name).fixed.append(Fixed(name, label, char))
        if char == "oportunos" and status == "pass":
            soon = _overdue_soon(evidence or {}, pass_factor, day, alerts.overdue_warning_days, cfg.timezone)
            if soon is not None:
                freq, last, deadline = soon
                impact = float(weights.get(char, 1.0)) * 0.5
                org(org_name).overdue.append(OverdueSoon(name, label, freq, last, deadline,
                                                         priority(impact, usage), usage))

    ds_info = {name: (title or name, org_name) for name, title, org_name, *_ in current}
    for (ds, _rkey), (res_label, url, outcome) in sorted(failing[0].items() if failing else []):
        if streaks.get((ds, _rkey)) != n_fail or ds not in ds_info:
            continue
        title, org_name = ds_info[ds]
        message, remediation = _resource_finding(accesibles_findings.get(ds, []), res_label, url)
        usage = demand.get(ds)
        org(org_name).broken.append(BrokenResource(
            ds, title, res_label, url, outcome, n_fail, message, remediation,
            priority(float(weights.get("accesibles", 1.0)), usage), usage))

    out.most_used_failing = most_used_failing(store, run_id, demand)

    seen_before = ({(a.dataset, a.resource, a.column, a.kind) for a in personal_data_alerts(store, out.previous_run_id)}
                   if out.previous_run_id is not None else set())
    for alert in personal_data_alerts(store, run_id):
        if (alert.dataset, alert.resource, alert.column, alert.kind) not in seen_before:
            org(alert.organization).personal_data.append(alert)

    listed: set[tuple[str | None, str]] = set()
    for c in commitments:
        key = (c.organization_name, c.matched_dataset or match_key(c.dataset_key))
        if key not in listed:  # a commitment written twice in the inventory is one reminder
            listed.add(key)
            org(c.organization_name).commitments.append(CommitmentSoon(c.dataset_key, c.due_date, c.matched_dataset))

    for o in out.organizations.values():
        o.new_failures.sort(key=lambda x: (-x.priority, x.title.casefold(), x.dataset, x.characteristic))
        o.broken.sort(key=lambda x: (-x.priority, x.title.casefold(), x.resource))
        o.overdue.sort(key=lambda x: (x.deadline, -x.priority, x.title.casefold()))
        o.commitments.sort(key=lambda x: (x.due_date, x.dataset.casefold()))
        o.fixed.sort(key=lambda x: (x.title.casefold(), x.dataset, x.characteristic))
    return out


def _overdue_soon(evidence: dict[str, Any], pass_factor: float, day: date, window: int,
                  timezone: str) -> tuple[str, date, date] | None:
    """(frequency as declared, last update, last whole day on which it still passes) when that day falls inside the
    window. The rule fails the dataset from the instant last update + ``pass_factor`` × period; the day given is the
    one before that instant's day, so that an update made at any hour of it is in time."""
    from rules.frequency import parse_frequency

    if evidence.get("frequency_kind") not in ("periodic", "continuous") or not evidence.get("last_update"):
        return None
    period = evidence.get("period_days")
    if not period:  # older evidence: parse the declared frequency again with the rules' own parser
        period = parse_frequency(evidence.get("frequency")).days
    if not period or float(period) <= window:
        return None
    try:
        last = assume_utc(datetime.fromisoformat(str(evidence["last_update"])))
    except ValueError:
        return None
    fails_from = (last + timedelta(days=pass_factor * float(period))).astimezone(ZoneInfo(timezone))
    deadline = fails_from.date() - timedelta(days=1)
    if day <= deadline <= day + timedelta(days=window):
        return str(evidence.get("frequency") or ""), last.astimezone(ZoneInfo(timezone)).date(), deadline
    return None


def _resource_finding(findings: list[dict[str, Any]], label: str, url: str) -> tuple[str, str]:
    for f in findings:
        if f.get("resource") and f["resource"] in (label, url):
            return str(f.get("message_es") or ""), str(f.get("remediation_es") or "")
    return "", "Restablezca la descarga del archivo o corrija la URL del recurso en el portal."
