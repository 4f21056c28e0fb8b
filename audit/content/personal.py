"""Likely personal data in a published table (LGPDPPSO): CURP, RFC of natural persons, INE voter keys, personal
e-mail addresses and phone numbers, and columns named like personal identifiers.

A hit is an alert for a person to decide, not a verdict: it names the column, the kind, how many values matched
and up to three **masked** examples (a full CURP, RFC, key, e-mail or phone number never leaves this module).
Patterns and words are configurable (``content.personal_data``). Values are validated, not just shaped: a CURP
needs its check digit and a real birth date, an RFC or voter key a real date, so codes of other kinds that happen
to have 18 or 13 characters are not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from audit.textnorm import strip_accents
from audit.vocabulary import PERSONAL_DATA_KINDS_ES

#: CURP: 4 letters, birth date, sex (H/M, X since 2023), state, 3 internal consonants, differentiator, check digit
_CURP = re.compile(
    r"^[A-Z][AEIOUX][A-Z]{2}(\d{2})(\d{2})(\d{2})[HMX]"
    r"(?:AS|BC|BS|CC|CL|CM|CS|CH|DF|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE)"
    r"[B-DF-HJ-NP-TV-Z]{3}[A-Z0-9]\d$"
)
_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
#: RFC of a natural person: 4 letters (a company's has 3), date, 3-character homoclave
_RFC_PERSON = re.compile(r"^[A-ZÑ&]{4}(\d{2})(\d{2})(\d{2})[A-Z0-9]{2}[0-9A]$")
#: INE voter key: 6 letters, birth date, state of birth (01–32, 87/88 abroad), sex, 3 digits
_VOTER_KEY = re.compile(r"^[A-Z]{6}(\d{2})(\d{2})(\d{2})(\d{2})[HM]\d{3}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})$")
#: a Mexican number: 10 digits, optionally +52 / 52 / 044 / 045 in front, spaces, dots, dashes and parentheses
_PHONE = re.compile(r"^(?:\+?52|044|045)?\d{10}$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")

KINDS_ES = PERSONAL_DATA_KINDS_ES


@dataclass(frozen=True, slots=True)
class PersonalDataHit:
    column: str
    kind: str  # one of KINDS_ES
    count: int  # values that matched (for column_name: non-empty values)
    examples: tuple[str, ...]  # masked

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "count": self.count, "examples": list(self.examples)}


def _valid_date(yy: str, mm: str, dd: str) -> bool:
    try:
        date(2000 + int(yy), int(mm), int(dd))  # any century: only month/day validity matters (29-02 in 2000 is valid)
    except ValueError:
        return False
    return True


def curp_check_digit(first17: str) -> int:
    """The RENAPO check digit of a CURP's first 17 characters."""
    total = sum(_CURP_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first17))
    return (10 - total % 10) % 10


def is_curp(value: str) -> bool:
    m = _CURP.match(value)
    return m is not None and _valid_date(*m.groups()) and curp_check_digit(value[:17]) == int(value[17])


def is_person_rfc(value: str) -> bool:
    m = _RFC_PERSON.match(value)
    return m is not None and _valid_date(*m.groups())


def is_voter_key(value: str) -> bool:
    m = _VOTER_KEY.match(value)
    if not m:
        return False
    yy, mm, dd, state = m.groups()
    return _valid_date(yy, mm, dd) and (1 <= int(state) <= 32 or state in ("87", "88"))


def mask(value: str, kind: str) -> str:
    """Enough to recognise the kind and find the row, never enough to identify the person."""
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}"
    if kind == "phone":
        digits = _PHONE_SEPARATORS.sub("", value)
        return "•" * (len(digits) - 2) + digits[-2:]
    if kind == "column_name":
        return "•" * min(len(value), 8)
    return value[:4] + "•" * (len(value) - 6) + value[-2:]


def fold(text: str) -> str:
    return strip_accents(text).casefold()


def _institutional(column_folded: str, words: list[str]) -> bool:
    return any(w in column_folded for w in words)


def _named(column_folded: str, names: list[str]) -> bool:
    tokens = re.sub(r"[^a-z0-9]+", " ", column_folded).strip()
    return any(re.search(rf"(?:^| ){re.escape(n)}(?: |$)", tokens) for n in names)


def _matching(values: pd.Series, counts: pd.Series, check: Any) -> tuple[int, list[str]]:
    if values.empty:
        return 0, []
    matched = values[values.map(check).astype(bool)]
    return int(counts[matched.index].sum()), list(matched.head(3))


def _distinct_counts(series: pd.Series) -> pd.Series:
    """Occurrences of each distinct non-empty value, stripped (distinct values first: stripping every cell of a
    100,000-row column costs more than counting them)."""
    counts = series.value_counts(dropna=True)
    keys = counts.index.astype(str).str.strip()
    counts = counts.set_axis(keys)
    if not keys.is_unique:
        counts = counts.groupby(level=0, sort=False).sum()
    return counts[counts.index != ""]


def _column_hits(series: pd.Series, *, institutional: bool, phone_column: bool,
                 personal_domains: set[str]) -> list[tuple[str, int, list[str]]]:
    counts = _distinct_counts(series)
    if counts.empty:
        return []
    values = pd.Series(counts.index, index=counts.index)
    lengths = values.str.len()
    found: list[tuple[str, int, list[str]]] = []
    for kind, length, check in (("curp", 18, is_curp), ("rfc", 13, is_person_rfc), ("voter_key", 18, is_voter_key)):
        n, examples = _matching(values[lengths == length].str.upper(), counts, check)  # indexed by original values
        if n:
            found.append((kind, n, examples))
    if institutional:
        return found  # an office's own e-mail and phone are meant to be public
    emails = values[values.str.contains("@", regex=False)]
    if not emails.empty:
        domains = emails.str.extract(_EMAIL, expand=False).str.lower()
        personal_emails = emails[domains.isin(personal_domains)]
        if not personal_emails.empty:
            found.append(("email", int(counts[personal_emails.index].sum()), list(personal_emails.head(3))))
    if phone_column:
        digits = values.str.replace(_PHONE_SEPARATORS, "", regex=True).str.removesuffix(".0")
        phones = values[digits.str.fullmatch(_PHONE).fillna(False).astype(bool)]
        if not phones.empty:
            found.append(("phone", int(counts[phones.index].sum()), list(phones.head(3))))
    return found


def _screen(values: Any, *, institutional: bool, phone_column: bool, personal_domains: set[str]) -> bool:
    """Whether any of a few thousand values could be personal data (plain Python: pandas' per-call overhead is
    larger than the work on so few values)."""
    for raw in set(values):
        if raw is None or raw != raw:  # None / NaN
            continue
        value = str(raw).strip()
        size = len(value)
        if size in (13, 18):
            upper = value.upper()
            if is_curp(upper) or is_person_rfc(upper) or is_voter_key(upper):
                return True
        if institutional:
            continue
        if "@" in value:
            m = _EMAIL.match(value)
            if m and m.group(1).lower() in personal_domains:
                return True
        if phone_column and _PHONE.match(_PHONE_SEPARATORS.sub("", value).removesuffix(".0")):
            return True
    return False


def scan(df: pd.DataFrame, settings: Any, *, screen_rows: int = 2_000) -> list[PersonalDataHit]:
    """Every likely personal-data column of ``df``. A column is first screened on ``screen_rows`` rows spread over
    the whole file and counted in full only when the screen finds something: personal data fill a column, they do
    not hide in one row, and a full count of every text column would double the cost of the content stage."""
    if not settings.enabled or df.empty:
        return []
    institutional_words = [fold(w) for w in settings.institutional_column_words]
    personal_domains = {d.lower() for d in settings.personal_email_domains}
    name_words = [re.sub(r"[^a-z0-9]+", " ", fold(w)).strip() for w in settings.column_words]
    phone_words = [re.sub(r"[^a-z0-9]+", " ", fold(w)).strip() for w in settings.phone_column_words]
    step = max(1, len(df) // screen_rows)
    hits: list[PersonalDataHit] = []
    for position, column in enumerate(df.columns):
        name = str(column)
        folded = fold(name)
        institutional = _institutional(folded, institutional_words)
        phone_column = not institutional and _named(folded, phone_words)
        series = df.iloc[:, position]
        if series.dtype.kind in "biufcmM" and not phone_column:
            continue  # numbers and dates cannot hold these codes, e-mails or names
        screened = series.iloc[::step].to_numpy(dtype=object) if step > 1 else series.to_numpy(dtype=object)
        found: list[tuple[str, int, list[str]]] = []
        if _screen(screened, institutional=institutional, phone_column=phone_column,
                   personal_domains=personal_domains):
            found = _column_hits(series, institutional=institutional, phone_column=phone_column,
                                 personal_domains=personal_domains)
        for kind, n, examples in found:
            hits.append(PersonalDataHit(name, kind, n, tuple(mask(v, kind) for v in examples)))
        if not found and not institutional and _named(folded, name_words):
            hits.append(PersonalDataHit(name, "column_name", int(series.count()), ()))
    return hits
