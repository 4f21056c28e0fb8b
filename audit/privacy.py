"""Personal-data alerts of a run, for the organization report, the dashboard (signed-in users) and the digests.

The content stage stores what :mod:`audit.content.personal` found in each file (masked examples only); this module
reads them back per dataset and resource. Alerts are for a person to decide: they never change a status unless
``rules.primarios.personal_data_status`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from audit.store.db import Store
from audit.store.models import ContentCheck, DatasetSnapshot, ResourceSnapshot
from audit.vocabulary import PERSONAL_DATA_KINDS_ES


@dataclass(frozen=True, slots=True)
class PersonalDataAlert:
    organization: str | None
    dataset: str
    dataset_title: str
    resource: str
    resource_url: str | None
    resource_id: str | None
    column: str
    kind: str
    count: int
    examples: tuple[str, ...]  # masked

    @property
    def kind_es(self) -> str:
        return PERSONAL_DATA_KINDS_ES.get(self.kind, self.kind)

    @property
    def message_es(self) -> str:
        shown = f" (p. ej. {', '.join(self.examples)})" if self.examples else ""
        values = "valor" if self.count == 1 else "valores"
        return (f"Posibles datos personales: la columna «{self.column}» de «{self.resource}» tiene "
                f"{self.count:,} {values} con forma de {self.kind_es}{shown}.")


def personal_data_alerts(store: Store, run_id: int, organization: str | None = None) -> list[PersonalDataAlert]:
    """Every alert of ``run_id`` (optionally one organization's), ordered by organization, dataset, resource."""
    query = (
        select(DatasetSnapshot.organization_name, DatasetSnapshot.name, DatasetSnapshot.title, ResourceSnapshot.name,
               ResourceSnapshot.position, ResourceSnapshot.url, ResourceSnapshot.ckan_id, ContentCheck.details)
        .join(ResourceSnapshot, ResourceSnapshot.id == ContentCheck.resource_snapshot_id)
        .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
        .where(ContentCheck.run_id == run_id)
        .order_by(DatasetSnapshot.organization_name, DatasetSnapshot.name, ResourceSnapshot.position)
    )
    if organization is not None:
        query = query.where(DatasetSnapshot.organization_name == organization)
    alerts: list[PersonalDataAlert] = []
    with store.session() as s:
        for org, name, title, res_name, position, url, ckan_id, details in s.execute(query):
            for hit in (details or {}).get("personal_data") or ():
                alerts.append(PersonalDataAlert(
                    organization=org, dataset=name, dataset_title=title or name,
                    resource=res_name or f"Recurso {position + 1}", resource_url=url, resource_id=ckan_id,
                    column=str(hit.get("column")), kind=str(hit.get("kind")), count=int(hit.get("count") or 0),
                    examples=tuple(str(e) for e in hit.get("examples") or ()),
                ))
    return alerts
