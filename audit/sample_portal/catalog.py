"""The sample portal's in-memory catalogue: organizations, groups, licences, datasets and served files.

``Catalog`` answers the read side of the CKAN Action API (search, show, list) and the write side used by
``publish``. It is guarded by one re-entrant lock because the aiohttp server runs in its own thread while tests
mutate the catalogue from the main thread.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from audit.textnorm import strip_accents

NAMESPACE = uuid.UUID("6f1d3c2e-8d2a-4b8e-9a51-5e0c4d7d2f10")

SEARCH_ROWS_DEFAULT = 10
SEARCH_ROWS_MAX = 1000  # ckan.search.rows_max
LIST_ALL_FIELDS_MAX = 25  # ckan.group_and_organization_list_all_fields_max
LIST_MAX = 1000  # ckan.group_and_organization_list_max


def stable_id(*parts: str) -> str:
    """A UUID derived from names, so ids never change between runs of the portal."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def ckan_time(dt: datetime) -> str:
    """CKAN's timestamp format: naive UTC ISO 8601 with microseconds."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def fold(text: str) -> str:
    """Lower-case and strip accents, for matching like a search index would."""
    return strip_accents(text or "").lower()


class RawJSON(str):
    """An action result that is already JSON text; the server embeds it in the envelope as is."""


class ActionError(Exception):
    """An action failure answered with CKAN's error envelope."""

    def __init__(self, status: int, type_: str, message: str | dict[str, Any] = "", **extra: Any) -> None:
        super().__init__(f"{type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message
        self.extra = extra

    def error_dict(self) -> dict[str, Any]:
        err: dict[str, Any] = {"__type": self.type}
        if isinstance(self.message, dict):
            err.update(self.message)
        elif self.message:
            err["message"] = self.message
        err.update(self.extra)
        return err


def not_found(message: str = "Not found") -> ActionError:
    return ActionError(404, "Not Found Error", message)


def validation_error(**fields: Any) -> ActionError:
    return ActionError(409, "Validation Error", {k: v if isinstance(v, list) else [v] for k, v in fields.items()})


@dataclass
class ServedFile:
    """A file the portal serves under its own origin; ``factory`` builds the bytes on first request."""

    content_type: str
    factory: Callable[[], bytes] | None = None
    body: bytes | None = None
    last_modified: datetime | None = None
    filename: str | None = None
    #: planted freshness traps (dates that look fresh but prove no update): a server that stamps ``Last-Modified`` with the time of every
    #: request, and a file generated on every request (a column with the moment it was generated)
    stamp_now: bool = False
    regenerate: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def data(self) -> bytes:
        if self.body is None:
            with self._lock:
                if self.body is None:
                    self.body = self.factory() if self.factory else b""
        return self.body


# ----------------------------------------------------------------------------------------------- search helpers
_FQ_TERM = re.compile(r'([+-]?)([A-Za-z_.]+):("(?:[^"\\]|\\.)*"|\([^)]*\)|\S+)')


def parse_fq(fq: str) -> list[tuple[bool, str, str]]:
    """Solr filter terms ``[+-]field:value`` → (negated, field, value); values may be quoted."""
    terms = []
    for sign, fname, value in _FQ_TERM.findall(fq or ""):
        value = value.strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        terms.append((sign == "-", fname, value))
    return terms


def field_values(pkg: dict[str, Any], fname: str) -> list[str]:
    """The indexed values of a dataset for a Solr field name, like CKAN's search index."""
    if fname in ("organization", "owner_org"):
        org = pkg.get("organization") or {}
        return [org.get("name") or "", pkg.get("owner_org") or ""]
    if fname == "groups":
        return [g.get("name", "") for g in pkg.get("groups") or []]
    if fname == "tags":
        return [t.get("name", "") for t in pkg.get("tags") or []]
    if fname == "res_format":
        return [str(r.get("format") or "") for r in pkg.get("resources") or []]
    if fname == "res_url":
        return [str(r.get("url") or "") for r in pkg.get("resources") or []]
    if fname in ("license_id", "name", "id", "state", "type", "title", "maintainer", "author"):
        return [str(pkg.get(fname) or "")]
    if fname in ("private", "capacity"):
        return ["true" if pkg.get("private") else "false", "private" if pkg.get("private") else "public"]
    if fname == "dataset_type":
        return [str(pkg.get("type") or "dataset")]
    for extra in pkg.get("extras") or []:
        if extra.get("key") == fname or f"extras_{extra.get('key')}" == fname:
            return [str(extra.get("value") or "")]
    value = pkg.get(fname)
    return [str(value)] if value not in (None, "") else []


def term_matches(pkg: dict[str, Any], fname: str, value: str) -> bool:
    if value.startswith("(") and value.endswith(")"):  # (a OR b)
        options = [v.strip().strip('"') for v in re.split(r"\s+OR\s+", value[1:-1])]
        return any(term_matches(pkg, fname, v) for v in options if v)
    values = field_values(pkg, fname)
    if value == "*":
        return any(values)
    if value.endswith("*"):
        prefix = value[:-1].lower()
        return any(v.lower().startswith(prefix) for v in values)
    # Solr string fields are exact; res_format in CKAN is case-sensitive too, but be lenient on surrounding space
    return any(v == value or v.strip() == value for v in values)


def text_matches(pkg: dict[str, Any], q: str) -> bool:
    words = [w for w in fold(q).split() if w not in ("and", "+")]
    if not words:
        return True
    haystack = " ".join(
        [pkg.get("name") or "", pkg.get("title") or "", pkg.get("notes") or ""]
        + [t.get("name", "") for t in pkg.get("tags") or []]
        + [(pkg.get("organization") or {}).get("title") or ""]
    )
    haystack = fold(haystack)
    return all(w.strip('"') in haystack for w in words)


SORT_FIELDS = {"metadata_created", "metadata_modified", "name", "id", "title", "title_string", "score", "num_resources"}


def parse_sort(sort: str | None) -> list[tuple[str, bool]]:
    """``"metadata_created asc, id asc"`` → [(field, descending)]; raises a CKAN Search Query Error if bad."""
    sort = (sort or "score desc, metadata_modified desc").strip()
    out = []
    for part in sort.split(","):
        bits = part.split()
        if not bits:
            continue
        fname = bits[0]
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if fname not in SORT_FIELDS or direction not in ("asc", "desc") or len(bits) > 2:
            raise ActionError(409, "Search Query Error", f"Search Query is invalid: \"Invalid sort: '{part.strip()}'\"")
        out.append(("title" if fname == "title_string" else fname, direction == "desc"))
    return out


def _sort_key(fname: str, pkg: dict[str, Any]) -> Any:
    return sort_value(pkg, fname)


def sort_value(pkg: dict[str, Any], fname: str) -> Any:
    if fname == "score":
        return 0
    if fname == "num_resources":
        return len(pkg.get("resources") or [])
    value = pkg.get(fname) or ""
    return value.lower() if fname == "title" else value


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on", "t")


def as_int(value: Any, name: str, default: int, *, minimum: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation_error(**{name: "Invalid integer"}) from None
    if number < minimum:
        raise validation_error(**{name: f"Must be a natural number{'' if minimum == 0 else ' greater than zero'}"})
    return number


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    fq: str = ""
    rows: int = SEARCH_ROWS_DEFAULT
    start: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=list)
    sort_text: str = ""
    fl: tuple[str, ...] = ()
    include_private: bool = False
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SearchRequest:
        import json

        rows = min(as_int(params.get("rows"), "rows", SEARCH_ROWS_DEFAULT), SEARCH_ROWS_MAX)
        start = as_int(params.get("start"), "start", 0)
        sort_text = str(params.get("sort") or "score desc, metadata_modified desc")
        fl = params.get("fl") or ""
        if isinstance(fl, list):
            fl_fields = tuple(str(f) for f in fl)
        else:
            fl_fields = tuple(f for f in re.split(r"[\s,]+", str(fl)) if f)
        facet_fields: Any = params.get("facet.field") or ()
        if isinstance(facet_fields, str):
            try:
                facet_fields = json.loads(facet_fields)
            except ValueError:
                raise validation_error(**{"facet.field": "Invalid JSON list"}) from None
        q = str(params.get("q") or "").strip()
        fq = str(params.get("fq") or "").strip()
        # CKAN passes "field:value" queries straight to Solr: treat them as filters
        if q and q != "*:*" and re.fullmatch(r'(\s*[+-]?[A-Za-z_.]+:("[^"]*"|\S+)\s*)+', q):
            fq, q = f"{fq} {q}".strip(), ""
        return cls(
            q="" if q == "*:*" else q,
            fq=fq,
            rows=rows,
            start=start,
            sort=parse_sort(sort_text),
            sort_text=sort_text,
            fl=fl_fields,
            include_private=as_bool(params.get("include_private")),
            facet_fields=tuple(facet_fields),
            facet_limit=as_int(params.get("facet.limit"), "facet.limit", 50, minimum=-1) if params.get("facet.limit")
            not in (None, "", -1, "-1") else 50,
        )

    def matches(self, pkg: dict[str, Any], *, authorized: bool) -> bool:
        if pkg.get("state", "active") != "active":
            return False
        if pkg.get("private") and not (self.include_private and authorized):
            return False
        for negated, fname, value in parse_fq(self.fq):
            if term_matches(pkg, fname, value) == negated:
                return False
        return text_matches(pkg, self.q) if self.q else True


def project(pkg: dict[str, Any], fl: tuple[str, ...]) -> dict[str, Any]:
    if not fl or fl == ("*",):
        return pkg
    out = {}
    for f in fl:
        if f in pkg:
            out[f] = pkg[f]
        elif f == "organization":
            out[f] = (pkg.get("organization") or {}).get("name")
    return out


# ----------------------------------------------------------------------------------------------------- catalogue
class Catalog:
    """A mutable CKAN catalogue held in memory."""

    def __init__(
        self,
        *,
        base_url: str,
        site_title: str = "Portal de Datos Abiertos",
        organizations: Iterable[dict[str, Any]] = (),
        groups: Iterable[dict[str, Any]] = (),
        licenses: Iterable[dict[str, Any]] = (),
        datasets: Iterable[dict[str, Any]] = (),
        now: datetime | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.site_title = site_title
        self.now = now or datetime.now(UTC)
        self.lock = threading.RLock()
        #: resource id → DataStore field list ({"id", "type", "info": {"label", "notes"}}), for datastore_search
        self.datastore: dict[str, list[dict[str, Any]]] = {}
        self.organizations: dict[str, dict[str, Any]] = {o["name"]: o for o in organizations}
        self.groups: dict[str, dict[str, Any]] = {g["name"]: g for g in groups}
        self.licenses: list[dict[str, Any]] = list(licenses)
        self.files: dict[str, ServedFile] = {}
        self._datasets: dict[str, dict[str, Any]] = {}  # id → package
        self._names: dict[str, str] = {}  # name → id
        for pkg in datasets:
            self.add_dataset(pkg)

    # ------------------------------------------------------------------ reading
    def iter_datasets(self) -> Iterator[dict[str, Any]]:
        with self.lock:
            items = list(self._datasets.values())
        return iter(items)

    def dataset_count(self, *, include_private: bool = False) -> int:
        return sum(1 for p in self.iter_datasets() if p.get("state") == "active"
                   and (include_private or not p.get("private")))

    def get_dataset(self, name_or_id: str) -> dict[str, Any] | None:
        with self.lock:
            pid = self._names.get(name_or_id, name_or_id)
            return self._datasets.get(pid)

    def search_raw(self, req: SearchRequest, *, authorized: bool = False) -> RawJSON | None:
        """A pre-encoded answer when the catalogue can produce one cheaply (synthetic mode); else None."""
        return None

    def search(self, req: SearchRequest, *, authorized: bool = False) -> dict[str, Any]:
        matched = [p for p in self.iter_datasets() if req.matches(p, authorized=authorized)]
        for fname, desc in reversed(req.sort):  # stable sorts, last key first
            matched.sort(key=functools.partial(_sort_key, fname), reverse=desc)
        page = matched[req.start: req.start + req.rows]
        facets, search_facets = self.facets(matched, req)
        return {
            "count": len(matched),
            "facets": facets,
            "results": [project(copy.deepcopy(p), req.fl) for p in page],
            "sort": req.sort_text,
            "search_facets": search_facets,
        }

    def facets(self, matched: list[dict[str, Any]], req: SearchRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        facets: dict[str, dict[str, int]] = {}
        search_facets: dict[str, Any] = {}
        for fname in req.facet_fields:
            counts: dict[str, int] = {}
            for pkg in matched:
                for value in set(field_values(pkg, fname if fname != "organization" else "organization")[:1]
                                 if fname == "organization" else field_values(pkg, fname)):
                    if value:
                        counts[value] = counts.get(value, 0) + 1
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if req.facet_limit >= 0:
                top = top[: req.facet_limit]
            facets[fname] = dict(top)
            search_facets[fname] = {
                "title": fname,
                "items": [{"name": k, "display_name": self._display_name(fname, k), "count": v} for k, v in top],
            }
        return facets, search_facets

    def _display_name(self, fname: str, value: str) -> str:
        if fname == "organization" and value in self.organizations:
            return self.organizations[value]["title"]
        if fname == "groups" and value in self.groups:
            return self.groups[value]["title"]
        return value

    def package_names(self, offset: int = 0, limit: int | None = None) -> list[str]:
        names = sorted(p["name"] for p in self.iter_datasets() if p.get("state") == "active" and not p.get("private"))
        return names[offset: None if limit is None else offset + limit]

    def package_count_by(self, kind: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pkg in self.iter_datasets():
            if pkg.get("state") != "active" or pkg.get("private"):
                continue
            if kind == "organization":
                names = [(pkg.get("organization") or {}).get("name")]
            else:
                names = [g.get("name") for g in pkg.get("groups") or []]
            for name in names:
                if name:
                    counts[name] = counts.get(name, 0) + 1
        return counts

    def tag_names(self) -> list[str]:
        return sorted({t["name"] for p in self.iter_datasets() if p.get("state") == "active"
                       for t in p.get("tags") or []})

    # ------------------------------------------------------------------ writing
    def add_dataset(self, pkg: dict[str, Any]) -> dict[str, Any]:
        """Add a package (completing the keys CKAN would fill); raises a 409 if the name is taken."""
        with self.lock:
            name = str(pkg.get("name") or "").strip()
            if not name or not re.fullmatch(r"[a-z0-9_-]{2,100}", name):
                raise validation_error(name=["Must be purely lowercase alphanumeric (ascii) characters and these "
                                             "symbols: -_"])
            if name in self._names:
                raise validation_error(name=["That URL is already in use."])
            full = self._complete(copy.deepcopy(pkg))
            if full["id"] in self._datasets:
                raise validation_error(id=["Dataset id already exists"])
            self._datasets[full["id"]] = full
            self._names[name] = full["id"]
            return copy.deepcopy(full)

    def delete_dataset(self, name_or_id: str) -> None:
        """Remove a dataset (CKAN's purge): it disappears from search, lists and package_show."""
        with self.lock:
            pkg = self.get_dataset(name_or_id)
            if pkg is None:
                raise not_found()
            del self._datasets[pkg["id"]]
            self._names.pop(pkg["name"], None)

    def replace_dataset(self, pkg: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            old = self.get_dataset(str(pkg.get("id") or pkg.get("name") or ""))
            if old is None:
                raise not_found()
            new_name = str(pkg.get("name") or old["name"])
            if new_name != old["name"] and new_name in self._names:
                raise validation_error(name=["That URL is already in use."])
            pkg = copy.deepcopy(pkg)
            pkg["id"] = old["id"]
            pkg["name"] = new_name
            pkg.setdefault("metadata_created", old["metadata_created"])
            pkg["metadata_modified"] = ckan_time(datetime.now(UTC))
            full = self._complete(pkg)
            self._names.pop(old["name"], None)
            self._datasets[old["id"]] = full
            self._names[new_name] = old["id"]
            return copy.deepcopy(full)

    def _complete(self, pkg: dict[str, Any]) -> dict[str, Any]:
        now = ckan_time(datetime.now(UTC))
        name = pkg["name"]
        pkg.setdefault("id", stable_id("dataset", name))
        pkg.setdefault("type", "dataset")
        pkg.setdefault("state", "active")
        pkg.setdefault("private", False)
        pkg.setdefault("title", name)
        for key in ("notes", "author", "author_email", "maintainer", "maintainer_email", "url", "version"):
            pkg.setdefault(key, None if key != "notes" else "")
        pkg.setdefault("metadata_created", now)
        pkg.setdefault("metadata_modified", pkg["metadata_created"])
        pkg.setdefault("creator_user_id", stable_id("user", "admin"))
        lic = self.license(pkg.get("license_id"))
        pkg.setdefault("license_id", "")
        pkg["license_title"] = pkg.get("license_title") or (lic["title"] if lic else pkg.get("license_id") or None)
        if lic and lic.get("url"):
            pkg["license_url"] = lic["url"]
        pkg["isopen"] = bool(lic and lic.get("od_conformance") == "approved")
        org_ref = pkg.get("owner_org") or (pkg.get("organization") or {}).get("name")
        org = self.organization(org_ref) if org_ref else None
        if org is not None:
            pkg["owner_org"] = org["id"]
            pkg["organization"] = {k: org[k] for k in ("id", "name", "title", "type", "description", "image_url",
                                                         "created", "is_organization", "approval_status", "state")}
        else:
            pkg.setdefault("owner_org", None)
            pkg.setdefault("organization", None)
        groups = []
        for g in pkg.get("groups") or []:
            grp = self.group(g.get("name") or g.get("id") or "")
            if grp is not None:
                groups.append({k: grp[k] for k in ("id", "name", "title", "display_name", "description",
                                                   "image_display_url")})
        pkg["groups"] = groups
        tags = []
        for t in pkg.get("tags") or []:
            tname = str(t.get("name") or "") if isinstance(t, dict) else str(t)
            tags.append({"id": stable_id("tag", tname), "name": tname, "display_name": tname, "state": "active",
                         "vocabulary_id": None})
        pkg["tags"] = tags
        pkg.setdefault("extras", [])
        resources = []
        for pos, res in enumerate(pkg.get("resources") or []):
            resources.append(self._complete_resource(pkg, res, pos))
        pkg["resources"] = resources
        pkg["num_resources"] = len(resources)
        pkg["num_tags"] = len(tags)
        pkg.setdefault("relationships_as_object", [])
        pkg.setdefault("relationships_as_subject", [])
        return pkg

    def _complete_resource(self, pkg: dict[str, Any], res: dict[str, Any], position: int) -> dict[str, Any]:
        res = dict(res)
        res.setdefault("id", stable_id("resource", pkg["name"], str(res.get("name") or position)))
        res["package_id"] = pkg["id"]
        res["position"] = position
        for key, default in (("name", ""), ("description", ""), ("format", ""), ("url", ""), ("url_type", None),
                             ("last_modified", None), ("created", pkg["metadata_created"]), ("mimetype", None),
                             ("mimetype_inner", None), ("size", None), ("hash", ""), ("datastore_active", False),
                             ("state", "active"), ("cache_url", None), ("cache_last_updated", None),
                             ("resource_type", None)):
            res.setdefault(key, default)
        return res

    def patch_dataset(self, name_or_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            old = self.get_dataset(name_or_id)
            if old is None:
                raise not_found()
            merged = copy.deepcopy(old)
            merged.update({k: v for k, v in changes.items() if k != "id"})
            for key in ("organization",):
                if "owner_org" in changes:
                    merged.pop(key, None)
            return self.replace_dataset(merged)

    def add_resource(self, package_ref: str, res: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            pkg = self.get_dataset(package_ref)
            if pkg is None:
                raise validation_error(package_id=["Not found: Dataset"])
            pkg = copy.deepcopy(pkg)
            res = dict(res)
            res.setdefault("id", str(uuid.uuid4()))
            res.setdefault("created", ckan_time(datetime.now(UTC)))
            pkg["resources"].append(res)
            saved = self.replace_dataset(pkg)
            return next(r for r in saved["resources"] if r["id"] == res["id"])

    def update_resource(self, res_id: str, changes: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        with self.lock:
            for pkg in self._datasets.values():
                for i, res in enumerate(pkg["resources"]):
                    if res["id"] == res_id:
                        pkg = copy.deepcopy(pkg)
                        base = {"id": res_id, "created": res.get("created")} if replace else dict(res)
                        base.update({k: v for k, v in changes.items() if k not in ("package_id",)})
                        base["last_modified"] = changes.get("last_modified") or ckan_time(datetime.now(UTC))
                        pkg["resources"][i] = base
                        saved = self.replace_dataset(pkg)
                        return next(r for r in saved["resources"] if r["id"] == res_id)
        raise not_found("Resource was not found.")

    def find_resource(self, res_id: str) -> dict[str, Any] | None:
        for pkg in self.iter_datasets():
            for res in pkg.get("resources") or []:
                if res["id"] == res_id:
                    return res
        return None

    # ------------------------------------------------------------------ organizations, groups, licences
    def organization(self, ref: str) -> dict[str, Any] | None:
        if ref in self.organizations:
            return self.organizations[ref]
        return next((o for o in self.organizations.values() if o["id"] == ref), None)

    def group(self, ref: str) -> dict[str, Any] | None:
        if ref in self.groups:
            return self.groups[ref]
        return next((g for g in self.groups.values() if g["id"] == ref), None)

    def license(self, ref: Any) -> dict[str, Any] | None:
        if not ref:
            return None
        return next((lic for lic in self.licenses if lic["id"] == ref), None)

    def add_file(self, path: str, served: ServedFile) -> str:
        """Serve ``served`` at ``path`` (absolute path on the portal) and return its full URL."""
        self.files[path] = served
        return self.base_url + path


def make_organization(name: str, title: str, description: str, created: datetime, *, kind: str = "organization") \
        -> dict[str, Any]:
    is_org = kind == "organization"
    return {
        "id": stable_id(kind, name),
        "name": name,
        "title": title,
        "display_name": title,
        "description": description,
        "type": kind,
        "state": "active",
        "is_organization": is_org,
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": ckan_time(created),
        "num_followers": 0,
        "package_count": 0,
    }
