"""Synthetic mode: N generated datasets, built on the fly per page (memory stays flat for 100,000 datasets).

Dataset ``i`` is a pure function of ``i`` and the start time. Names, ids and timestamps all grow with ``i``, so
the common stable sorts (``metadata_created``, ``metadata_modified``, ``name``, ``id``) are answered by slicing a
range instead of sorting. Once the catalogue is mutated (a dataset added or deleted), searches fall back to the
generic path, which only materialises cheap sort keys plus the page it returns.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.sample_portal.catalog import (
    Catalog,
    RawJSON,
    SearchRequest,
    ckan_time,
    make_organization,
    project,
    stable_id,
)
from audit.sample_portal.edomex import GROUPS, LICENSES
from audit.sample_portal.files import TOPICS

N_ORGANIZATIONS = 200
_MONOTONIC_SORTS = {"metadata_created", "metadata_modified", "name", "id"}
_FORMATS = ("CSV", "csv", " CSV", "Csv")
#: fields an ``fl`` listing can get without generating the dataset
_CHEAP_FIELDS = {"id", "name", "type", "private", "state"}
def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


_LICENSES = ("cc-by-4.0", "cc-by-4.0", "cc-by-4.0", "mx-terminos-libre-uso", "odc-odbl", "cc-by-sa-4.0",
             "notspecified", "")


class SyntheticCatalog(Catalog):
    def __init__(self, n: int, *, base_url: str, now: datetime) -> None:
        orgs = [make_organization(f"dependencia-{k:03d}", f"Dependencia estatal {k:03d}",
                                  f"Dependencia sintética número {k}.", now - timedelta(days=3000 - k))
                for k in range(N_ORGANIZATIONS)]
        groups = [make_organization(name, title, f"Conjuntos sobre {title.lower()}.", now - timedelta(days=2900),
                                    kind="group") for name, title in GROUPS]
        super().__init__(base_url=base_url, site_title="Portal sintético de datos abiertos", organizations=orgs,
                         groups=groups, licenses=[dict(lic) for lic in LICENSES], now=now)
        self.n = n
        self._origin = now - timedelta(days=400) - timedelta(seconds=n)
        self._org_list = orgs
        self._group_list = groups
        self._deleted: set[int] = set()
        self._prepare_fragments()

    # ----------------------------------------------------------------- generation
    @staticmethod
    def name_of(i: int) -> str:
        return f"conjunto-sintetico-{i:06d}"

    def id_of(self, i: int) -> str:
        return f"{i:08x}-5e1d-4c0a-9d3b-{zlib.crc32(self.name_of(i).encode()):012x}"

    def index_of(self, ref: str) -> int | None:
        try:
            if ref.startswith("conjunto-sintetico-"):
                i = int(ref.rsplit("-", 1)[1])
                return i if self.name_of(i) == ref else None
            if len(ref) == 36 and ref[8:24] == "-5e1d-4c0a-9d3b-":
                i = int(ref[:8], 16)
                return i if self.id_of(i) == ref else None
        except ValueError:
            return None
        return None

    def _live(self, i: int) -> bool:
        return 0 <= i < self.n and i not in self._deleted

    def _prepare_fragments(self) -> None:
        """Pre-encode the JSON pieces shared by many datasets (organizations, groups, tags, licences, dates)."""
        org_keys = ("id", "name", "title", "type", "description", "image_url", "created", "is_organization",
                    "approval_status", "state")
        grp_keys = ("id", "name", "title", "display_name", "description", "image_display_url")
        self._org_frag = [
            (f'"author": {_j(o["title"])}, "author_email": null, "url": "", "version": "", ', o["id"],
             _j({k: o[k] for k in org_keys})) for o in self._org_list]
        self._grp_frag = [_j([{k: g[k] for k in grp_keys}]) for g in self._group_list]
        self._tag_frag = {t: _j([{"id": stable_id("tag", t), "name": t, "display_name": t, "state": "active",
                                  "vocabulary_id": None}]) for t in TOPICS}
        self._lic_frag = {}
        for lic_id in set(_LICENSES):
            lic = self.license(lic_id)
            self._lic_frag[lic_id] = (
                f'"license_id": {_j(lic_id)}, "license_title": {_j(lic["title"] if lic else None)}, '
                f'"license_url": {_j(lic["url"] if lic else None)}, '
                f'"isopen": {_j(bool(lic and lic.get("od_conformance") == "approved"))}')
        self._age_frag = [ckan_time(self.now - timedelta(days=d)) for d in range(900)]
        self._origin_naive = self._origin.astimezone(UTC).replace(tzinfo=None)
        self._creator = stable_id("user", "admin")

    def generate_json(self, i: int) -> str:
        """Dataset ``i`` as CKAN JSON text, written directly (the crawl benchmark pages 100,000 of these)."""
        name = f"conjunto-sintetico-{i:06d}"
        h = zlib.crc32(name.encode())
        pid = f"{i:08x}-5e1d-4c0a-9d3b-{h:012x}"
        topic = TOPICS[h % len(TOPICS)]
        words = topic.replace("_", " ")
        author, org_id, org_json = self._org_frag[i % N_ORGANIZATIONS]
        created = (self._origin_naive + timedelta(seconds=i)).isoformat(timespec="microseconds")
        modified = (self._origin_naive + timedelta(days=1, seconds=i)).isoformat(timespec="microseconds")
        data_modified = self._age_frag[h % 900]
        base = self.base_url
        resources = ", ".join(
            f'{{"id": "{i:08x}-{k:04x}-4a7e-8f21-{(h + k) & 0xFFFFFFFFFFFF:012x}", "package_id": "{pid}", '
            f'"name": "Datos {words} parte {k + 1}", "description": "Registros de {words} por municipio y fecha.", '
            f'"format": "{_FORMATS[(h + k) % len(_FORMATS)]}", "url": "{base}/files/synthetic/{i * 3 + k}.csv", '
            f'"url_type": null, "last_modified": "{data_modified}", "created": "{created}", "position": {k}, '
            '"mimetype": "text/csv", "mimetype_inner": null, "size": null, "hash": "", "datastore_active": false, '
            '"state": "active", "cache_url": null, "cache_last_updated": null, "resource_type": null}'
            for k in range(1 + h % 3))
        return (
            f'{{"id": "{pid}", "name": "{name}", "title": "Conjunto sintético {i}: {words}", '
            f'"notes": "Conjunto de datos sintético número {i} sobre {words}, generado para pruebas de rendimiento '
            'del auditor; cada registro incluye municipio y fecha.", "state": "active", "private": false, '
            f'"type": "dataset", {self._lic_frag[_LICENSES[h % len(_LICENSES)]]}, '
            f'"maintainer": "Unidad de Transparencia", "maintainer_email": "datos{i % N_ORGANIZATIONS}@edomex.gob.mx", '
            f'{author}"metadata_created": "{created}", "metadata_modified": "{modified}", '
            f'"creator_user_id": "{self._creator}", "owner_org": "{org_id}", "organization": {org_json}, '
            f'"groups": {self._grp_frag[i % len(self._grp_frag)]}, "tags": {self._tag_frag[topic]}, '
            f'"extras": [{{"key": "frequency", "value": "{("R/P1M", "R/P1Y", "eventual", "R/P3M")[h % 4]}"}}, '
            '{"key": "spatial_coverage", "value": "Estado de México"}], '
            f'"resources": [{resources}], "num_resources": {1 + h % 3}, "num_tags": 1, '
            '"relationships_as_object": [], "relationships_as_subject": []}'
        )

    def _cheap_json(self, i: int, fl: tuple[str, ...]) -> str:
        """The fields of dataset ``i`` that need no generation (same values as :meth:`generate_json`)."""
        values = {"id": self.id_of(i), "name": self.name_of(i), "type": "dataset", "private": False,
                  "state": "active"}
        return "{" + ", ".join(f'"{f}": {_j(values[f])}' for f in fl) + "}"

    def generate(self, i: int) -> dict[str, Any]:
        return json.loads(self.generate_json(i))

    # ----------------------------------------------------------------- reading
    @property
    def mutated(self) -> bool:
        return bool(self._deleted) or bool(self._datasets)

    def iter_datasets(self) -> Iterator[dict[str, Any]]:
        for i in range(self.n):
            if i not in self._deleted:
                yield self.generate(i)
        yield from list(self._datasets.values())

    def dataset_count(self, *, include_private: bool = False) -> int:
        return self.n - len(self._deleted) + super().dataset_count(include_private=include_private)

    def get_dataset(self, name_or_id: str) -> dict[str, Any] | None:
        i = self.index_of(name_or_id)
        if i is not None and self._live(i):
            return self.generate(i)
        return super().get_dataset(name_or_id)

    def _fast_range(self, req: SearchRequest) -> range | None:
        """The indices of the page when no filter applies and the sort is monotonic in ``i``; else None."""
        fields = {f for f, _ in req.sort}
        descs = {d for _, d in req.sort}
        if (self.mutated or req.q or req.fq or req.facet_fields or not req.sort or not fields <= _MONOTONIC_SORTS
                or len(descs) != 1):
            return None
        stop = min(self.n, req.start + req.rows)
        if not descs.pop():
            return range(req.start, stop)
        return range(self.n - 1 - req.start, self.n - 1 - stop, -1)

    def search_raw(self, req: SearchRequest, *, authorized: bool = False) -> RawJSON | None:
        idx = self._fast_range(req)
        if idx is None or (req.fl and not set(req.fl) <= _CHEAP_FIELDS):
            return None
        if req.fl:  # an id-only listing (the crawl's reconciliation): Solr answers it from the index, so do we
            results = ", ".join(self._cheap_json(i, req.fl) for i in idx)
        else:
            results = ", ".join(self.generate_json(i) for i in idx)
        return RawJSON(f'{{"count": {self.n}, "facets": {{}}, "results": [{results}], "sort": {_j(req.sort_text)}, '
                       '"search_facets": {}}')

    def search(self, req: SearchRequest, *, authorized: bool = False) -> dict[str, Any]:
        idx = self._fast_range(req)
        if idx is None:
            return super().search(req, authorized=authorized)
        return {"count": self.n, "facets": {}, "results": [project(self.generate(i), req.fl) for i in idx],
                "sort": req.sort_text, "search_facets": {}}

    def package_names(self, offset: int = 0, limit: int | None = None) -> list[str]:
        if not self.mutated:
            stop = self.n if limit is None else min(self.n, offset + limit)
            return [self.name_of(i) for i in range(offset, stop)]
        names = [self.name_of(i) for i in range(self.n) if i not in self._deleted]
        names = sorted(names + [p["name"] for p in self._datasets.values()])
        return names[offset: None if limit is None else offset + limit]

    def package_count_by(self, kind: str) -> dict[str, int]:
        if kind == "organization":
            counts = {o["name"]: 0 for o in self._org_list}
            for k, org in enumerate(self._org_list):
                counts[org["name"]] = self.n // N_ORGANIZATIONS + (1 if k < self.n % N_ORGANIZATIONS else 0)
            for i in self._deleted:
                counts[self._org_list[i % N_ORGANIZATIONS]["name"]] -= 1
        else:
            g = len(self._group_list)
            counts = {grp["name"]: self.n // g + (1 if k < self.n % g else 0) for k, grp in enumerate(self._group_list)}
            for i in self._deleted:
                counts[self._group_list[i % g]["name"]] -= 1
        # Datasets added at run time only: the base implementation would regenerate all N synthetic ones.
        for pkg in list(self._datasets.values()):
            if pkg.get("state") != "active" or pkg.get("private"):
                continue
            refs = [pkg.get("organization") or {}] if kind == "organization" else (pkg.get("groups") or [])
            for ref in refs:
                if ref.get("name"):
                    counts[ref["name"]] = counts.get(ref["name"], 0) + 1
        return counts

    def tag_names(self) -> list[str]:
        return sorted(set(TOPICS) | set(super().tag_names()))

    def find_resource(self, res_id: str) -> dict[str, Any] | None:
        try:
            i = int(res_id[:8], 16)
        except ValueError:
            i = -1
        if self._live(i):
            for res in self.generate(i)["resources"]:
                if res["id"] == res_id:
                    return res
        return super().find_resource(res_id)

    # ----------------------------------------------------------------- writing
    def add_dataset(self, pkg: dict[str, Any]) -> dict[str, Any]:
        i = self.index_of(str(pkg.get("name") or ""))
        if i is not None and self._live(i):
            from audit.sample_portal.catalog import validation_error

            raise validation_error(name=["That URL is already in use."])
        return super().add_dataset(pkg)

    def delete_dataset(self, name_or_id: str) -> None:
        with self.lock:
            i = self.index_of(name_or_id)
            if i is not None and self._live(i):
                self._deleted.add(i)
                return
        super().delete_dataset(name_or_id)

    def replace_dataset(self, pkg: dict[str, Any]) -> dict[str, Any]:
        ref = str(pkg.get("id") or pkg.get("name") or "")
        i = self.index_of(ref)
        if i is not None and self._live(i):
            # materialise the generated dataset as an ordinary one, then update it
            with self.lock:
                self._deleted.add(i)
                base = self.generate(i)
                super().add_dataset(copy.deepcopy(base))
        return super().replace_dataset(pkg)
