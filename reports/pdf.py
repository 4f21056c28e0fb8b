"""A report's HTML laid out as an archival PDF (WeasyPrint), and what makes that cheaper without changing a page.

WeasyPrint's cost is per box and per document. A run writes hundreds of reports that share one stylesheet, so per
process: the stylesheet is parsed once (its colour variables resolved), one font configuration serves every
document, and the HTML, which the templates write as well-formed markup, is parsed by the standard library's XML
parser (expat) instead of WeasyPrint's HTML5 parser, written in Python; WeasyPrint's browser stylesheet is trimmed
of the rules that gave every element six styles for pseudo-elements no report has; and its streams are compressed
at zlib's default level instead of the slowest. Each of these is checked against
WeasyPrint's own path, page by page (tests/test_reports.py; measurements in docs/benchmarks.md).

Only ``data:`` URLs are fetched: WeasyPrint's default fetcher would read ``file://`` paths and fetch remote images
into the PDF.
"""

from __future__ import annotations

import gc
import logging
import re
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: explicit bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

#: archival PDFs (ISO 19005-3, level B): fonts embedded, colour profile, XMP identification; attachments allowed
PDF_VARIANT = "pdf/a-3b"


def make_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and refuses everything else (recorded in ``refused``)."""
    from weasyprint.urls import URLFetcher

    class _DataOnly(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=5)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                self.refused.append(url)
                raise ValueError(f"URL refused (only data: URLs are allowed in reports): {url[:200]}")
            return super().fetch(url, headers)

    return _DataOnly()


@dataclass(frozen=True, slots=True)
class PdfAttachment:
    """A file embedded in the PDF (PDF/A-3 associated file): the data the document is based on."""

    name: str
    data: bytes
    description: str


# ---------------------------------------------------------------------------------------------- the HTML laid out

#: markup that only screen readers and browsers use: ``<bdi>`` around untrusted strings (bidirectional isolation)
#: and the ``aria-hidden`` span that keeps a status symbol from being read aloud
_SCREEN_ONLY_MARKUP = re.compile(r'</?bdi>|<span class="sym" aria-hidden="true">([^<]*)</span>')


def print_html(html: str) -> str:
    """The HTML a PDF is laid out from: the report's HTML without the markup that only screen readers and browsers
    use. WeasyPrint lays out a box per element and the PDF is not a tagged one, so that markup cost a tenth of an
    organization report's layout and showed nothing (docs/benchmarks.md). Without ``<bdi>``, an untrusted string
    could reorder the text around it through explicit bidirectional controls, so those are removed here too, for
    HTML that did not come from ``render_html`` (right-to-left letters still show in their order). Only what
    the templates write is matched: untrusted text is escaped and can never contain a tag."""
    return BIDI_CONTROLS.sub("", _SCREEN_ONLY_MARKUP.sub(lambda m: m.group(1) or "", html))


#: the report's one ``<style>`` element (``_base.html``): every report of a run carries the same stylesheet
_STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.S)
_ROOT_RULE = re.compile(r":root\s*\{([^}]*)\}")
_CUSTOM_PROPERTY = re.compile(r"(--[\w-]+)\s*:\s*([^;{}]+);")
_VAR = re.compile(r"var\((--[\w-]+)\)")


def resolve_root_variables(css: str) -> str:
    """``css`` with the custom properties of its ``:root`` rule written in place of every ``var()``. WeasyPrint
    carries custom properties into the style of every element and resolves ``var()`` element by element: a
    thirtieth of an organization report's layout for fifteen colours (docs/benchmarks.md). Anything this does not
    fully understand (a ``:root`` rule with other declarations, a ``var()`` with a fallback or an unknown name) is
    left as it is, and WeasyPrint resolves it as before."""
    root = _ROOT_RULE.search(css)
    if root is None or _CUSTOM_PROPERTY.sub("", root.group(1)).strip():
        return css
    values = {name: value.strip() for name, value in _CUSTOM_PROPERTY.findall(root.group(1))}
    rest = css[:root.start()] + css[root.end():]
    resolved = _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), rest)
    return css if "var(" in resolved else resolved


@lru_cache(maxsize=1)
def _font_config() -> Any:
    """One font configuration per process: WeasyPrint otherwise loads Fontconfig's configuration and font list
    again for every document (docs/benchmarks.md)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=4)
def _stylesheet(css: str) -> Any:
    """The report stylesheet parsed once per process (it is the same for every report of a run), its colour
    variables resolved. A stylesheet refers to no URL; one that did would be refused like any other
    (``make_fetcher``)."""
    from weasyprint import CSS

    return CSS(string=resolve_root_variables(css), url_fetcher=make_fetcher(), font_config=_font_config())


def split_stylesheet(html: str) -> tuple[str, list[Any]]:
    """``html`` without its ``<style>`` element, and that stylesheet parsed (cached). The stylesheet is then applied
    with the user origin instead of the author one, which orders it the same against the only other sources: the
    browser defaults below it, the ``style`` attributes above it (the report's CSS has no ``!important``)."""
    match = _STYLE_ELEMENT.search(html)
    if match is None:
        return html, []
    return html[:match.start()] + html[match.end():], [_stylesheet(match.group(1))]


#: HTML's void elements as the templates write them («<br>»), to be closed for the XML parser («<br/>»). Text and
#: attribute values are escaped, so a «<» only ever starts a tag.
_VOID_ELEMENT = re.compile(r"<(area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)\b([^<>]*?)/?>")
_DOCTYPE = re.compile(r"\A\s*<!DOCTYPE html>", re.I)


def xml_tree(html: str) -> ET.Element | None:
    """The element tree of ``html`` parsed as XML (expat, in C: a fiftieth of the time of WeasyPrint's HTML5
    parser), or None when ``html`` is not also well-formed XML (an HTML-only entity such as ``&nbsp;``, an
    attribute without a value, an end tag HTML lets one leave out); the caller then lets WeasyPrint parse it.
    The reports' templates write well-formed markup; a test holds every report to the same tree as the HTML5
    parser's."""
    try:
        return ET.fromstring(_VOID_ELEMENT.sub(r"<\1\2/>", _DOCTYPE.sub("", html, count=1)))
    except ET.ParseError:
        return None


def _document(html: str, fetcher: Any) -> Any:
    """A WeasyPrint document of ``html``, from the XML tree when there is one (``xml_tree``). No base URL either
    way: relative links stay links, and nothing is resolved against the file system."""
    from weasyprint import HTML

    root = xml_tree(html)
    if root is None:
        log.debug("HTML no es XML bien formado: lo analiza WeasyPrint")
        return HTML(string=html, base_url=None, url_fetcher=fetcher)
    return _parsed_html_class()(root, fetcher)


#: rules of WeasyPrint's browser stylesheet that match a pseudo-element of *every* element. WeasyPrint computes a
#: style for each (element, pseudo-element) pair a rule matches, so these six gave every element six styles that no
#: report uses: a marker exists only on a list item (``li``, the only ``display: list-item`` of the browser
#: stylesheet and of the reports'), and the reports have no footnotes or notes (``float: footnote``; a test keeps it
#: so). ``trim_user_agent_stylesheet`` narrows the first to ``li`` and drops the rest.
UA_UNIVERSAL_PSEUDO_RULES = (
    ("::marker {", "li::marker {"),
    *((f"::{name} {{", None) for name in ("footnote-call", "footnote-marker", "note-call", "note-marker",
                                            "note-callback")),
)


def trim_user_agent_stylesheet(ua: str) -> str | None:
    """``ua`` (WeasyPrint's browser stylesheet) with ``UA_UNIVERSAL_PSEUDO_RULES`` narrowed or dropped, or None
    when a rule is not found as expected (another WeasyPrint version: its own stylesheet is then used unchanged)."""
    lines = ua.splitlines(keepends=True)
    for start, replacement in UA_UNIVERSAL_PSEUDO_RULES:
        found = [i for i, line in enumerate(lines) if line.startswith(start) and line.rstrip().endswith("}")]
        if len(found) != 1:
            return None
        lines[found[0]] = "" if replacement is None else replacement + lines[found[0]][len(start):]
    return "".join(lines)


@lru_cache(maxsize=1)
def _user_agent_stylesheets() -> list[Any]:
    """The browser stylesheet the reports are laid out with (``trim_user_agent_stylesheet``), parsed once."""
    from weasyprint import CSS
    from weasyprint.css.counters import CounterStyle
    from weasyprint.html import UA, UA_STYLESHEET

    trimmed = trim_user_agent_stylesheet(UA)
    if trimmed is None:
        log.warning("La hoja de estilos base de WeasyPrint cambió: se usa sin recortar (reports.pdf)")
        return [UA_STYLESHEET]
    # its @counter-style rules are WeasyPrint's own, already in the counter styles every document starts from
    return [CSS(string=trimmed, counter_style=CounterStyle())]


@lru_cache(maxsize=1)
def _parsed_html_class() -> type:
    import cssselect2
    from weasyprint import HTML

    class ParsedHTML(HTML):  # type: ignore[misc]
        """WeasyPrint's HTML document built from a tree that is already parsed: the attributes HTML.__init__ sets
        after parsing (WeasyPrint 70, pinned in uv.lock; the tests compare its pages with WeasyPrint's own path),
        laid out with the trimmed browser stylesheet (``_user_agent_stylesheets``)."""

        def __init__(self, root: ET.Element, fetcher: Any) -> None:  # not HTML.__init__: it would parse again
            self.base_url = None
            self.url_fetcher = fetcher
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            # a report has no form fields; WeasyPrint's own stylesheets if one ever did
            return super()._ua_stylesheets(forms) if forms else _user_agent_stylesheets()  # type: ignore[no-any-return]

    return ParsedHTML


#: zlib level of the PDF's streams: pydyf compresses at 9, which took two and a half times the CPU of zlib's
#: default 6 on report pages for files 1.5 % smaller (docs/benchmarks.md)
PDF_ZLIB_LEVEL = 6


def compress_streams(_document: Any, pdf: Any) -> None:
    """WeasyPrint finisher (called with the PDF before it is written): Flate-encode its streams at
    ``PDF_ZLIB_LEVEL``, as pydyf would at level 9. Only streams made of bytes are taken (every stream of a report
    is); anything else is left to pydyf."""
    import pydyf

    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and obj.compress and all(isinstance(item, bytes) for item in obj.stream):
            obj.stream = [zlib.compress(b"\n".join(obj.stream), PDF_ZLIB_LEVEL)]
            obj.extra["Filter"] = "/FlateDecode"
            obj.compress = False


def html_to_pdf(html: str, path: Path, attachments: list[PdfAttachment] | None = None) -> list[str]:
    """Write ``html`` (after :func:`print_html`) as a PDF/A-3b at ``path`` with ``attachments``; only ``data:`` URLs
    are fetched. Returns the refused URLs."""
    from weasyprint import Attachment

    fetcher = make_fetcher()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    files = [Attachment(string=a.data, name=a.name, description=a.description, relationship="Data",
                        url_fetcher=fetcher) for a in attachments or []]
    body, stylesheets = split_stylesheet(print_html(html))
    _document(body, fetcher).write_pdf(tmp, pdf_variant=PDF_VARIANT, attachments=files, stylesheets=stylesheets,
                                       font_config=_font_config(), finisher=compress_streams)
    tmp.replace(path)
    # the laid-out document is garbage now: collect it before the next one (the portal writes one PDF per annex
    # chunk in the same job, and with layout_gc's thresholds its cycles would otherwise wait for a full collection)
    gc.collect()
    if fetcher.refused:
        log.warning("Informe %s: se rechazaron %d URL externas", path.name, len(fetcher.refused))
    return list(fetcher.refused)
