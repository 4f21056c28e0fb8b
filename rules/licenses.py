"""Licence vocabulary: resolve a dataset's licence (id, title or URL) to a category for *libre_uso*.

Categories: ``attribution`` and ``public_domain`` (only citing the source is required → pass), ``share_alike`` and
``other_open`` (extra conditions or manual review → partial), ``non_commercial``, ``no_derivatives``,
``closed``, ``not_specified`` and ``unknown`` (fail).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from rules._common import fold

ATTRIBUTION = "attribution"
PUBLIC_DOMAIN = "public_domain"
SHARE_ALIKE = "share_alike"
OTHER_OPEN = "other_open"
NON_COMMERCIAL = "non_commercial"
NO_DERIVATIVES = "no_derivatives"
CLOSED = "closed"
NOT_SPECIFIED = "not_specified"
UNKNOWN = "unknown"

CATEGORIES: tuple[str, ...] = (
    ATTRIBUTION, PUBLIC_DOMAIN, SHARE_ALIKE, OTHER_OPEN, NON_COMMERCIAL, NO_DERIVATIVES, CLOSED, NOT_SPECIFIED, UNKNOWN,
)

CATEGORY_ES = {
    ATTRIBUTION: "solo atribución",
    PUBLIC_DOMAIN: "dominio público",
    SHARE_ALIKE: "compartir igual",
    OTHER_OPEN: "otra licencia abierta (requiere revisión manual)",
    NON_COMMERCIAL: "no comercial",
    NO_DERIVATIVES: "sin obras derivadas",
    CLOSED: "licencia cerrada",
    NOT_SPECIFIED: "licencia no especificada",
    UNKNOWN: "licencia no reconocida",
}

#: built-in vocabulary: folded licence id, title or URL (without scheme/www/trailing slash) → category
DEFAULT_LICENSE_VOCABULARY: dict[str, str] = {
    # attribution
    "cc-by": ATTRIBUTION, "cc-by-4.0": ATTRIBUTION, "cc-by-3.0": ATTRIBUTION, "cc-by-2.5": ATTRIBUTION,
    "cc-by-2.0": ATTRIBUTION, "cc by": ATTRIBUTION, "cc by 4.0": ATTRIBUTION,
    "creative commons attribution": ATTRIBUTION, "creative commons attribution 4.0": ATTRIBUTION,
    "creative commons atribucion": ATTRIBUTION, "creative commons atribucion 4.0 internacional": ATTRIBUTION,
    "creative commons reconocimiento": ATTRIBUTION,
    "odc-by": ATTRIBUTION, "odc-by-1.0": ATTRIBUTION, "open data commons attribution license": ATTRIBUTION,
    "opendatacommons.org/licenses/by": ATTRIBUTION, "opendatacommons.org/licenses/by/1-0": ATTRIBUTION,
    "mx-terminos-libre-uso": ATTRIBUTION, "terminos-libre-uso": ATTRIBUTION, "terminos-de-libre-uso": ATTRIBUTION,
    "terminos de libre uso": ATTRIBUTION, "terminos de libre uso mx": ATTRIBUTION, "libre uso mx": ATTRIBUTION,
    "libre-uso-mx": ATTRIBUTION, "libreusomx": ATTRIBUTION, "mx-libre-uso": ATTRIBUTION,
    "datos.gob.mx/libreusomx": ATTRIBUTION, "terminos de libre uso de los datos abiertos": ATTRIBUTION,
    "uk-ogl": ATTRIBUTION, "ogl-uk-3.0": ATTRIBUTION, "ogl-uk-2.0": ATTRIBUTION, "ogl": ATTRIBUTION,
    "open government licence": ATTRIBUTION, "open government license": ATTRIBUTION,
    "uk open government licence (ogl)": ATTRIBUTION, "open government licence - canada": ATTRIBUTION,
    "ca-ogl-lgo": ATTRIBUTION, "licencia de gobierno abierto": ATTRIBUTION, "other-at": ATTRIBUTION,
    "other (attribution)": ATTRIBUTION, "dl-de-by-2.0": ATTRIBUTION, "etalab-2.0": ATTRIBUTION,
    "licence ouverte": ATTRIBUTION,
    # public domain
    "cc-zero": PUBLIC_DOMAIN, "cc0": PUBLIC_DOMAIN, "cc0-1.0": PUBLIC_DOMAIN, "creative commons cczero": PUBLIC_DOMAIN,
    "creative commons zero": PUBLIC_DOMAIN, "odc-pddl": PUBLIC_DOMAIN, "pddl": PUBLIC_DOMAIN,
    "odc-pddl-1.0": PUBLIC_DOMAIN, "open data commons public domain dedication and license (pddl)": PUBLIC_DOMAIN,
    "open data commons public domain dedication and license": PUBLIC_DOMAIN,
    "opendatacommons.org/licenses/pddl": PUBLIC_DOMAIN, "opendatacommons.org/licenses/pddl/1-0": PUBLIC_DOMAIN,
    "other-pd": PUBLIC_DOMAIN, "other (public domain)": PUBLIC_DOMAIN, "public domain": PUBLIC_DOMAIN,
    "dominio publico": PUBLIC_DOMAIN, "creativecommons.org/publicdomain/zero/1.0": PUBLIC_DOMAIN,
    "creativecommons.org/publicdomain/mark/1.0": PUBLIC_DOMAIN,
    # share-alike
    "cc-by-sa": SHARE_ALIKE, "cc-by-sa-4.0": SHARE_ALIKE, "cc-by-sa-3.0": SHARE_ALIKE,
    "creative commons attribution share-alike": SHARE_ALIKE, "odc-odbl": SHARE_ALIKE, "odbl": SHARE_ALIKE,
    "odbl-1.0": SHARE_ALIKE, "odc-odbl-1.0": SHARE_ALIKE, "open data commons open database license (odbl)": SHARE_ALIKE,
    "open data commons open database license": SHARE_ALIKE, "opendatacommons.org/licenses/odbl": SHARE_ALIKE,
    "opendatacommons.org/licenses/odbl/1-0": SHARE_ALIKE, "gfdl": SHARE_ALIKE,
    "gnu free documentation license": SHARE_ALIKE,
    # other open (needs manual review)
    "other-open": OTHER_OPEN, "other (open)": OTHER_OPEN, "otra (abierta)": OTHER_OPEN,
    # non-commercial / no-derivatives / closed
    "cc-nc": NON_COMMERCIAL, "cc-by-nc": NON_COMMERCIAL, "cc-by-nc-4.0": NON_COMMERCIAL,
    "cc-by-nc-sa": NON_COMMERCIAL, "cc-by-nc-sa-4.0": NON_COMMERCIAL, "cc-by-nc-nd": NON_COMMERCIAL,
    "cc-by-nc-nd-4.0": NON_COMMERCIAL, "creative commons non-commercial (any)": NON_COMMERCIAL,
    "other-nc": NON_COMMERCIAL, "other (non-commercial)": NON_COMMERCIAL,
    "cc-by-nd": NO_DERIVATIVES, "cc-by-nd-4.0": NO_DERIVATIVES, "cc-nd": NO_DERIVATIVES,
    "other-closed": CLOSED, "other (not open)": CLOSED, "other (closed)": CLOSED, "otra (cerrada)": CLOSED,
    "all rights reserved": CLOSED, "todos los derechos reservados": CLOSED, "copyright": CLOSED,
    "notspecified": NOT_SPECIFIED, "not specified": NOT_SPECIFIED, "license not specified": NOT_SPECIFIED,
    "licencia no especificada": NOT_SPECIFIED, "no especificada": NOT_SPECIFIED, "sin licencia": NOT_SPECIFIED,
}

_NC = re.compile(r"(?<![a-z])(nc|noncommercial|non commercial|no comercial|nocomercial|uso no comercial)(?![a-z])")
_ND = re.compile(r"(?<![a-z])(nd|noderivs|noderivatives|no derivatives|no derivs|sin derivadas|sinderivadas|"
                 r"sin obras derivadas|sin obra derivada|noderivadas|no derivadas)(?![a-z])")
_SA = re.compile(r"(?<![a-z])(sa|share alike|sharealike|compartir igual|compartirigual)(?![a-z])")


def license_key(value: Any) -> str:
    """Folded, comparable form of a licence id, title or URL (scheme, www., /legalcode, deed.xx stripped)."""
    text = fold(value)
    text = re.sub(r"^https?://", "", text)
    text = re.sub(r"^www\.", "", text)
    text = re.sub(r"/(legalcode|deed)(\.[a-z_-]+)?$", "", text)
    text = re.sub(r"\.(es|en|html?)$", "", text) if "creativecommons.org" in text else text
    return text.rstrip("/").strip()


def _cc_heuristic(key: str) -> str | None:
    """Creative Commons ids, titles and URLs not in the table ("CC BY-NC-SA 2.5 MX", "…/licenses/by-sa/4.0")."""
    spaced = re.sub(r"[-_/.,()]+", " ", key)
    is_cc = (
        "creative commons" in spaced
        or "creativecommons" in key
        or re.search(r"(?<![a-z0-9])cc(0|( |$))", spaced) is not None
    )
    if not is_cc:
        return None
    if "zero" in spaced or "cc0" in key or "publicdomain" in key:
        return PUBLIC_DOMAIN
    if _NC.search(spaced):
        return NON_COMMERCIAL
    if _ND.search(spaced):
        return NO_DERIVATIVES
    if _SA.search(spaced):
        return SHARE_ALIKE
    if re.search(r"(?<![a-z])(by|attribution|atribucion|reconocimiento)(?![a-z])", spaced):
        return ATTRIBUTION
    return None


@lru_cache(maxsize=64)
def _folded_vocabulary(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {license_key(k): v for k, v in items}


def classify(value: Any, vocabulary: Mapping[str, str] | None = None) -> str:
    """Category of one licence id / title / URL; :data:`UNKNOWN` if not recognised, NOT_SPECIFIED if blank."""
    key = license_key(value)
    if not key:
        return NOT_SPECIFIED
    vocab = _folded_vocabulary(tuple((vocabulary or DEFAULT_LICENSE_VOCABULARY).items()))
    if key in vocab:
        return vocab[key]
    found = _cc_heuristic(key)
    if found:
        return found
    if re.search(r"(?<![a-z])(odbl|open database license)(?![a-z])", key):
        return SHARE_ALIKE
    if re.search(r"(?<![a-z])(pddl|public domain dedication)(?![a-z])", key):
        return PUBLIC_DOMAIN
    if "libre uso" in key or "libreuso" in key:
        return ATTRIBUTION
    if "open government licen" in key:
        return ATTRIBUTION
    return UNKNOWN


def resolve(
    dataset: Mapping[str, Any],
    portal_licenses: Mapping[str, Mapping[str, Any]],
    vocabulary: Mapping[str, str] | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """Resolve the dataset's licence: (category, what was observed, facts).

    Tries, in order, the licence id, the portal's ``license_list`` entry for that id (title, URL), then the
    dataset's own ``license_title`` and ``license_url`` (case-insensitive). The first recognised one wins;
    an id known to the portal as OKD/OSD-conformant but absent from the vocabulary is ``other_open``.
    """
    lic_id = str(dataset.get("license_id") or "").strip()
    entry: Mapping[str, Any] = {}
    if lic_id:
        entry = portal_licenses.get(lic_id) or next(
            (v for k, v in portal_licenses.items() if fold(k) == fold(lic_id)), {}
        )
    candidates = [
        ("license_id", lic_id),
        ("license_list.title", entry.get("title")),
        ("license_list.url", entry.get("url")),
        ("license_title", dataset.get("license_title")),
        ("license_url", dataset.get("license_url")),
    ]
    for key in ("license", "licencia", "licence", "license_name"):
        if dataset.get(key):
            candidates.append((key, dataset.get(key)))
    for extra in dataset.get("extras") or []:
        if isinstance(extra, Mapping) and fold(extra.get("key")) in {"license", "licencia", "licence"}:
            candidates.append((f"extras.{extra.get('key')}", extra.get("value")))
    observed = lic_id or str(dataset.get("license_title") or dataset.get("license_url") or "").strip()
    facts: dict[str, Any] = {"license_id": lic_id or None}
    saw_any = False
    for source, value in candidates:
        if value is None or not str(value).strip():
            continue
        saw_any = True
        category = classify(value, vocabulary)
        if category != UNKNOWN:
            facts.update(matched_by=source, matched_value=str(value))
            return category, observed or str(value), facts
    if not saw_any:
        return NOT_SPECIFIED, "", facts
    if entry and (
        str(entry.get("od_conformance") or "").lower() == "approved"
        or str(entry.get("osd_conformance") or "").lower() == "approved"
        or entry.get("is_okd_compliant") is True
    ):
        facts.update(matched_by="license_list.conformance")
        return OTHER_OPEN, observed, facts
    return UNKNOWN, observed, facts
