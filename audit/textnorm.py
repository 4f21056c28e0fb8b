"""Text normalisation shared by matching code (commitments, reviews, vocabularies)."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def match_key(text: str | None) -> str:
    """Key that ignores case, accents, spacing and punctuation: 'Calidad del Aire' == 'calidad-del-aire'."""
    if not text:
        return ""
    return _NON_ALNUM.sub("", strip_accents(str(text)).casefold())
