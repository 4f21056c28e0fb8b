"""Annual reports (issue 6): HTML + PDF for the portal and every organization, rendered from a real SQLite store.

HTML checks use a strict ``html.parser``-based checker (balanced tags, unique ids, no scripts, no external
resources) and, when installed, HTML Tidy 5 as validator (no errors, no warnings); PDF checks use poppler-utils
(``pdfinfo``, ``pdftotext``, ``pdftoppm``).
"""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from audit.config import AuditConfig
from audit.errors import ConfigError
from reports import charts
from reports.format import fmt_date, fmt_int, fmt_pct, fmt_score, plural
from reports.model import build_organization_report, build_portal_report
from reports.pdf import html_to_pdf
from reports.render import org_file, render_html, render_reports

sys.path.insert(0, str(Path(__file__).parent))
from test_reports_store import HOSTILE_TITLE, LONG_TITLE, open_populated  # noqa: E402

POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils no instalado (apt-get install -y poppler-utils)")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout


def pdfpages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True, timeout=60).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- HTML checker

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictChecker(HTMLParser):
    """Balanced tags, unique ids, and nothing that would load or run anything outside the document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.in_style = False
        self.style = ""

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.add(tag)
        a = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "base", "link"):
            self.errors.append(f"forbidden <{tag}>")
        for key, value in attrs:
            if key.startswith("on"):
                self.errors.append(f"event handler {key} on <{tag}>")
            if key == "src" and not (value or "").startswith("data:"):
                self.errors.append(f"external src {value!r}")
            if key == "href" and value and re.match(r"^[a-z][a-z0-9+.-]*:", value, re.I):
                self.errors.append(f"absolute href {value!r}")
        if "id" in a:
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']!r}")
            self.ids.add(a["id"] or "")
        if tag == "style":
            self.in_style = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "style":
            self.in_style = False
        if tag in VOID:
            self.errors.append(f"end tag for void <{tag}>")
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self.in_style:
            self.style += data


def check_html(html: str) -> StrictChecker:
    assert html.startswith("<!DOCTYPE html>")
    checker = StrictChecker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors[:10]
    assert not checker.stack, f"unclosed: {checker.stack}"
    assert "@import" not in checker.style and not re.search(r"url\((?!\s*['\"]?data:)", checker.style)
    assert {"html", "head", "title", "body", "h1", "h2", "table", "th"} <= checker.tags
    return checker


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Two years of runs, 5 organizations (one hostile, one empty), rendered with 2 worker processes."""
    tmp = tmp_path_factory.mktemp("reports")
    built = open_populated(f"sqlite:///{tmp / 'audit.db'}", orgs=5, datasets_per_org=3)
    out_dir = tmp / "salida" / "2026" / "reports"
    output = render_reports(built.store, built.runs[2026], out_dir, cfg=AuditConfig(), workers=2)
    return built, out_dir, output


# ---------------------------------------------------------------------------------------------- formatting


def test_format_uses_es_mx_numbers_percentages_and_dates():
    from datetime import UTC, date, datetime

    assert fmt_int(1234) == "1,234"
    assert fmt_pct(75) == "75.0\u00a0%"  # non-breaking space before «%»
    assert fmt_score(0.825) == "82.5"
    assert fmt_date(date(2026, 11, 26)) == "26 de noviembre de 2026"
    # 03:00 UTC on the 27th is still the 26th in Mexico City
    assert fmt_date(datetime(2026, 11, 27, 3, 0, tzinfo=UTC)) == "26 de noviembre de 2026"
    assert plural(69, "conjunto") == "69 conjuntos"
    assert plural(1, "organización", "organizaciones") == "1 organización"
    assert fmt_pct(None) == "—"


def test_chart_is_svg_data_url_with_escaped_labels_and_text_alternative():
    chart = charts.hbar_chart(["<script>alert(1)</script> $x^2$ Órgano", "Secretaría"], [75.0, None],
                              title="Prueba", alt="Barras de prueba")
    assert chart.svg.startswith("<svg") and "<script" not in chart.svg
    assert "&lt;script&gt;" in chart.svg and "$x^2$" in chart.svg  # mathtext disabled: shown literally
    assert chart.data_url.startswith("data:image/svg+xml;base64,")
    assert chart.rows == (("<script>alert(1)</script> $x^2$ Órgano", "75.0\u00a0%"), ("Secretaría", "sin dato"))


def test_org_file_names_are_safe_and_never_overwrite_the_portal_report():
    assert org_file("secretaria-de-finanzas") == "secretaria-de-finanzas"
    for hostile in ("index", "portal", "../../etc/passwd", "Órgano con espacios", ""):
        stem = org_file(hostile)
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", stem) and stem not in ("index", "portal")
    assert org_file("a b") != org_file("a-b ")


# ---------------------------------------------------------------------------------------------- outputs


def test_every_organization_gets_html_and_pdf_including_the_empty_one(rendered):
    built, out_dir, output = rendered
    assert output.errors == {}
    assert (out_dir / "index.html").is_file() and (out_dir / "portal.pdf").is_file()
    assert set(output.organizations) == set(built.org_names)
    for name in built.org_names:
        assert (out_dir / f"{name}.html").stat().st_size > 1000
        assert (out_dir / f"{name}.pdf").read_bytes().startswith(b"%PDF-")
    assert built.empty_org in output.organizations


def test_html_reports_are_self_contained_and_well_formed(rendered):
    _built, out_dir, _output = rendered
    for path in sorted(out_dir.glob("*.html")):
        html = path.read_text(encoding="utf-8")
        checker = check_html(html)
        assert '<html lang="es-MX">' in html
        assert "https://" not in checker.style and "http://" not in checker.style
        assert re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="[^"]{20,}"', html) or "sin-conjuntos" in path.name


@pytest.mark.skipif(not shutil.which("tidy"), reason="HTML Tidy no instalado (apt-get install -y tidy)")
def test_html_reports_pass_html_tidy_without_errors_or_warnings(rendered):
    _built, out_dir, _output = rendered
    for path in sorted(out_dir.glob("*.html")):
        proc = subprocess.run(["tidy", "-errors", "-quiet", "-utf8", str(path)], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0 and not proc.stderr.strip(), f"{path.name}: {proc.stderr[:500]}"


def test_hostile_metadata_stays_escaped_in_html(rendered):
    _built, out_dir, output = rendered
    portal = (out_dir / "index.html").read_text(encoding="utf-8")
    org = (out_dir / "organo-hostil.html").read_text(encoding="utf-8")
    for html in (portal, org):
        assert "<script>alert" not in html and "<b>vehicular" not in html
        assert 'src="file:' not in html and 'src="http' not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in org or "&lt;script&gt;alert(" in org
    assert "بيانات مفتوحة" in org and "🚗📊" in org  # RTL text and emoji kept as text, isolated in <bdi>
    assert "<bdi>&lt;script&gt;" in org
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in org  # description shown as text, not an image
    assert output.refused_urls == 0  # nothing in the reports even asked for a URL
    # a right-to-left override in the description is dropped, in the HTML and in the PDF
    assert "\u202e" not in org and "Anexo gpj.exe" in org
    if POPPLER:
        pdf = " ".join(pdftext(out_dir / "organo-hostil.pdf").split())
        assert "Anexo gpj.exe" in pdf and "exe.jpg" not in pdf


@needs_poppler
def test_pdf_is_laid_out_without_screen_reader_markup_and_without_bidi_overrides(tmp_path):
    from reports.pdf import print_html

    # a right-to-left override would show this file name backwards («exe.jpg»): <bdi> isolates it in the HTML,
    # and the PDF, laid out without <bdi>, drops the invisible control instead
    html = ('<!DOCTYPE html><html lang="es-MX"><head><meta charset="utf-8"><title>t</title></head><body>'
            '<p>Archivo «<bdi>\u202egpj.exe</bdi>»: <span class="badge st-fail"><span class="sym" aria-hidden="true">'
            '✘</span> No cumple</span> · «<bdi>بيانات</bdi>»</p></body></html>')
    printed = print_html(html)
    assert "<bdi>" not in printed and 'class="sym"' not in printed and "\u202e" not in printed
    assert "«gpj.exe»" in printed and '<span class="badge st-fail">✘ No cumple</span>' in printed
    assert "«بيانات»" in printed  # right-to-left letters stay
    pdf = tmp_path / "x.pdf"
    html_to_pdf(html, pdf)
    text = " ".join(pdftext(pdf).split())
    assert "«gpj.exe»: ✘ No cumple" in text and "exe.jpg" not in text


def test_report_stylesheet_colour_variables_are_resolved_and_anything_else_is_left_alone():
    from reports.pdf import resolve_root_variables
    from reports.render import TEMPLATES_DIR

    css = ":root {\n  --ink: #1f2933; --fail-bg: #fbe4e2;\n}\np { color: var(--ink); }\ntd.x { background: var(--fail-bg); }"
    assert resolve_root_variables(css) == "\np { color: #1f2933; }\ntd.x { background: #fbe4e2; }"
    # what it does not fully understand stays for WeasyPrint to resolve
    for kept in (":root { --ink: #111; color: red; } p { color: var(--ink); }",  # :root with other declarations
                 ":root { --ink: #111; } p { color: var(--ink, black); }",  # a fallback
                 ":root { --ink: #111; } p { color: var(--unknown); }",  # an unknown name
                 "p { color: var(--ink); }"):  # no :root rule
        assert resolve_root_variables(kept) == kept
    # the reports' own stylesheet is resolved completely
    resolved = resolve_root_variables((TEMPLATES_DIR / "_report.css").read_text(encoding="utf-8"))
    assert "var(" not in resolved and ":root" not in resolved and "#a3201a" in resolved


@needs_poppler
def test_pdf_laid_out_with_the_shared_stylesheet_looks_exactly_like_the_inline_one(rendered, tmp_path):
    """html_to_pdf lays out with the stylesheet parsed once per process (user origin, colours resolved), one
    font configuration and the trimmed browser stylesheet: every page must be the page WeasyPrint makes from the
    report's own <style> with its own browser stylesheet."""
    from weasyprint import HTML

    from reports.pdf import PDF_VARIANT, make_fetcher, print_html

    _built, out_dir, _output = rendered
    html = (out_dir / "organo-hostil.html").read_text(encoding="utf-8")  # hostile metadata, findings, a chart
    # numbered and bulleted lists (the markers the trimmed browser stylesheet still styles) are on these pages
    assert '<ol class="actions">' in html and '<ul class="targets">' in html
    shared, inline = tmp_path / "shared.pdf", tmp_path / "inline.pdf"
    html_to_pdf(html, shared)
    html_to_pdf(html, tmp_path / "again.pdf")  # the cached stylesheet, a second time
    HTML(string=print_html(html), base_url=None, url_fetcher=make_fetcher()).write_pdf(inline, pdf_variant=PDF_VARIANT)

    def pages(pdf: Path) -> list[bytes]:
        prefix = tmp_path / pdf.stem
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(prefix)], check=True, timeout=120)
        return [p.read_bytes() for p in sorted(tmp_path.glob(f"{pdf.stem}-*.png"))]

    expected = pages(inline)
    assert len(expected) >= 3
    assert pages(shared) == expected and pages(tmp_path / "again.pdf") == expected
    assert pdftext(shared) == pdftext(inline)


def _laid_out_tree(root):  # type: ignore[no-untyped-def]
    """Elements in document order as (tag, attributes, text, tail), comments left out. The whitespace that the HTML5
    parser moves around ``<body>`` (before ``<head>``, after ``</body>``) is left out too: it lays out to nothing."""
    body = root.find("body")
    edges = {id(root), id(body), id(body[-1]) if body is not None and len(body) else None}
    out = []
    for e in root.iter():
        if not isinstance(e.tag, str):
            continue
        text, tail = e.text or "", e.tail or ""
        if id(e) in edges:
            text = "" if e is root or not text.strip() else text
            tail = tail if tail.strip() else ""
        out.append((e.tag, dict(e.attrib), text, tail))
    return out


def test_every_report_is_laid_out_from_the_same_tree_the_html5_parser_builds(rendered):
    """html_to_pdf parses the reports with the XML parser (expat); each report, as the PDF lays it out, must give
    the tree WeasyPrint's HTML5 parser gives: the templates write well-formed markup (void elements aside)."""
    import tinyhtml5

    from reports.pdf import print_html, split_stylesheet, xml_tree
    from reports.render import portal_charts

    built, out_dir, _output = rendered
    report = build_portal_report(built.store, built.runs[2026])
    # the portal's PDF without its annex, and one annex part, as _render_portal lays them out
    pages = [render_html("portal.html", report=report, charts=portal_charts(report), annex_in_document=False,
                         annex_parts=[("portal-anexo-1.pdf", 1, 5), ("portal-anexo-2.pdf", 6, len(report.annex))]),
             render_html("portal_annex.html", report=report, rows=report.annex[:5], part=1, parts=2, first=1, last=5)]
    pages += [p.read_text(encoding="utf-8") for p in sorted(out_dir.glob("*.html"))]
    assert len(pages) >= 8
    for html in pages:
        body, sheets = split_stylesheet(print_html(html))
        assert len(sheets) == 1 and "<style>" not in body
        tree = xml_tree(body)
        assert tree is not None, html[:300]
        expected = _laid_out_tree(tinyhtml5.parse(body, namespace_html_elements=False))
        assert _laid_out_tree(tree) == expected and len(expected) > 100


def test_pdf_streams_are_flate_encoded_at_the_default_level_and_others_left_to_pydyf():
    import zlib

    import pydyf

    from reports.pdf import PDF_ZLIB_LEVEL, compress_streams

    pdf = pydyf.PDF()
    page = pydyf.Stream([b"BT", b"/F1 12 Tf", b"(Hola) Tj", b"ET"], compress=True)
    other = pydyf.Stream([pydyf.Dictionary({"A": 1})], compress=True)  # not bytes: pydyf encodes it as before
    plain = pydyf.Stream([b"q Q"])  # not to be compressed
    for obj in (page, other, plain):
        pdf.add_object(obj)
    compress_streams(None, pdf)
    assert page.compress is False and page.extra["Filter"] == "/FlateDecode"
    assert zlib.decompress(page.stream[0]) == b"BT\n/F1 12 Tf\n(Hola) Tj\nET"
    assert page.stream[0] == zlib.compress(b"BT\n/F1 12 Tf\n(Hola) Tj\nET", PDF_ZLIB_LEVEL)
    assert other.compress is True and "Filter" not in other.extra
    assert plain.compress is False and plain.stream == [b"q Q"] and "Filter" not in plain.extra


def test_the_browser_stylesheet_keeps_markers_for_list_items_only_and_no_note_rules():
    """WeasyPrint's browser stylesheet styles ::marker and five note pseudo-elements of every element, which made
    WeasyPrint compute seven styles per element; the reports are laid out with ``li::marker`` and no note rules.
    The pinned WeasyPrint's stylesheet must be trimmed exactly so; another one is used as it is."""
    from weasyprint.html import UA

    from reports.pdf import trim_user_agent_stylesheet
    from reports.render import TEMPLATES_DIR

    trimmed = trim_user_agent_stylesheet(UA)
    assert trimmed is not None
    removed = set(UA.splitlines()) - set(trimmed.splitlines())
    added = set(trimmed.splitlines()) - set(UA.splitlines())
    assert sorted(line.split(" {")[0] for line in removed) == [
        "::footnote-call", "::footnote-marker", "::marker", "::note-call", "::note-callback", "::note-marker"]
    assert [line.split(" {")[0] for line in added] == ["li::marker"]
    assert trim_user_agent_stylesheet(UA.replace("::note-callback {", "::note-back {")) is None
    assert trim_user_agent_stylesheet("") is None
    # what the trimming relies on: the reports use no footnotes or notes and make nothing else a list item
    css = (TEMPLATES_DIR / "_report.css").read_text(encoding="utf-8")
    templates = "".join(p.read_text(encoding="utf-8") for p in TEMPLATES_DIR.glob("*.html"))
    for text in (css, templates):
        assert "footnote" not in text and "list-item" not in text and "::marker" not in text


@needs_poppler
def test_html_that_is_not_xml_is_parsed_by_weasyprint_and_still_printed(tmp_path):
    from reports.pdf import xml_tree

    for html in ('<!DOCTYPE html><html lang="es-MX"><head><title>t</title></head><body><p>Precio:&nbsp;0 pesos</p>'
                 "</body></html>",  # an entity XML does not know
                 '<!DOCTYPE html><html><head><title>t</title></head><body><details open><p>Precio: 0 pesos'
                 "</details></body></html>"):  # an attribute without a value, an end tag left out
        assert xml_tree(html) is None
        pdf = tmp_path / "x.pdf"
        html_to_pdf(html, pdf)
        assert "Precio: 0 pesos" in " ".join(pdftext(pdf).split())
    assert xml_tree('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p>a<br>b</p></body></html>') \
        is not None


def test_pdf_fetcher_refuses_file_and_remote_urls_and_fetches_nothing(tmp_path):
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/svg+xml")
            self.end_headers()
            self.wfile.write(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "secreto.txt"
    secret.write_text("CONTENIDO-SECRETO-DEL-SERVIDOR", encoding="utf-8")
    port = server.server_address[1]
    html = (
        f'<!DOCTYPE html><html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
        f'<style>@import url("file://{secret}"); body {{ background: url(http://127.0.0.1:{port}/bg.png) }}</style></head>'
        f'<body><p>Página</p><img src="file://{secret}"><img src="http://127.0.0.1:{port}/img.svg">'
        f'<object data="file://{secret}"></object><iframe src="file://{secret}"></iframe>'
        f'<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="></body></html>'
    )
    try:
        refused = html_to_pdf(html, tmp_path / "x.pdf")
    finally:
        server.shutdown()
    assert hits == []
    assert any(u.startswith("file:") for u in refused) and any(u.startswith("http:") for u in refused)
    assert b"CONTENIDO-SECRETO" not in (tmp_path / "x.pdf").read_bytes()


@needs_poppler
def test_pdfs_open_with_expected_pages_and_spanish_text(rendered):
    built, out_dir, _output = rendered
    portal_pages = pdfpages(out_dir / "portal.pdf")
    assert 6 <= portal_pages <= 20
    text = pdftext(out_dir / "portal.pdf")
    for phrase in ("Folio DA-2026-", "Periodo evaluado", "Resumen ejecutivo", "Clasificación de organizaciones", "Metodología",
                   "Legibles por máquinas", "Secretaría de Finanzas", "noviembre de 2026", "Página 2 de"):
        assert phrase in text, phrase
    assert "Contenido" in text and re.search(r"Metodología\s*\.{3,}\s*\d+", text)  # TOC with page numbers
    org_pdf = out_dir / "secretaria-de-finanzas.pdf"
    assert 2 <= pdfpages(org_pdf) <= 12
    org_text = pdftext(org_pdf)
    for phrase in ("Informe de la organización", "Acciones prioritarias", "Avance frente a compromisos",
                   "Conjuntos de datos", "Padrón de beneficiarios"):
        assert phrase in org_text, phrase
    empty_text = pdftext(out_dir / f"{built.empty_org}.pdf")
    assert "no tiene conjuntos de datos publicados" in empty_text


@needs_poppler
def test_previous_year_comparison_appears_when_two_years_exist(rendered, tmp_path):
    built, out_dir, _output = rendered
    text = " ".join(pdftext(out_dir / "portal.pdf").split())
    assert "Cambio frente a la evaluación 2025" in text
    assert re.search(r"de \d+ a \d+ conjuntos evaluados, de \d+ a \d+ organizaciones", text)
    org_html = (out_dir / "secretaria-de-finanzas.html").read_text(encoding="utf-8")
    assert "Qué cambió frente a 2025" in org_html and "Evaluaciones anteriores" in org_html
    # a single year: no comparison, said plainly
    single = open_populated(f"sqlite:///{tmp_path / 'one.db'}", orgs=3, datasets_per_org=2, years=(2026,))
    out = render_reports(single.store, single.runs[2026], tmp_path / "r", cfg=AuditConfig(), pdf=False, workers=1)
    html = out.portal_html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "Cambio frente a la evaluación" not in html
    assert "No existe una evaluación completa del año 2025" in html
    assert out.portal_pdf is None and all(pdf is None for _h, pdf in out.organizations.values())


@needs_poppler
def test_pdf_annex_is_left_out_above_the_configured_size_but_html_stays_complete(tmp_path):
    built = open_populated(f"sqlite:///{tmp_path / 'a.db'}", orgs=3, datasets_per_org=2, years=(2026,))
    cfg = AuditConfig.model_validate({"reports": {"pdf_annex_max_datasets": 1}})
    out = render_reports(built.store, built.runs[2026], tmp_path / "r", cfg=cfg, organizations=[],
                         include_portal=True, workers=1)
    assert out.organizations == {} and out.portal_pdf is not None
    text = " ".join(pdftext(out.portal_pdf).split())
    assert "el anexo con los diez estados de cada conjunto no se incluye en este PDF" in text
    assert "Todos los conjuntos evaluados" not in text
    html = out.portal_html.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "Todos los conjuntos evaluados (4)" in html


@needs_poppler
def test_portal_pdf_first_page_screenshot_is_not_blank(rendered):
    from PIL import Image

    _built, out_dir, _output = rendered
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = ARTIFACTS / "report-portal-page1"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(out_dir / "portal.pdf"),
                    str(prefix)], check=True, timeout=60)
    png = prefix.with_suffix(".png")
    img = Image.open(png).convert("L")
    hist = img.histogram()
    dark = sum(hist[:200]) / (img.width * img.height)
    assert dark > 0.01, f"page 1 looks blank ({dark:.3%} non-white pixels)"
    # also keep an organization page for review
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "2", "-l", "2", "-singlefile",
                    str(out_dir / "secretaria-de-finanzas.pdf"), str(ARTIFACTS / "report-organization-page2")],
                   check=True, timeout=60)


# ---------------------------------------------------------------------------------------------- content


def test_portal_report_ranks_organizations_and_counts_everything(rendered):
    built, _out_dir, _output = rendered
    report = build_portal_report(built.store, built.runs[2026])
    names = [o.name for o in report.ranking]
    assert set(names) == set(built.org_names)
    ranked = [o for o in report.ranking if o.position is not None]
    assert [o.position for o in ranked][0] == 1
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:], strict=False))  # type: ignore[operator]
    empty = next(o for o in report.ranking if o.name == built.empty_org)
    assert empty.position is None and empty.datasets == 0
    assert len(report.annex) == report.summary.datasets + report.summary.retired
    assert report.summary.retired == 1
    assert report.change is not None and report.change.previous.year == 2025
    assert [t.year for t in report.trend] == [2025, 2026]
    assert report.resources_probed == report.resources > 0 and report.errors == 1


def test_organization_report_explains_findings_and_prioritises_actions(rendered):
    built, out_dir, _output = rendered
    report = build_organization_report(built.store, built.runs[2026], "organo-hostil")
    assert report.datasets and report.actions
    counts = [a.statuses for a in report.actions]
    assert counts == sorted(counts, reverse=True)
    # the same fix ("Publique también el archivo en CSV") groups two characteristics
    csv = next((a for a in report.actions if a.remediation == "Publique también el archivo en CSV."), None)
    if csv is not None and len(csv.characteristics) > 1:
        assert csv.statuses >= 2
    worst = report.datasets[0]
    assert not worst.conforme and worst.findings
    finding = worst.findings[0]
    assert finding.message and finding.remediation and finding.resource
    html = (out_dir / "organo-hostil.html").read_text(encoding="utf-8")
    assert report.actions[0].remediation.replace("«", "&laquo;") in html or report.actions[0].remediation in html
    assert any(d.title == LONG_TITLE for d in report.datasets) and any(d.title == HOSTILE_TITLE for d in report.datasets)


def test_a_report_without_a_responsible_person_says_it_is_not_for_signing(rendered):
    """reports.evaluator.name is not configured here: the cover and the signature block say so instead of leaving
    the line out (a document to be signed must not look complete without its signer)."""
    _built, out_dir, _output = rendered
    for name in ("index.html", "secretaria-de-finanzas.html"):
        text = " ".join(re.sub(r"<[^>]+>", " ", (out_dir / name).read_text(encoding="utf-8")).split())
        assert "Responsable sin designar : esta versión no es para firma" in text, name
        assert "Responsable de la evaluación: sin designar (esta versión no es para firma)" in text, name


def test_manual_review_and_unmatched_commitments_are_shown(rendered):
    built, out_dir, _output = rendered
    report = build_organization_report(built.store, built.runs[2026], "secretaria-de-finanzas")
    notes = [n for d in report.datasets for n in d.reviews]
    assert notes and notes[0].reviewer == "Evaluadora DGSEI"
    assert report.unmatched and report.unmatched[0].dataset_key.startswith("Padrón de beneficiarios")
    html = (out_dir / "secretaria-de-finanzas.html").read_text(encoding="utf-8")
    assert "Revisión manual — Primarios" in html and "Evaluadora DGSEI" in html
    assert "Compromisos sin conjunto publicado" in html


def test_organization_without_commitments_shows_no_percentage(rendered):
    built, out_dir, _output = rendered
    report = build_portal_report(built.store, built.runs[2026])
    without = [o for o in report.ranking if o.progress_pct is None]
    assert without, "the fixture has organizations without commitments"
    html = (out_dir / f"{without[0].name}.html").read_text(encoding="utf-8")
    assert "sin compromisos registrados" in html.lower() or "Sin compromisos registrados" in html


def test_unknown_organization_is_a_clear_error(rendered, tmp_path):
    built, _out_dir, _output = rendered
    with pytest.raises(ConfigError, match="Organizaciones desconocidas"):
        render_reports(built.store, built.runs[2026], tmp_path, cfg=AuditConfig(), organizations=["no-existe"])
    with pytest.raises(ConfigError, match="No existe la corrida"):
        build_portal_report(built.store, 999_999)


def test_single_organization_is_regenerated_without_the_portal_report(rendered, tmp_path):
    built, _out_dir, _output = rendered
    out = render_reports(built.store, built.runs[2026], tmp_path, cfg=AuditConfig(),
                         organizations=["secretaria-de-finanzas"], pdf=False, workers=1)
    assert out.portal_html is None and list(out.organizations) == ["secretaria-de-finanzas"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secretaria-de-finanzas.html"]


def test_partials_render_alone_for_the_dashboard():
    from reports.model import StatusCell

    html = render_html("_scorecard.html")  # importable without context
    assert html.strip() == ""
    from reports.render import environment

    macro = environment().get_template("_scorecard.html").module.scorecard  # type: ignore[attr-defined]
    out = str(macro([StatusCell("accesibles", "Accesibles", "Acc", "fail", 0.0)]))
    assert "✘" in out and "No cumple" in out and "st-fail" in out


def test_charts_are_well_formed_svg_and_values_never_sit_under_the_reference_mark():
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    hostile = ["<b>&amp; \"x\"</b> ]]> $x$", "Secretaría"]
    chart = charts.characteristic_chart(hostile, [10.0, 95.0], reference=[60.0, 20.0])
    root = ET.fromstring(chart.svg)  # raises on malformed XML (an unescaped label would break it)
    texts = {t.text: float(t.get("x")) for t in root.iter(f"{ns}text")}
    assert hostile[0] in texts  # shown literally, escaped in the markup
    marks = [r for r in root.iter(f"{ns}rect") if r.get("width") == "2" and r.get("height") != "12"]
    assert len(marks) == 2  # one reference mark per bar (the legend's key is 12 pt tall)
    first_mark_x = min(float(m.get("x")) for m in marks)
    # 10 % is drawn left of the 60 % portal mark: its label goes after the mark
    assert texts["10.0\u00a0%"] > first_mark_x
    assert {p.get("id") for p in root.iter(f"{ns}pattern")} == {"hatch-diag", "hatch-cross"}
    for other in (charts.distribution_chart([5.0, 55.0, 100.0]),
                  charts.trend_chart([2025, 2026], {"Calificación (0–100)": [50.0, 77.3]}, ylabel="0–100")):
        ET.fromstring(other.svg)
        assert other.svg.startswith("<svg")
    assert "77.3" in charts.trend_chart([2025, 2026], {"a": [50.0, 77.3]}, ylabel="y").svg


def test_a_large_portal_annex_is_split_into_pdfs_that_together_hold_every_dataset(tmp_path):
    """reports.pdf_annex_chunk_datasets bounds the memory of one PDF: 110 datasets with chunks of 100 become
    portal-anexo-1.pdf (1–100) and portal-anexo-2.pdf (101–110); portal.pdf names them; no dataset is lost."""
    import shutil
    import subprocess

    from sqlalchemy import select

    from audit.config import load_config
    from audit.store import models as m

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils no instalado")
    built = open_populated(f"sqlite:///{tmp_path / 'a.db'}", orgs=12, datasets_per_org=10, years=(2026,))
    with built.store.session() as s:
        names = set(s.scalars(select(m.DatasetSnapshot.name).where(m.DatasetSnapshot.run_id == built.runs[2026])))
    assert len(names) > 100
    out_dir = tmp_path / "reports"
    cfg = load_config(None, {"reports": {"pdf_annex_chunk_datasets": 100}})
    out = render_reports(built.store, built.runs[2026], out_dir, cfg=cfg, workers=1, organizations=[],
                         include_portal=True)
    assert out.errors == {}
    parts = sorted(out_dir.glob("portal-anexo-*.pdf"))
    assert [p.name for p in parts] == ["portal-anexo-1.pdf", "portal-anexo-2.pdf"]

    def text(pdf: Path) -> str:
        return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout

    portal = " ".join(text(out_dir / "portal.pdf").split())
    assert "portal-anexo-1.pdf: conjuntos 1 a 100" in portal and f"portal-anexo-2.pdf: conjuntos 101 a {len(names)}" in portal
    # one row per dataset: its score (0–100, one decimal) followed by the conformity column
    rows = [len(re.findall(r"\b\d{1,3}\.\d (?:✔ Sí|✘ No)\b", text(p))) for p in parts]
    assert rows == [100, len(names) - 100]
    folio = re.search(r"Folio (DA-\d{4}-\d{4}-[0-9A-F]{6})", portal)
    assert folio is not None and all(folio.group(1) in text(p) for p in parts)
