"""The same data published by more than one organization.

Two datasets of different organizations are duplicates when one of their data files has the same content
(SHA-256 of the bytes, from the probe or the content check), or when their titles are near-identical (same words
once case, accents and punctuation are ignored, or a similarity ≥ ``TITLE_SIMILARITY``) and their tables have the
same columns. Near-identical titles alone are not enough: «Presupuesto 2025» of two agencies are different data.
Listed in the portal report and the dashboard; the progress indicator flags a commitment whose dataset shares its
file with another organization's committed dataset, so one file never counts twice unnoticed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from sqlalchemy import select

from audit.indicator import CommitmentOutcome
from audit.outcomes import Outcome
from audit.store.db import Store
from audit.store.models import ContentCheck, DatasetSnapshot, Probe, ResourceSnapshot
from audit.textnorm import match_key
from rules._common import RuleParams, is_documentation

TITLE_SIMILARITY = 0.9


@dataclass(frozen=True, slots=True)
class DatasetRef:
    organization: str
    name: str
    title: str


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    reason: str  # "same_file" | "same_title_and_columns"
    datasets: tuple[DatasetRef, ...]  # two or more, of at least two organizations
    evidence: str  # the shared hash or the shared columns

    @property
    def reason_es(self) -> str:
        return {"same_file": "publican el mismo archivo (mismo contenido, SHA-256)",
                "same_title_and_columns": "títulos casi idénticos y las mismas columnas"}[self.reason]

    @property
    def organizations(self) -> tuple[str, ...]:
        return tuple(sorted({d.organization for d in self.datasets}))


def _across_organizations(refs: set[DatasetRef]) -> bool:
    return len({r.organization for r in refs}) >= 2


#: what the prober saw that is not a data file (a shared error or landing page is not shared data)
_NOT_DATA = {"html", "text", "pdf", "doc", "docx", "png", "jpeg", "gif", "empty"}


def find_duplicates(store: Store, run_id: int, documentation: RuleParams | None = None) -> list[DuplicateGroup]:
    """Groups of datasets of different organizations that publish the same data in ``run_id``. Only data files
    count: documentation (data dictionaries, methodology notes — agencies share templates of those), pages and
    documents are left out, by the rules' own documentation test (``documentation``: the ``rules.common`` words,
    :func:`rules.common_params`; defaults when not given)."""
    if documentation is None:
        documentation = RuleParams()
    by_hash: dict[str, set[DatasetRef]] = defaultdict(set)
    columns_of: dict[DatasetRef, set[tuple[str, ...]]] = defaultdict(set)
    with store.session() as s:
        refs = {
            ds_id: DatasetRef(org or "", name, title or name)
            for ds_id, org, name, title in s.execute(
                select(DatasetSnapshot.id, DatasetSnapshot.organization_name, DatasetSnapshot.name,
                       DatasetSnapshot.title)
                .where(DatasetSnapshot.run_id == run_id, DatasetSnapshot.presence == "listed"))
        }
        data_resources = {
            rid for rid, name, raw in s.execute(
                select(ResourceSnapshot.id, ResourceSnapshot.name, ResourceSnapshot.raw)
                .where(ResourceSnapshot.run_id == run_id))
            if not is_documentation({**(raw if isinstance(raw, dict) else {}), "name": name}, documentation)
        }
        hashes = s.execute(
            select(ResourceSnapshot.id, ResourceSnapshot.dataset_snapshot_id, Probe.sha256, Probe.truncated,
                   Probe.sniffed_type)
            .join(Probe, Probe.resource_snapshot_id == ResourceSnapshot.id)
            .where(Probe.run_id == run_id, Probe.sha256.is_not(None), Probe.outcome == Outcome.OK.value)
        ).all()
        checks = s.execute(
            select(ResourceSnapshot.id, ResourceSnapshot.dataset_snapshot_id, ContentCheck.sha256,
                   ContentCheck.details)
            .join(ContentCheck, ContentCheck.resource_snapshot_id == ResourceSnapshot.id)
            .where(ContentCheck.run_id == run_id)
        ).all()
    for rid, ds_id, sha, truncated, sniffed in hashes:
        # a truncated read's hash is of the first bytes only
        if ds_id in refs and rid in data_resources and sha and not truncated and (sniffed or "") not in _NOT_DATA:
            by_hash[sha].add(refs[ds_id])
    for rid, ds_id, sha, details in checks:
        if ds_id not in refs or rid not in data_resources:
            continue
        details = details or {}
        if sha and not details.get("truncated") and not details.get("is_dictionary"):
            by_hash[sha].add(refs[ds_id])
        kinds = details.get("column_kinds") or {}
        if details.get("parsed_ok") and len(kinds) >= 2 and not details.get("is_dictionary"):
            columns_of[refs[ds_id]].add(tuple(sorted(match_key(c) for c in kinds)))

    groups: list[DuplicateGroup] = []
    seen: set[frozenset[DatasetRef]] = set()
    for sha, members in sorted(by_hash.items()):
        if _across_organizations(members) and frozenset(members) not in seen:
            seen.add(frozenset(members))
            groups.append(DuplicateGroup("same_file", tuple(sorted(members, key=lambda r: (r.organization, r.name))),
                                         sha))
    # near-identical titles, compared only within a block of the same column set (never all pairs)
    blocks: dict[tuple[str, ...], set[DatasetRef]] = defaultdict(set)
    for ref, signatures in columns_of.items():
        for signature in signatures:
            blocks[signature].add(ref)
    for signature, members in blocks.items():
        ordered = sorted(members, key=lambda r: (r.organization, r.name))
        for i, a in enumerate(ordered):
            similar = {a}
            for b in ordered[i + 1:]:
                if b.organization == a.organization:
                    continue
                ka, kb = match_key(a.title), match_key(b.title)
                if ka == kb or SequenceMatcher(None, ka, kb).ratio() >= TITLE_SIMILARITY:
                    similar.add(b)
            if _across_organizations(similar) and not any(similar <= s for s in seen):
                seen.add(frozenset(similar))
                groups.append(DuplicateGroup("same_title_and_columns",
                                             tuple(sorted(similar, key=lambda r: (r.organization, r.name))),
                                             ", ".join(signature)))
    return groups


def flag_shared_files(outcomes: list[CommitmentOutcome], groups: list[DuplicateGroup]) -> list[CommitmentOutcome]:
    """Commitments of different organizations met by datasets that publish the same file: each still counts (the
    evaluator decides), but is flagged so one file is never counted twice unnoticed."""
    files = [g for g in groups if g.reason == "same_file"]
    published = {(o.organization_name, o.matched_dataset): o for o in outcomes if o.published and o.matched_dataset}
    out = []
    for o in outcomes:
        key = (o.organization_name, o.matched_dataset)
        others = sorted({(d.organization, d.name) for g in files
                         if any((d.organization, d.name) == key for d in g.datasets)
                         for d in g.datasets
                         if d.organization != o.organization_name and (d.organization, d.name) in published})
        if o.published and others:
            shown = "; ".join(f"«{name}» de {org}" for org, name in others)
            note = (f"«{o.matched_dataset}» publica el mismo archivo que {shown}, comprometido por otra "
                    "organización: cuenta para ambas; verifique cuál es la fuente de origen")
            o = replace(o, issue=f"{o.issue}; {note}" if o.issue else note)
        out.append(o)
    return out
