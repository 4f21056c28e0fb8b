"""Turning an HTTP exchange into an outcome: login/payment walls, landing pages, header parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

from audit.clock import to_utc
from audit.outcomes import Outcome

#: declared formats for which an HTML answer is what was promised (not a landing page)
HTML_FORMATS = frozenset({"html", "htm", "xhtml", "web", "url", "link", "pagina web", "página web", "website", "api"})

_PASSWORD_INPUT = re.compile(r"<input\b[^>]*\btype\s*=\s*[\"']?password", re.I)
_LOGIN_FORM = re.compile(
    r"<form\b[^>]*(?:login|signin|sign-in|iniciar|sesion|sesión|auth|acceso|account|cuenta)[^>]*>", re.I
)
_LOGIN_TEXT = re.compile(r"inici(?:ar|e)\s+sesi[oó]n|log\s*in\b|sign\s*in\b|ingrese\s+su\s+(?:usuario|contrase)", re.I)
_FORM = re.compile(r"<form\b", re.I)
_CARD_INPUT = re.compile(
    r"<input\b[^>]*\bname\s*=\s*[\"']?(?:cc-?number|card|cardnumber|tarjeta|numero_tarjeta|cvv|cvc)", re.I
)
_TITLE = re.compile(r"<(title|h1|h2)\b[^>]*>(.{0,300}?)</\1>", re.I | re.S)

WALL_SCAN_CHARS = 256 * 1024


def url_words_match(url: str, words: Iterable[str]) -> str | None:
    """The first configured word that appears as a token in the URL's path or query (``/cuenta/login?next=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    hay = unquote(f"{parts.path}?{parts.query}").lower()
    for word in words:
        w = word.lower()
        if re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", hay):
            return word
    return None


def detect_wall(html: str, *, payment_words: Iterable[str]) -> str | None:
    """``"login"``, ``"payment"`` or None for an HTML page.

    A login wall has a password field, or a form whose attributes say login, or "iniciar sesión" next to a form.
    A payment page has card-number inputs, or a payment word in its title/headings (a word anywhere in the
    body is not enough: government pages mention "pago de derechos" all the time).
    """
    text = html[:WALL_SCAN_CHARS]
    if _PASSWORD_INPUT.search(text) or _LOGIN_FORM.search(text):
        return "login"
    if _FORM.search(text) and _LOGIN_TEXT.search(text):
        return "login"
    if _CARD_INPUT.search(text):
        return "payment"
    headings = " ".join(m.group(2) for m in _TITLE.finditer(text)).lower()
    for word in payment_words:
        if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", headings):
            return "payment"
    return None


def classify_forbidden(headers: Mapping[str, str], body: bytes, urls: Iterable[str], *,
                       login_words: Iterable[str]) -> tuple[Outcome, str]:
    """(outcome, reason) of a 403. Only a sign of registration makes it a login wall: a ``WWW-Authenticate``
    challenge, a redirect through a login or sign-up page, or a login form in the page. A bare 403 says the data
    cannot be reached (*accesibles*), not that an account would open them (*no discriminatorios*)."""
    if headers.get("WWW-Authenticate"):
        return Outcome.AUTH_REQUIRED, "http_403_authenticate"
    if any(url_words_match(u, login_words) for u in urls):
        return Outcome.AUTH_REQUIRED, "login_redirect"
    if body and detect_wall(body[:WALL_SCAN_CHARS].decode("utf-8", "replace"), payment_words=()) == "login":
        return Outcome.AUTH_REQUIRED, "login_form"
    return Outcome.CLIENT_ERROR, "http_403"


def declared_is_html(declared_format: str | None) -> bool:
    if not declared_format:
        return False
    return declared_format.strip().lower().lstrip(".") in HTML_FORMATS


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return to_utc(dt)


def parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if n >= 0 else None


def total_from_content_range(value: str | None) -> int | None:
    """The full size from ``Content-Range: bytes 0-99/12345`` (None for ``*``)."""
    if not value or "/" not in value:
        return None
    return parse_int(value.rsplit("/", 1)[1])


def filename_hint(url: str, content_disposition: str | None) -> str | None:
    if content_disposition:
        m = re.search(r"filename\*?\s*=\s*(?:UTF-8'')?\"?([^\";]+)", content_disposition, re.I)
        if m:
            return unquote(m.group(1)).strip()
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    name = unquote(path.rsplit("/", 1)[-1])
    return name or None


def clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[:limit]
