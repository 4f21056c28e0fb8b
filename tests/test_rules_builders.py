"""Hand-built datasets and evidence for the rule tests (no network). Imported by tests/test_rules_*.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from audit.evidence import (
    Availability,
    ContentEvidence,
    DatasetContext,
    HistoricResource,
    HistoryEntry,
    ProbeEvidence,
    ResourceEvidence,
)

AUDIT = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

LONG_NOTES = (
    "Registro mensual de los casos de dengue confirmados en el Estado de México, por municipio, sexo, grupo de "
    "edad y semana epidemiológica, con base en el sistema de vigilancia epidemiológica estatal."
)


def ago(days: float) -> str:
    """An ISO timestamp ``days`` before the audit date, as CKAN writes them (naive UTC)."""
    return (AUDIT - timedelta(days=days)).replace(tzinfo=None).isoformat()


def resource(name: str = "Casos de dengue 2025", fmt: str = "CSV", url: str | None = None, **kw: Any) -> dict:
    rid = kw.pop("id", None) or "r-" + name.lower().replace(" ", "-")
    res = {
        "id": rid,
        "name": name,
        "format": fmt,
        "url": url or f"https://datos.example.invalid/files/{rid}.{(fmt.strip().lstrip('.') or 'bin').lower()}",
        "description": f"Archivo {name}",
        "last_modified": ago(10),
        "created": ago(400),
    }
    res.update(kw)
    return res


def dictionary(fmt: str = "PDF") -> dict:
    return resource("Diccionario de datos", fmt, description="Descripción de cada campo")


def dataset(**kw: Any) -> dict:
    ds = {
        "id": "ds-dengue",
        "name": "casos-de-dengue",
        "title": "Casos de dengue en el Estado de México",
        "notes": LONG_NOTES,
        "state": "active",
        "private": False,
        "type": "dataset",
        "license_id": "cc-by-4.0",
        "license_title": "Creative Commons Attribution 4.0",
        "maintainer": "Dirección de Epidemiología",
        "maintainer_email": "epidemiologia@salud.edomex.gob.mx",
        "author": "Secretaría de Salud",
        "author_email": "",
        "metadata_created": ago(800),
        "metadata_modified": ago(5),
        "organization": {"id": "org-salud", "name": "secretaria-de-salud", "title": "Secretaría de Salud"},
        "groups": [{"name": "salud", "title": "Salud"}],
        "tags": [{"name": "dengue"}, {"name": "salud"}],
        "extras": [
            {"key": "frecuencia", "value": "Mensual"},
            {"key": "cobertura_temporal", "value": "2019-01/2026-05"},
            {"key": "cobertura_geografica", "value": "Estado de México, 125 municipios"},
        ],
    }
    ds.update(kw)
    return ds


def probe(outcome: str = "ok", sniffed: str | None = "csv", **kw: Any) -> ProbeEvidence:
    defaults: dict[str, Any] = {"status_code": 200 if outcome in ("ok", "landing_page", "empty") else None}
    defaults.update(kw)
    return ProbeEvidence(outcome=outcome, sniffed_type=sniffed, **defaults)


def failed(outcome: str, reason: str = "", status: int | None = None) -> ProbeEvidence:
    return ProbeEvidence(outcome=outcome, reason=reason, status_code=status, sniffed_type=None)


def content(**kw: Any) -> ContentEvidence:
    defaults: dict[str, Any] = {"parsed_ok": True, "rows": 500, "columns": 6, "has_header": True,
                                "disaggregation_keys": ("fecha", "cve_mun")}
    defaults.update(kw)
    return ContentEvidence(**defaults)


def ev(res: dict | None = None, p: ProbeEvidence | None | str = "default", c: ContentEvidence | None = None,
       availability: Availability | None = None) -> ResourceEvidence:
    res = res if res is not None else resource()
    pr = probe() if p == "default" else p
    return ResourceEvidence(resource=res, probe=pr, content=c, availability=availability)  # type: ignore[arg-type]


def ctx(ds: dict | None = None, resources: list[ResourceEvidence] | None = None, **kw: Any) -> DatasetContext:
    ds = ds if ds is not None else dataset()
    if resources is None:
        resources = [ev(), ev(dictionary(), probe(sniffed="pdf"))]
    ds = dict(ds)
    ds["resources"] = [r.resource for r in resources]
    ds["num_resources"] = len(resources)
    defaults: dict[str, Any] = {"organization": (ds.get("organization") or {}).get("name", ""), "audit_date": AUDIT}
    defaults.update(kw)
    return DatasetContext(dataset=ds, resources=tuple(resources), **defaults)


def hist(days_ago: float, resources: list[HistoricResource], run_id: int = 1) -> HistoryEntry:
    return HistoryEntry(run_id=run_id, run_started=AUDIT - timedelta(days=days_ago), metadata_modified=None,
                        resources=tuple(resources))


def hres(res: dict, sha: str | None = "h1", outcome: str | None = "ok", final_url: str | None = None
         ) -> HistoricResource:
    return HistoricResource(ckan_id=res.get("id"), name=res.get("name"), url=res.get("url"), sha256=sha,
                            outcome=outcome, final_url=final_url)
