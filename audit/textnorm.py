"""Text normalisation shared by matching code (commitments, reviews, vocabularies, rules) and by slugs."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_accents(text: str) -> str:
    """'Año político' → 'Ano politico' (compatibility decomposition, combining marks dropped; case kept)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slug(text: str) -> str:
    """'Calidad del Aire (2024)' → 'calidad-del-aire-2024': accent-free, lower-case, runs of anything else → '-'."""
    return _NON_ALNUM.sub("-", strip_accents(text).lower()).strip("-")


def match_key(text: str | None) -> str:
    """Key that ignores case, accents, spacing and punctuation: 'Calidad del Aire' == 'calidad-del-aire'."""
    if not text:
        return ""
    return _NON_ALNUM.sub("", strip_accents(str(text)).casefold())
