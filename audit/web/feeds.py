"""Atom feeds of the change digests: ``/cambios.atom`` (the portal) and ``/organizaciones/<name>/cambios.atom``.

The same changes the alerts e-mail (audit.changes / audit.alerts), one entry per periodic audit that changed
something, so a liaison can subscribe without e-mail. Built with ElementTree (every portal string is escaped);
the entry content is the digest as an HTML fragment (``type="html"``). Finished runs never change, so each run's
changes are computed once per process (a small LRU).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response
from sqlalchemy import select

from audit.clock import assume_utc, utcnow
from audit.store.models import AuditRun, OrganizationSnapshot, Portal

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.store.db import Store

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
FEED_RUNS = 12  # the latest complete audits looked at (≈ three months of weekly audits)
NamePath = Annotated[str, Path(min_length=1, max_length=200)]

_cache: OrderedDict[tuple[int, str], Any] = OrderedDict()
_cache_lock = threading.Lock()


def _changes(store: Store, cfg: AuditConfig, run_id: int) -> Any:
    from audit.changes import compute_changes

    key = (run_id, cfg.digest())
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute_changes(store, cfg, run_id)
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > 4 * FEED_RUNS:
            _cache.popitem(last=False)
    return value


def _recent_runs(store: Store, cfg: AuditConfig) -> list[tuple[int, datetime]]:
    """(run id, finished) of the latest complete audits of the configured portal (else the latest audited one)."""
    from audit.changes import AUDIT_KINDS

    with store.session() as s:
        portal_id = s.scalar(select(Portal.id).where(Portal.url == cfg.portal_url)) if cfg.portal_url else None
        q = select(AuditRun.id, AuditRun.finished_at, AuditRun.started_at, AuditRun.portal_id).where(
            AuditRun.status == "complete", AuditRun.kind.in_(AUDIT_KINDS)).order_by(AuditRun.id.desc())
        if portal_id is None:
            latest = s.execute(q.limit(1)).first()
            if latest is None:
                return []
            portal_id = latest.portal_id
        rows = s.execute(q.where(AuditRun.portal_id == portal_id).limit(FEED_RUNS)).all()
    return [(r.id, assume_utc(r.finished_at or r.started_at)) for r in rows]


def _stamp(value: datetime) -> str:
    return assume_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(request: Request, cfg: AuditConfig) -> str:
    """Absolute links of the feed: the configured public URL, else the address the dashboard listens on — never
    the request's Host header, which any client can set (a feed is cached and read by others)."""
    from audit.alerts import dashboard_base

    return dashboard_base(cfg) or f"http://{cfg.web.host}:{cfg.web.port}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def build_feed(*, feed_id: str, title: str, self_url: str, alternate: str, author: str,
               entries: list[dict[str, Any]], updated: datetime | None) -> bytes:
    """A valid Atom 1.0 document (RFC 4287): entries are dicts with id, title, updated, link, summary, html."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "es-MX"})
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(updated or utcnow()))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=alternate)
    _sub(_sub(feed, "author"), "name", author)
    _sub(feed, "generator", "Auditor de Datos Abiertos")
    for e in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", e["id"])
        _sub(entry, "title", e["title"])
        _sub(entry, "updated", _stamp(e["updated"]))
        _sub(entry, "link", rel="alternate", type="text/html", href=e["link"])
        _sub(entry, "summary", e["summary"], type="text")
        _sub(entry, "content", e["html"], type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _tag(base: str, when: datetime, path: str) -> str:
    """A tag: URI (RFC 4151): stable even if the dashboard moves to another scheme or port."""
    host = urlsplit(base).hostname or "localhost"
    return f"tag:{host},{when.date().isoformat()}:{path}"


def _feed(request: Request, org: str | None) -> Response:
    from audit.alerts import digest_fragment, org_digest, portal_digest

    st = request.app.state.web
    cfg, store = st.cfg, st.store
    base = _base(request, cfg)
    runs = _recent_runs(store, cfg)
    entries: list[dict[str, Any]] = []
    title = cfg.portal_title or "el portal"
    for run_id, finished in runs:
        changes = _changes(store, cfg, run_id)
        if org is None:
            title = changes.portal_title
            if not changes.count:
                continue
            digest, link = portal_digest(changes, cfg), f"{base}/corridas/{run_id}"
        else:
            mine = changes.organizations.get(org)
            if mine is None or not mine.count:
                continue
            digest, link = org_digest(mine, changes, cfg), f"{base}/organizaciones/{org}?run={run_id}"
        entries.append({"id": _tag(base, finished, f"cambios/{org or 'portal'}/corrida-{run_id}"),
                        "title": digest.subject, "updated": finished, "link": link, "summary": digest.intro,
                        "html": digest_fragment(digest)})
    if org is not None:
        org_title = _org_title(store, org, [r for r, _ in runs])
        if org_title is None:
            raise HTTPException(404, f"No existe la organización «{org}» en las auditorías del portal.")
        feed_title, path = f"Cambios en los datos abiertos de {org_title}", f"/organizaciones/{org}"
    else:
        feed_title, path = f"Cambios en los datos abiertos de {title}", ""
    first = runs[-1][1] if runs else utcnow()
    body = build_feed(
        feed_id=_tag(base, first, f"cambios/{org or 'portal'}"), title=feed_title,
        self_url=f"{base}{path}/cambios.atom", alternate=f"{base}{path or '/'}",
        author=cfg.reports.evaluator.unit, entries=entries, updated=entries[0]["updated"] if entries else None)
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


def _org_title(store: Store, org: str, runs: list[int]) -> str | None:
    if not runs:
        return None
    with store.session() as s:
        row = s.execute(select(OrganizationSnapshot.title, OrganizationSnapshot.name).where(
            OrganizationSnapshot.run_id.in_(runs), OrganizationSnapshot.name == org)
            .order_by(OrganizationSnapshot.run_id.desc()).limit(1)).first()
    return None if row is None else (row.title or row.name)


@router.get("/cambios.atom")
def portal_feed(request: Request) -> Response:
    """Canal Atom con los cambios del portal después de cada auditoría periódica."""
    return _feed(request, None)


@router.get("/organizaciones/{name}/cambios.atom")
def organization_feed(request: Request, name: NamePath) -> Response:
    """Canal Atom con los cambios de una organización después de cada auditoría periódica."""
    return _feed(request, name)
