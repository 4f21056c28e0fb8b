"""Publish the annual evaluation on the portal itself, as open data (``run_audit.py publish --year Y``).

One dataset per year, ``evaluacion-datos-abiertos-<Y>`` (``publish.dataset_name_template``), in the configured
organization, with ``scores.csv``, ``organizations.csv``, ``scores.json``, ``portal.pdf`` and the measurements as
linked data (``dqv.ttl``, ``dqv.jsonld``: W3C DQV, see ``audit.dqv``) as uploaded resources.
Idempotent: the dataset is created or patched, each resource is matched by name and only re-uploaded when its
SHA-256 (kept in the resource's ``hash`` field) changed. Needs an API token (``CKAN_API_TOKEN``); a missing or
rejected token is a clear error before/at the first write.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rules
from audit.ckan import CKANClient
from audit.errors import ConfigError, InputFileError, PortalResponseError
from audit.legal import LegalBasis

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.store.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedFile:
    name: str  # resource name on the portal (= file name)
    path: Path
    format: str
    description: str


def files_for_year(out_dir: Path, year: int) -> list[PublishedFile]:
    """The files published, from ``out_dir/<year>/`` (the output contract)."""
    base = Path(out_dir) / str(year)
    return [
        PublishedFile("scores.csv", base / "scores.csv", "CSV",
                      f"Resultado por conjunto de datos y característica ({year}): estado, puntaje y hallazgos."),
        PublishedFile("organizations.csv", base / "organizations.csv", "CSV",
                      f"Resultado por dependencia ({year}): conjuntos, cumplimiento por característica, avance."),
        PublishedFile("scores.json", base / "scores.json", "JSON",
                      f"Resultados completos de la evaluación {year} en JSON."),
        PublishedFile("portal.pdf", base / "reports" / "portal.pdf", "PDF",
                      f"Informe de la evaluación {year} del portal (PDF)."),
        PublishedFile("dqv.ttl", base / "dqv.ttl", "RDF",
                      f"Mediciones de la evaluación {year} como datos enlazados (W3C DQV, Turtle)."),
        PublishedFile("dqv.jsonld", base / "dqv.jsonld", "JSON-LD",
                      f"Mediciones de la evaluación {year} como datos enlazados (W3C DQV, JSON-LD)."),
    ]


class _Client(CKANClient):
    """CKANClient plus multipart uploads, with the same timeouts, retries and error mapping."""

    def upload(self, action: str, path: Path, **params: Any) -> Any:
        data = path.read_bytes()
        files = {"upload": (path.name, data)}
        original = self._ckan.call_action
        self._ckan.call_action = functools.partial(original, files=files)  # type: ignore[method-assign]
        try:
            return self.call(action, **{k: v for k, v in params.items() if v is not None})
        finally:
            self._ckan.call_action = original  # type: ignore[method-assign]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _notes(year: int, portal_url: str, snapshot: str, legal_basis: LegalBasis) -> str:
    return (
        f"Resultados de la evaluación anual {year} del cumplimiento de las {rules.count_es()} características de los datos "
        f"abiertos ({legal_basis.full_citation()}) en el portal "
        f"{portal_url}.{snapshot}\n\n"
        "Recursos: `scores.csv` (un renglón por conjunto y característica), `organizations.csv` (un renglón por "
        "dependencia), `scores.json` (todo en JSON), `portal.pdf` (informe) y `dqv.ttl` / `dqv.jsonld` (las "
        "mediciones como datos enlazados, vocabulario W3C DQV). Generado automáticamente por el "
        "Auditor de Datos Abiertos."
    )


def _snapshot_text(store: Store, portal_url: str, year: int) -> str:
    try:
        from audit.availability import annual_snapshot_run, find_portal_id
        from audit.store.models import AuditRun

        portal_id = find_portal_id(store, portal_url)
        run_id = annual_snapshot_run(store, portal_id, year) if portal_id is not None else None
        if run_id is None:
            return ""
        with store.session() as s:
            run = s.get(AuditRun, run_id)
            when = run.started_at.date().isoformat() if run is not None else "?"
        return f" Corte: revisión {run_id} del {when}."
    except Exception as exc:  # the description is a nicety; never fail the publication for it
        log.debug("no snapshot info for notes: %s", exc)
        return ""


def publish_year(store: Store, cfg: AuditConfig, *, year: int, out_dir: Path, portal_url: str, token: str | None) -> str:
    """Create or update the year's dataset with its files; returns the dataset's URL on the portal."""
    portal_url = portal_url.strip().rstrip("/")
    if not token:
        raise ConfigError(
            f"Falta el token de la API de CKAN para publicar en {portal_url}.",
            hint="Defina la variable de entorno CKAN_API_TOKEN con un token de un usuario con permiso de edición "
            "en la organización de publicación.",
        )
    files = files_for_year(Path(out_dir), year)
    missing = [str(f.path) for f in files if not f.path.is_file()]
    if missing:
        raise InputFileError(
            f"Faltan archivos de la evaluación {year}: {', '.join(missing)}",
            hint=f"Genere primero la evaluación (run_audit.py audit --year {year} --out {out_dir}) "
            "o indique la carpeta correcta con --out.",
        )
    pub = cfg.publish
    name = pub.dataset_name_template.format(year=year)
    http = cfg.http.model_copy(update={"read_timeout_s": max(cfg.http.read_timeout_s, pub.timeout_s)})
    package: dict[str, Any] = {
        "name": name,
        "title": pub.title_template.format(year=year),
        "notes": _notes(year, portal_url, _snapshot_text(store, portal_url, year), cfg.legal_basis),
        "license_id": pub.license_id,
        "tags": [{"name": t} for t in ("datos abiertos", "evaluación", "transparencia", str(year))],
        "extras": [{"key": "periodicidad", "value": "anual"}, {"key": "año evaluado", "value": str(year)}],
    }
    if pub.organization:
        package["owner_org"] = pub.organization
    client = _Client(portal_url, http, token=token)
    with client:
        existing = _find_package(client, name)
        try:
            if existing is None:
                try:
                    pkg = client.call("package_create", **package)
                    log.info("publish event=created dataset=%s", name)
                except PortalResponseError as exc:
                    if exc.context.get("status") != 409:  # 409: created meanwhile (or a lost reply): patch it
                        raise
                    pkg = client.call("package_patch", id=name, **package)
            else:
                pkg = client.call("package_patch", id=existing["id"], **package)
                log.info("publish event=updated dataset=%s", name)
            resources = {r.get("name"): r for r in pkg.get("resources") or []}
            for f in files:
                _publish_file(client, pkg["id"], f, resources.get(f.name))
        except PortalResponseError as exc:
            if exc.context.get("not_authorized"):
                raise PortalResponseError(
                    f"El portal {portal_url} rechazó el token de la API al publicar '{name}': {exc.message}",
                    hint="Verifique CKAN_API_TOKEN y que el usuario pueda editar en la organización "
                    f"{pub.organization or '(sin organización)'}.",
                    portal=portal_url, not_authorized=True,
                ) from exc
            if exc.context.get("status") == 409:
                raise PortalResponseError(
                    f"El portal {portal_url} rechazó los datos del conjunto '{name}' (error de validación): "
                    f"{exc.message}",
                    hint=f"Revise publish.organization ({pub.organization or 'sin organización'}): debe ser el "
                    "nombre de una organización existente en el portal.",
                    portal=portal_url, status=409,
                ) from exc
            raise
    url = f"{portal_url}/dataset/{name}"
    log.info("publish event=done dataset=%s url=%s", name, url)
    return url


def _find_package(client: CKANClient, name: str) -> dict[str, Any] | None:
    try:
        return client.call("package_show", id=name)
    except PortalResponseError as exc:
        if exc.context.get("not_found"):
            return None
        raise


def _publish_file(client: _Client, package_id: str, f: PublishedFile, existing: dict[str, Any] | None) -> None:
    digest = _sha256(f.path)
    meta = {"name": f.name, "format": f.format, "description": f.description, "hash": digest}
    if existing is not None and existing.get("hash") == digest:
        log.info("publish resource=%s event=unchanged", f.name)
        return
    if existing is None:
        client.upload("resource_create", f.path, package_id=package_id, **meta)
        log.info("publish resource=%s event=created bytes=%d", f.name, f.path.stat().st_size)
    else:
        client.upload("resource_update", f.path, id=existing["id"], package_id=package_id, **meta)
        log.info("publish resource=%s event=updated bytes=%d", f.name, f.path.stat().st_size)
