"""DCAT record → the normalized dataset shape the rules read (a CKAN ``package_show`` dict).

A *record* is a DCAT-US 1.1 dataset object (``data.json``'s ``dataset[]`` item); RDF catalogues are first read
into the same shape (``audit.sources.dcat_rdf``), so there is one mapping. It follows what CKAN's DCAT harvester
(ckanext-dcat) makes of a DCAT dataset, so a catalogue audited through its ``data.json`` and through a CKAN that
harvested it gives the same evidence:

- ``publisher`` → ``organization`` (name = slug of the publisher's name); ``theme`` → ``groups``;
  ``keyword`` → ``tags``;
- ``distribution`` → ``resources`` (``url`` = ``downloadURL``, else ``accessURL``; ``format`` = ``format``, else
  ``mediaType``; ``issued``/``modified`` kept on the resource);
- ``license``/``rights`` → ``license_id``/``license_title``/``license_url`` (and the ``rights`` extra);
- ``contactPoint`` → ``maintainer``/``maintainer_email``; ``modified``, ``issued``, ``accrualPeriodicity``,
  ``temporal``, ``spatial``, ``conformsTo``, ``describedBy`` (the data dictionary) → ``extras`` under their DCAT
  names, where the rules' metadata look-up finds them;
- the dataset key (``id`` and ``name``) is the DCAT ``identifier``, else a stable slug of the title.
"""

from __future__ import annotations

import hashlib
from typing import Any

from audit import textnorm

#: DCAT-US keys copied to ``extras`` as they are (the rules look them up by name)
EXTRA_KEYS = ("identifier", "issued", "modified", "accrualPeriodicity", "temporal", "spatial", "conformsTo",
              "describedBy", "describedByType", "rights", "accessLevel", "language", "landingPage", "source")
KEY_MAX = 100  # DatasetSnapshot.ckan_id / OrganizationSnapshot.ckan_id length


def slugify(text: Any, limit: int = KEY_MAX) -> str:
    """ASCII, lower-case, hyphenated; a hash suffix keeps a truncated slug unique."""
    slug = textnorm.slug(str(text or ""))
    if len(slug) > limit:
        digest = hashlib.sha1(slug.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
        slug = slug[: limit - 9].rstrip("-") + "-" + digest
    return slug


def _text(value: Any) -> str | None:
    if isinstance(value, dict):  # {"name": …} / {"@value": …} / {"label": …}
        value = value.get("name") or value.get("@value") or value.get("label") or value.get("title")
    if isinstance(value, list):
        value = next((v for v in (_text(x) for x in value) if v), None)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _mail(value: Any) -> str | None:
    text = _text(value)
    return text[7:] if text and text.lower().startswith("mailto:") else text


def dataset_key(record: dict[str, Any]) -> str:
    """The dataset's key in every output: its ``identifier``, else a slug of its title made unique and stable by
    a hash of what identifies it best (its RDF URI or landing page, else the first distribution URL, else title +
    publisher)."""
    ident = _text(record.get("identifier"))
    if ident:
        return ident
    title = _text(record.get("title")) or "conjunto"
    dists = [d for d in _list(record.get("distribution")) if isinstance(d, dict)]
    anchor = _text(record.get("@id")) or _text(record.get("landingPage")) or next(
        (u for d in dists if (u := _text(d.get("downloadURL")) or _text(d.get("accessURL")))), None) or (
        title + "|" + (_text(record.get("publisher")) or ""))
    digest = hashlib.sha1(anchor.encode()).hexdigest()[:8]  # noqa: S324 - a name, not security
    return slugify(title, KEY_MAX - 9) + "-" + digest


def _short_id(key: str) -> str:
    if len(key) <= KEY_MAX:
        return key
    return key[: KEY_MAX - 9] + "-" + hashlib.sha1(key.encode()).hexdigest()[:8]  # noqa: S324


def organization(record: dict[str, Any]) -> dict[str, Any] | None:
    """The publisher as a CKAN organization dict (None if the record names none)."""
    pub = record.get("publisher")
    title = _text(pub)
    if not title:
        return None
    name = slugify(title)
    org: dict[str, Any] = {"id": name, "name": name, "title": title, "type": "organization",
                           "is_organization": True, "state": "active"}
    if isinstance(pub, dict):
        if pub.get("mbox"):
            org["email"] = _mail(pub.get("mbox"))
        if pub.get("@id") or pub.get("uri"):
            org["uri"] = pub.get("@id") or pub.get("uri")
        parent = pub.get("subOrganizationOf")
        if isinstance(parent, dict) and _text(parent):
            org["parent"] = _text(parent)
    return org


def groups(record: dict[str, Any], labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Themes as CKAN groups; ``labels`` maps a theme id/URI to its label (``themeTaxonomy``)."""
    out: list[dict[str, Any]] = []
    for theme in _list(record.get("theme")):
        raw = _text(theme)
        if not raw:
            continue
        title = (labels or {}).get(raw, raw)
        if title.startswith(("http://", "https://")):
            title = title.rstrip("/").rsplit("/", 1)[-1] or title
        name = slugify(title)
        if name and all(g["name"] != name for g in out):
            out.append({"id": name, "name": name, "title": title, "display_name": title, "uri": raw})
    return out


def _license(value: Any) -> tuple[str | None, str | None, str | None]:
    """(license_id, license_title, license_url) from a DCAT licence (a URI, a name, or {"@id"/"title"})."""
    if isinstance(value, dict):
        uri = value.get("@id") or value.get("uri") or value.get("url")
        title = _text(value.get("title") or value.get("name") or value.get("label"))
        return (uri or title), title or uri, uri
    text = _text(value)
    if not text:
        return None, None, None
    url = text if text.startswith(("http://", "https://")) else None
    return text, text, url


def resource(dist: dict[str, Any], dataset_id: str, position: int) -> dict[str, Any]:
    url = _text(dist.get("downloadURL")) or _text(dist.get("accessURL")) or ""
    fmt = _text(dist.get("format")) or _text(dist.get("mediaType")) or ""
    rid = _text(dist.get("identifier")) or _text(dist.get("@id")) or hashlib.sha1(  # noqa: S324
        f"{dataset_id}|{position}|{url}".encode()).hexdigest()
    res: dict[str, Any] = {
        "id": _short_id(rid),
        "name": _text(dist.get("title")) or "",
        "description": _text(dist.get("description")) or "",
        "url": url,
        "format": fmt,
        "mimetype": _text(dist.get("mediaType")),
        "position": position,
    }
    if _text(dist.get("downloadURL")) and _text(dist.get("accessURL")) != _text(dist.get("downloadURL")):
        res["access_url"] = _text(dist.get("accessURL"))
    for key in ("issued", "modified", "conformsTo", "describedBy", "describedByType", "byteSize", "rights"):
        if _text(dist.get(key)):
            res[key] = _text(dist.get(key))
    if dist.get("license"):
        res["license"] = _license(dist.get("license"))[0]
    fields = dist.get("field")
    if isinstance(fields, list) and any(isinstance(f, dict) for f in fields):
        # datos.gob.ar's profile lists the columns with their descriptions: a data dictionary like CKAN's
        # DataStore fields (*integrales* reads them the same way)
        res["fields"] = [f for f in fields if isinstance(f, dict)]
    return res


def package(record: dict[str, Any], *, theme_labels: dict[str, str] | None = None,
            uri: str | None = None) -> dict[str, Any]:
    """One DCAT-US record as a CKAN package dict (see the module docstring for the mapping)."""
    key = dataset_key(record)
    pid = _short_id(key)
    org = organization(record)
    lic_id, lic_title, lic_url = _license(record.get("license"))
    contact = record.get("contactPoint")
    contact = contact[0] if isinstance(contact, list) and contact else contact
    contact = contact if isinstance(contact, dict) else {}
    pub = record.get("publisher")
    publisher: dict[str, Any] = pub if isinstance(pub, dict) else {}
    dists = [d for d in _list(record.get("distribution")) if isinstance(d, dict)]
    access = (_text(record.get("accessLevel")) or "public").lower()
    extras = []
    for k in EXTRA_KEYS:
        value = record.get(k)
        if isinstance(value, list):
            value = ", ".join(t for t in (_text(v) for v in value) if t)
        elif isinstance(value, dict):
            value = _text(value)
        if value not in (None, ""):
            extras.append({"key": k, "value": str(value)})
    if not lic_id and _text(record.get("rights")):
        lic_title = _text(record.get("rights"))
    pkg: dict[str, Any] = {
        "id": pid,
        "name": key if len(key) <= 200 else _short_id(key),
        "title": _text(record.get("title")) or key,
        "notes": _text(record.get("description")) or "",
        "type": "dataset",
        "state": "active",
        "private": access == "non-public",
        "organization": org,
        "owner_org": org["id"] if org else None,
        "license_id": lic_id,
        "license_title": lic_title,
        "license_url": lic_url,
        "maintainer": _text(contact.get("fn")) or None,
        "maintainer_email": _mail(contact.get("hasEmail")) or None,
        "author": _text(publisher),
        "author_email": _mail(publisher.get("mbox")) or None,
        "url": _text(record.get("landingPage")) or "",
        "metadata_created": _text(record.get("issued")),
        "metadata_modified": _text(record.get("modified")),
        "tags": [{"name": t} for t in dict.fromkeys(k for k in (_text(x) for x in _list(record.get("keyword"))) if k)],
        "groups": groups(record, theme_labels),
        "extras": extras,
        "resources": [resource(d, pid, i) for i, d in enumerate(dists)],
        "num_resources": len(dists),
        "dcat_uri": uri or _text(record.get("@id")),
    }
    return pkg


def licenses(packages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The catalogue's licence list: every licence its datasets declare (CKAN's ``license_list`` shape)."""
    seen: dict[str, dict[str, Any]] = {}
    for pkg in packages:
        lid = pkg.get("license_id")
        if lid and lid not in seen:
            seen[lid] = {"id": lid, "title": pkg.get("license_title") or lid, "url": pkg.get("license_url") or ""}
    return list(seen.values())
