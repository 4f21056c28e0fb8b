"""Check one dataset now, before or after publishing it (``run_audit.py check <name or URL>``).

The dataset is read from the configured portal (``package_show``), its resources are probed, its tabular files
validated and the ten rules evaluated — the same stage code as an audit — in a **throw-away SQLite database**
in a temporary folder, deleted afterwards (without the evidence archive). Nothing is written to the audit database: no run is created, the
year's results, the indicator and the history the rules look back at stay untouched. Consequences: the history
rules see no earlier audits (*permanentes* does not apply) and manual reviews are not applied — the check tells a
publisher what the rules see in the dataset today.

Only datasets of the configured portal are checked: a URL of another host (or outside the portal's base path) is
refused before any request.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

import rules
from audit.errors import ConfigError, InputFileError, PortalResponseError

if TYPE_CHECKING:
    from audit.config import AuditConfig

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
#: the dataset page (with CKAN's optional locale prefix), a resource page under it, or the API's package_show
_PAGE = re.compile(r"^(?:/[a-z]{2}(?:[_-][A-Za-z]{2})?)?/dataset/(?:edit/)?(?P<name>[^/?#]+)")
_API = re.compile(r"^/api(?:/\d+)?/action/package_show/?$")
STATUS_ES = {"pass": "Cumple", "partial": "Cumple parcialmente", "fail": "No cumple", "not_applicable": "No aplica"}


def _port(parts: Any) -> int | None:
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def dataset_ref(portal_url: str, target: str) -> str:
    """The dataset name (or id) ``target`` designates on the portal; InputFileError when it is not one of its
    datasets (another host, another path, not a dataset URL, not a valid name)."""
    text = target.strip()
    if "://" not in text and "/" not in text:
        if _NAME.match(text):
            return text
        raise InputFileError(f"«{text}» no es un nombre de conjunto de datos CKAN ni una URL del portal.",
                             hint="Use el nombre que aparece en la dirección del conjunto (…/dataset/<nombre>) "
                                  "o pegue esa dirección completa.")
    url = urlsplit(text if "://" in text else f"//{text.lstrip('/')}")
    portal = urlsplit(portal_url)
    same_host = (url.hostname or "").lower() == (portal.hostname or "").lower() and (
        url.port is None or _port(url) == _port(portal))
    base = portal.path.rstrip("/")
    if not same_host or not (url.path == base or url.path.startswith(base + "/")):
        raise InputFileError(
            f"La dirección {text} no pertenece al portal configurado ({portal_url}); sólo se revisan sus conjuntos.",
            hint="Revise portal_url en config.yaml (o --portal) o pegue la dirección del conjunto en ese portal.")
    rest = url.path[len(base):]
    m = _PAGE.match(rest)
    name = unquote(m.group("name")) if m else None
    if name is None and _API.match(rest):
        name = (parse_qs(url.query).get("id") or [""])[0]
    if not name or not _NAME.match(name):
        raise InputFileError(f"La dirección {text} no es la de un conjunto de datos del portal.",
                             hint=f"Use una dirección como {base or portal_url}/dataset/<nombre>.")
    return name


@dataclass
class CharacteristicCheck:
    id: str
    title: str
    status: str
    score: float
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status_es(self) -> str:
        return STATUS_ES.get(self.status, self.status)


@dataclass
class CheckResult:
    portal_url: str
    dataset: str
    title: str
    organization: str
    url: str
    checked_at: datetime
    score: float | None
    conforme: bool
    characteristics: list[CharacteristicCheck]
    resources: int
    counts: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "portal": self.portal_url, "dataset": self.dataset, "title": self.title,
            "organization": self.organization, "url": self.url, "checked_at": self.checked_at.isoformat(),
            "score": self.score, "conforme": self.conforme, "resources": self.resources, "stored": False,
            "characteristics": [{"id": c.id, "title": c.title, "status": c.status, "status_es": c.status_es,
                                 "score": c.score, "findings": c.findings} for c in self.characteristics],
        }


def _stage_es() -> dict[str, str]:
    return {"probe": "Sondeando los recursos", "content": "Validando el contenido",
            "score": f"Evaluando las {rules.count_es()} características"}


def check_dataset(cfg: AuditConfig, target: str, *, progress: Callable[[str], None] | None = None) -> CheckResult:
    """Crawl, probe, validate and score one dataset of ``cfg.portal_url`` now (see module docstring).
    ``progress(text)`` is told each step in Spanish (the dashboard shows it)."""
    from audit.ckan import CKANClient
    from audit.clock import utcnow
    from audit.crawl import insert_datasets
    from audit.pipeline import run_stage
    from audit.runs import create_run, mark_stage
    from audit.scoring import dataset_score, is_conforme
    from audit.store import open_store
    from audit.store.models import (
        AuditRun,
        DatasetSnapshot,
        LicenseSnapshot,
        OrganizationSnapshot,
        RuleResultRecord,
    )
    from rules import RULES

    if not cfg.portal_url:
        raise ConfigError("Falta la URL del portal.", hint="Use --portal URL o defina portal_url en config.yaml.")
    portal_url = cfg.portal_url.rstrip("/")
    name = dataset_ref(portal_url, target)
    say = progress or (lambda _text: None)
    say("Leyendo el conjunto en el portal")
    with CKANClient(portal_url, cfg.http, token=cfg.ckan_api_token) as client:
        info = client.identify()
        try:
            pkg = client.call("package_show", id=name, include_tracking=True)
        except PortalResponseError as exc:
            if exc.context.get("not_found"):
                raise InputFileError(f"No existe el conjunto «{name}» en {portal_url}.",
                                     hint="Revise el nombre (…/dataset/<nombre>); un conjunto privado requiere "
                                          "CKAN_API_TOKEN.") from exc
            raise
        try:
            licenses = client.call("license_list") or []
        except PortalResponseError:
            licenses = []  # the rules fall back to their own licence vocabulary
    if not isinstance(pkg, dict) or not pkg.get("name"):
        raise PortalResponseError(f"package_show de «{name}» no devolvió un conjunto de datos.", portal=portal_url)

    # the same stages as an audit, on a throw-away database: the audit database is never opened
    # (and no evidence archive: its pruning would judge the real archive by this throw-away database)
    check_cfg = cfg.model_copy(update={"content": cfg.content.model_copy(update={"workers": 1}),
                                       "archive": cfg.archive.model_copy(update={"enabled": False})})
    with tempfile.TemporaryDirectory(prefix="revision-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'revision.db'}")
        try:
            portal_id = store.get_or_create_portal(portal_url, cfg.portal_title or info.get("site_title"),
                                                   info.get("ckan_version"))
            run_id = create_run(store, portal_id, cfg, kind="check")
            org = pkg.get("organization") if isinstance(pkg.get("organization"), dict) else None
            with store.session() as s:
                insert_datasets(s, run_id, [pkg])
                if org and org.get("name"):
                    s.add(OrganizationSnapshot(run_id=run_id, ckan_id=org.get("id"), name=org["name"],
                                               title=org.get("title"), raw=org))
                for lic in {str(x.get("id")): x for x in licenses if isinstance(x, dict) and x.get("id")}.values():
                    s.add(LicenseSnapshot(run_id=run_id, license_id=str(lic["id"]), title=lic.get("title"),
                                          url=lic.get("url"), raw=lic))
            mark_stage(store, run_id, "crawl", done=True)
            counts: dict[str, Any] = {}
            for stage in ("probe", "content", "score"):
                say(_stage_es()[stage])
                counts.update(run_stage(stage, store, run_id, check_cfg))
                mark_stage(store, run_id, stage, done=True)
            titles = {r.id: r.title_es for r in RULES}
            order = {r.id: i for i, r in enumerate(RULES)}
            with store.session() as s:
                started = s.get(AuditRun, run_id).started_at  # type: ignore[union-attr]
                snap = s.scalars(select(DatasetSnapshot).where(DatasetSnapshot.run_id == run_id)).one()
                rows = s.scalars(select(RuleResultRecord).where(RuleResultRecord.run_id == run_id)).all()
                chars = sorted((CharacteristicCheck(r.characteristic, titles.get(r.characteristic, r.characteristic),
                                                    r.status, float(r.score), list(r.findings or []))
                                for r in rows), key=lambda c: order.get(c.id, 99))
                results = {c.id: (c.status, c.score) for c in chars}
                return CheckResult(
                    portal_url=portal_url, dataset=snap.name, title=snap.title or snap.name,
                    organization=(org or {}).get("title") or snap.organization_name or "",
                    url=f"{portal_url}/dataset/{snap.name}", checked_at=started or utcnow(),
                    score=dataset_score(results, cfg.scoring.weights), conforme=is_conforme(results),
                    characteristics=chars, resources=snap.num_resources, counts=counts)
        finally:
            store.close()


def print_check(result: CheckResult, console: Any) -> None:
    """The ten statuses as a Spanish rich table, with each finding and what to do."""
    from rich.table import Table

    score = "—" if result.score is None else f"{result.score * 100:.1f} de 100"
    console.print(f"[bold]{result.title}[/] ({result.dataset}) — {result.organization}", highlight=False)
    console.print(f"{result.url}\n{result.resources} recursos · calificación {score} · "
                  f"{'[green]conforme[/]' if result.conforme else '[red]no conforme[/]'} "
                  "(revisión inmediata; no se guarda en la evaluación)", highlight=False)
    table = Table(show_lines=True, title=f"Las {rules.count_es()} características")
    table.add_column("Característica", style="bold")
    table.add_column("Resultado")
    table.add_column("Hallazgos y qué hacer", ratio=1)
    colour = {"pass": "green", "partial": "yellow", "fail": "red", "not_applicable": "dim"}
    for c in result.characteristics:
        lines = []
        for f in c.findings:
            where = f" [{f['resource']}]" if f.get("resource") else ""
            lines.append(f"• {f.get('message_es', '')}{where}")
            if f.get("remediation_es"):
                lines.append(f"  → {f['remediation_es']}")
        table.add_row(c.title, f"[{colour.get(c.status, 'white')}]{c.status_es}[/]", "\n".join(lines) or "—")
    console.print(table)
