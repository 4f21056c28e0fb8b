"""CKAN Action API handlers of the sample portal: ``name -> fn(portal, params, auth) -> result``.

Each handler raises :class:`ActionError` for CKAN-shaped failures. Handlers run in the server thread and take the
catalogue lock through the catalogue's own methods.
"""

from __future__ import annotations

import copy
import mimetypes
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from audit.sample_portal.catalog import (
    LIST_ALL_FIELDS_MAX,
    LIST_MAX,
    ActionError,
    SearchRequest,
    ServedFile,
    as_bool,
    as_int,
    ckan_time,
    not_found,
    validation_error,
)

if TYPE_CHECKING:
    from audit.sample_portal.server import SamplePortal

Handler = Callable[["SamplePortal", dict[str, Any], bool], Any]
ACTIONS: dict[str, Handler] = {}
WRITE_ACTIONS: set[str] = set()


def action(name: str, *, write: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ACTIONS[name] = fn
        if write:
            WRITE_ACTIONS.add(name)
        return fn

    return register


def _require(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if value in (None, ""):
        raise validation_error(**{key: "Missing value"})
    return str(value)


# --------------------------------------------------------------------------------------------------- site
@action("status_show")
def status_show(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    return {
        "site_title": portal.catalog.site_title,
        "site_description": "Datos abiertos del Gobierno del Estado de México (portal de muestra).",
        "site_url": portal.url,
        "ckan_version": "2.10.4",
        "error_emails_to": None,
        "locale_default": "es",
        "extensions": ["activity", "datastore", "datapusher", "scheming_datasets", "dcat"],
    }


@action("license_list")
def license_list(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    return copy.deepcopy(portal.catalog.licenses)


@action("tag_list")
def tag_list(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    names = portal.catalog.tag_names()
    query = str(params.get("query") or "").lower()
    if query:
        names = [n for n in names if query in n.lower()]
    if as_bool(params.get("all_fields")):
        from audit.sample_portal.catalog import stable_id

        return [{"id": stable_id("tag", n), "name": n, "display_name": n, "vocabulary_id": None} for n in names]
    return names


# --------------------------------------------------------------------------------------------------- datasets
@action("package_search")
def package_search(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    req = SearchRequest.from_params(params)
    raw = portal.catalog.search_raw(req, authorized=auth)
    return raw if raw is not None else portal.catalog.search(req, authorized=auth)


def _visible(pkg: dict[str, Any] | None, auth: bool) -> dict[str, Any]:
    if pkg is None or pkg.get("state") == "deleted" and not auth:
        raise not_found()
    if pkg.get("private") and not auth:
        raise ActionError(403, "Authorization Error", "Access denied: User  not authorized to read package "
                          f"{pkg['id']}")
    return copy.deepcopy(pkg)


@action("package_show")
def package_show(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    ref = _require(params, "id") if params.get("name_or_id") in (None, "") else str(params["name_or_id"])
    return _visible(portal.catalog.get_dataset(ref), auth)


@action("datastore_search")
def datastore_search(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    """Enough of the DataStore for clients reading field definitions (``limit=0``)."""
    rid = _require(params, "resource_id")
    fields = portal.catalog.datastore.get(rid)
    if fields is None:
        raise not_found(f"Resource \"{rid}\" was not found.")
    return {"resource_id": rid, "fields": [{"id": "_id", "type": "int"}, *copy.deepcopy(fields)],
            "records": [], "total": 0, "limit": int(params.get("limit") or 0)}


@action("package_list")
def package_list(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    limit = params.get("limit")
    return portal.catalog.package_names(as_int(params.get("offset"), "offset", 0),
                                        None if limit in (None, "") else as_int(limit, "limit", 0))


@action("current_package_list_with_resources")
def current_package_list_with_resources(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    req = SearchRequest.from_params({"rows": as_int(params.get("limit"), "limit", 10),
                                     "start": as_int(params.get("offset"), "offset", 0),
                                     "sort": "metadata_modified desc"})
    return portal.catalog.search(req, authorized=False)["results"]


@action("resource_show")
def resource_show(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    res = portal.catalog.find_resource(_require(params, "id"))
    if res is None:
        raise not_found("Resource was not found.")
    return copy.deepcopy(res)


# --------------------------------------------------------------------------------------------------- orgs/groups
def _group_list(portal: SamplePortal, params: dict[str, Any], kind: str) -> Any:
    cat = portal.catalog
    items = list((cat.organizations if kind == "organization" else cat.groups).values())
    all_fields = as_bool(params.get("all_fields"))
    max_limit = LIST_ALL_FIELDS_MAX if all_fields else LIST_MAX
    limit = params.get("limit")
    limit_n = max_limit if limit in (None, "") else min(as_int(limit, "limit", max_limit), max_limit)
    offset = as_int(params.get("offset"), "offset", 0)
    wanted = params.get(f"{kind}s") or params.get("groups")
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",") if w.strip()]
    if wanted:
        items = [i for i in items if i["name"] in wanted]
    counts = cat.package_count_by(kind)
    sort = str(params.get("sort") or "title asc").strip()
    m = re.fullmatch(r"(name|title|package_count|packages)(?:\s+(asc|desc))?", sort)
    if not m:
        raise validation_error(sort=f"Invalid sort: {sort}")
    field_name = "package_count" if m.group(1) in ("package_count", "packages") else m.group(1)
    desc = (m.group(2) or ("desc" if field_name == "package_count" else "asc")) == "desc"
    items.sort(key=lambda g: g["name"])
    items.sort(key=lambda g: counts.get(g["name"], 0) if field_name == "package_count" else g[field_name].lower(),
               reverse=desc)
    page = items[offset: offset + limit_n]
    if not all_fields:
        return [g["name"] for g in page]
    out = []
    for g in page:
        d = copy.deepcopy(g)
        if as_bool(params.get("include_dataset_count"), True):
            d["package_count"] = counts.get(g["name"], 0)
        out.append(d)
    return out


@action("organization_list")
def organization_list(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    return _group_list(portal, params, "organization")


@action("group_list")
def group_list(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    return _group_list(portal, params, "group")


def _group_show(portal: SamplePortal, params: dict[str, Any], kind: str) -> Any:
    cat = portal.catalog
    ref = _require(params, "id")
    g = cat.organization(ref) if kind == "organization" else cat.group(ref)
    if g is None:
        raise not_found(f"{'Organization' if kind == 'organization' else 'Group'} not found")
    d = copy.deepcopy(g)
    d["package_count"] = cat.package_count_by(kind).get(g["name"], 0)
    d.update({"users": [], "extras": [], "tags": [], "groups": []})
    if as_bool(params.get("include_datasets")):
        fq = f'{"organization" if kind == "organization" else "groups"}:{g["name"]}'
        d["packages"] = cat.search(SearchRequest.from_params({"fq": fq, "rows": 1000,
                                                              "sort": "name asc"}))["results"]
    return d


@action("organization_show")
def organization_show(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    return _group_show(portal, params, "organization")


@action("group_show")
def group_show(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    return _group_show(portal, params, "group")


# --------------------------------------------------------------------------------------------------- writing
def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Multipart/form posts carry every value as a string; lists/dicts arrive JSON-encoded."""
    import json

    out = dict(params)
    for key in ("resources", "tags", "groups", "extras"):
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                raise validation_error(**{key: "Invalid JSON"}) from None
    if isinstance(out.get("private"), str):
        out["private"] = as_bool(out["private"])
    return out


def _check_org(portal: SamplePortal, params: dict[str, Any]) -> None:
    org = params.get("owner_org")
    if org and portal.catalog.organization(str(org)) is None:
        raise validation_error(owner_org="Organization does not exist")


@action("package_create", write=True)
def package_create(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    params = _decode_json_fields(params)
    _require(params, "name")
    _check_org(portal, params)
    pkg = dict(params)
    pkg.pop("id", None)
    now = ckan_time(datetime.now(UTC))
    pkg["metadata_created"] = pkg["metadata_modified"] = now
    return portal.catalog.add_dataset(pkg)


@action("package_update", write=True)
def package_update(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    params = _decode_json_fields(params)
    ref = params.get("id") or params.get("name")
    if not ref:
        raise validation_error(id="Missing value")
    _check_org(portal, params)
    old = portal.catalog.get_dataset(str(ref))
    if old is None:
        raise not_found()
    new = dict(params)
    new["id"] = old["id"]
    new.setdefault("name", old["name"])
    if "owner_org" not in new:
        new["owner_org"] = old.get("owner_org")
    return portal.catalog.replace_dataset(new)


@action("package_patch", write=True)
def package_patch(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    params = _decode_json_fields(params)
    _check_org(portal, params)
    return portal.catalog.patch_dataset(_require(params, "id"), params)


@action("package_delete", write=True)
def package_delete(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    portal.catalog.delete_dataset(_require(params, "id"))
    return None


def _resource_fields(portal: SamplePortal, params: dict[str, Any], package_id: str, res_id: str) -> dict[str, Any]:
    fields = {k: v for k, v in params.items() if k not in ("upload", "package_id", "clear_upload")}
    upload = params.get("upload")
    if isinstance(upload, dict):  # {"filename", "content_type", "data"} from a multipart post
        filename = re.sub(r"[^A-Za-z0-9._-]+", "-", upload["filename"] or "archivo").strip("-") or "archivo"
        ctype = upload.get("content_type") or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        path = f"/dataset/{package_id}/resource/{res_id}/download/{filename}"
        fields["url"] = portal.catalog.add_file(path, ServedFile(ctype, body=upload["data"],
                                                                 last_modified=datetime.now(UTC), filename=filename))
        fields["url_type"] = "upload"
        fields["size"] = len(upload["data"])
        fields["mimetype"] = ctype
        fields.setdefault("name", filename)
    return fields


@action("resource_create", write=True)
def resource_create(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    package_ref = _require(params, "package_id")
    pkg = portal.catalog.get_dataset(package_ref)
    if pkg is None:
        raise validation_error(package_id="Not found: Dataset")
    if params.get("url") in (None, "") and not isinstance(params.get("upload"), dict):
        params = {**params, "url": ""}
    res_id = str(uuid.uuid4())
    fields = _resource_fields(portal, params, pkg["id"], res_id)
    fields["id"] = res_id
    fields.setdefault("last_modified", ckan_time(datetime.now(UTC)))
    return portal.catalog.add_resource(pkg["id"], fields)


@action("resource_update", write=True)
def resource_update(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    res_id = _require(params, "id")
    res = portal.catalog.find_resource(res_id)
    if res is None:
        raise not_found("Resource was not found.")
    fields = _resource_fields(portal, params, res["package_id"], res_id)
    if "url" not in fields:
        fields["url"] = res.get("url", "")
    return portal.catalog.update_resource(res_id, fields, replace=True)


@action("resource_patch", write=True)
def resource_patch(portal: SamplePortal, params: dict[str, Any], auth: bool) -> Any:
    res_id = _require(params, "id")
    res = portal.catalog.find_resource(res_id)
    if res is None:
        raise not_found("Resource was not found.")
    fields = _resource_fields(portal, params, res["package_id"], res_id)
    return portal.catalog.update_resource(res_id, fields, replace=False)
