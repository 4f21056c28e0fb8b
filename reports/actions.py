"""The prioritised action list of an organization report: every state below "pass" credited to its root causes.

A state is one (dataset, characteristic) below "pass"; it is credited only to the causes of its findings
(:func:`state_causes`) and weighs 1 in total, so the weights of all actions add up to the number of states.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

import rules
from reports.records import Action, ActionTarget, DatasetSection, FindingView
from reports.wording import plain_es


def decisive_codes(characteristic: str) -> frozenset[str]:
    """The rule's decisive codes (``Rule.decisive_codes``, read from the registry at call time): findings that decide
    the verdict by themselves. When a state below "pass" has one of them, the state's other findings are advice that
    cannot lift it (declaring or fixing the frequency does not make data that are years old timely: the stale-data
    finding's own remediation covers both), so they do not claim it."""
    rule = rules.RULES_BY_ID.get(characteristic)
    return rule.decisive_codes if rule is not None else frozenset()


def advisory_codes(characteristic: str) -> frozenset[str]:
    """The rule's advisory codes (``Rule.advisory_codes``, read from the registry at call time): recommendations that
    never decide a verdict, so they claim a state only when nothing else explains it."""
    rule = rules.RULES_BY_ID.get(characteristic)
    return rule.advisory_codes if rule is not None else frozenset()


def _remediation_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def state_causes(characteristic: str, findings: list[FindingView]) -> list[FindingView]:
    """The findings of one (dataset, characteristic) state below "pass" whose remediations would lift it.

    Only findings with a remediation count. A decisive finding (:func:`decisive_codes`) leaves out the others;
    advisory findings (:func:`advisory_codes`) count only when nothing else explains the state."""
    actionable = [f for f in findings if f.remediation.strip()]
    decisive = decisive_codes(characteristic)
    if any(f.code in decisive for f in actionable):
        return [f for f in actionable if f.code in decisive]
    advisory = advisory_codes(characteristic)
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


def actions_of(sections: list[DatasetSection]) -> tuple[list[Action], int]:
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
