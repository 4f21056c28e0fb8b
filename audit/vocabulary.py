"""Shared vocabulary of tabular content: what a date, a number and a summary ("Total") label look like, and the
kinds a column can have.

The content stage (pandas + Great Expectations) and the pure rules both speak it, so it lives here, below both,
with nothing heavier than ``re`` imported: ``import rules`` (and every ``crawl``, whose config validation loads
the rule registry) must not pay for pandas.
"""

from __future__ import annotations

import re
from enum import StrEnum

DATE_RE = re.compile(
    r"^\s*(?:\d{4}[-/]\d{1,2}(?:[-/]\d{1,2})?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?)\s*$"
)
DATE_REGEX = DATE_RE.pattern
#: a plain number, optionally with thousands commas and a decimal point («1,234.5»)
NUMBER_REGEX = r"^\s*[-+]?(?=[\d.,]*\d)(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?\s*$"
NUMBER_RE = re.compile(NUMBER_REGEX)
#: a record whose label says it is an aggregate, not a record ("Total", "Subtotal", "Gran total", "Suma")
#: The label is the whole cell: «Total», «TOTAL ESTATAL», «Subtotal Toluca», «Total Valle de México», «Gran total»,
#: «Total de la región I», «Suma», «Suma total». A name that merely starts with the word is a record: a company
#: («TOTAL PLAY TELECOMUNICACIONES, S.A.P.I. DE C.V.»: a comma or a corporate suffix), a programme («Suma por la
#: Educación»: nothing but «total/general» may follow «suma»), or a long text (at most four words after «total»
#: unless it continues with «de/del/por»).
SUMMARY_REGEX = (
    r"(?i)^\s*(?!.*(?:\bde\s+c\.?\s*v\b|\bs\.?\s*a\.?\s*p\.?\s*i\b|\b[as]\.\s*c\.\s*$))"
    r"(?:(?:gran\s+)?(?:sub)?total(?:es)?(?:\s+(?:de|del|por)\b.*|(?:\s+[^\s,;]+){0,4})"
    r"|sumas?(?:\s+(?:total|general))?)\s*[:.]?\s*$"
)
SUMMARY_RE = re.compile(SUMMARY_REGEX)


class ColumnKind(StrEnum):
    """What a loaded column holds (``ContentEvidence.column_kinds``); values are stored as plain strings."""

    NUMERIC = "numeric"  # a numeric dtype
    NUMERIC_TEXT = "numeric_text"  # mostly numbers stored as text: a type-consistency suspect
    DATE = "date"  # text that mostly looks like dates
    DATETIME = "datetime"  # a datetime dtype
    CODE = "code"  # INEGI codes / identifiers by column name: stays text (leading zeros matter)
    TEXT = "text"
    EMPTY = "empty"


#: kinds of likely personal data found in published files (audit/content/personal.py), as readers see them
PERSONAL_DATA_KINDS_ES = {
    "curp": "CURP",
    "rfc": "RFC de persona física",
    "voter_key": "clave de elector del INE",
    "email": "correo electrónico personal",
    "phone": "número telefónico",
    "column_name": "columna con nombre de dato personal",
}
