"""Embeddable SVG badges for the portal's own pages (as ckanext-qa's openness stars or HDX's quality marks):

- ``/insignias/conjuntos/<name>.svg``: the dataset's score and its ten statuses (one coloured square each, with
  the symbol inside: never colour alone);
- ``/insignias/organizaciones/<name>.svg``: the organization's score, state and progress.

Stable URLs, cacheable (``Cache-Control`` by the run + ``ETag``), every text escaped, and a link target (the
dashboard page) inside the SVG; ``docs/dashboard.md`` shows the CKAN template snippet. A name the newest run does
not have gets a grey «sin evaluar» badge (an ``<img>`` should not break on the portal's page)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from audit.web import data
from audit.web.data import CHARACTERISTICS, MAX_INT
from audit.web.ranking import STATES, org_state

router = APIRouter(include_in_schema=False)

NamePath = Annotated[str, Path(min_length=5, max_length=204)]
RunQ = Annotated[int | None, Query(ge=1, le=MAX_INT)]
COLOURS = {"pass": "#1b7f3b", "partial": "#8a5a00", "fail": "#b42318", "not_applicable": "#616e7c",
           "none": "#616e7c"}
SYMBOLS = {"pass": "✔", "partial": "◐", "fail": "✘", "not_applicable": "–"}
CHAR_W = 6.6  # average glyph width of 11 px DejaVu Sans / Verdana, enough for a badge


def _width(text: str) -> int:
    return int(len(text) * CHAR_W + 12)


def _svg(label: str, value: str, colour: str, title: str, href: str, squares: list[tuple[str, str]]) -> str:
    lw, vw = _width(label), _width(value)
    sq = 14 * len(squares) + (6 if squares else 0)
    total = lw + vw + sq
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{total}" '
        f'height="20" role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        f'<a xlink:href={quoteattr(href)} href={quoteattr(href)} target="_top">',
        f'<rect width="{total}" height="20" rx="3" fill="#555"/>',
        f'<rect x="{lw}" width="{vw + sq}" height="20" rx="3" fill="{colour}"/>',
        f'<rect x="{lw}" width="4" height="20" fill="{colour}"/>',
        '<g fill="#fff" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">',
        f'<text x="6" y="14">{escape(label)}</text>',
        f'<text x="{lw + 6}" y="14">{escape(value)}</text>',
        "</g>",
    ]
    x = lw + vw
    for status, name in squares:
        parts.append(f'<rect x="{x}" y="3" width="13" height="14" rx="2" fill="{COLOURS.get(status, "#616e7c")}" '
                     f'stroke="#fff" stroke-width="1"><title>{escape(name)}</title></rect>')
        parts.append(f'<text x="{x + 6.5}" y="14" fill="#fff" font-size="9" text-anchor="middle" '
                     f'font-family="DejaVu Sans,sans-serif">{SYMBOLS.get(status, "?")}</text>')
        x += 14
    parts.append("</a></svg>")
    return "".join(parts)


def _target(request: Request, path: str) -> str:
    """The dashboard page the badge links to: absolute with ``web.public_url``, else relative to the SVG's own
    address (which is the dashboard's), never built from a Host header."""
    base = request.app.state.web.cfg.web.public_url
    return (base.rstrip("/") if base else "") + path


def _answer(svg: str, cache: str) -> Response:
    return Response(svg, media_type="image/svg+xml; charset=utf-8", headers={
        "Cache-Control": cache, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _summary(request: Request, run: int | None) -> tuple[Any, Any]:
    st = request.app.state.web
    with st.store.session() as s:
        r = data.resolve_run(s, run_id=run)
        if r is None:
            return None, None
        return r, st.cache.get(s, r, st.cfg.scoring.weights)


def _name(filename: str) -> str | None:
    return filename[:-4] if filename.endswith(".svg") and len(filename) > 4 else None


@router.get("/insignias/conjuntos/{filename}")
def dataset_badge(request: Request, filename: NamePath, run: RunQ = None) -> Response:
    name = _name(filename)
    r, summary = _summary(request, run) if name else (None, None)
    row = summary.by_name.get(name) if summary is not None else None
    href = _target(request, f"/conjuntos/{quote(name or '', safe='')}")
    if row is None or row.get("score") is None:
        return _answer(_svg("datos abiertos", "sin evaluar", COLOURS["none"], "Conjunto sin evaluar", href, []),
                       "public, max-age=300")
    titles = request.app.state.web.titles
    statuses = [(row.get(c) or "not_applicable", titles[c]) for c in CHARACTERISTICS]
    passed = sum(1 for s, _ in statuses if s == "pass")
    applicable = sum(1 for s, _ in statuses if s != "not_applicable")
    score = f"{row['score'] * 100:.1f}"
    state = org_state({"datasets": 1, "score": row["score"]})
    title = (f"{row.get('title') or name}: calificación {score} de 100; cumple {passed} de {applicable} "
             f"características que aplican. " + "; ".join(
                 f"{t}: {SYMBOLS.get(s, '?')}" for s, t in statuses))
    svg = _svg("datos abiertos", f"{score} · {passed}/{applicable}", COLOURS[state], title, href, statuses)
    return _answer(svg, data.cache_control(r, run is not None))


@router.get("/insignias/organizaciones/{filename}")
def organization_badge(request: Request, filename: NamePath, run: RunQ = None) -> Response:
    name = _name(filename)
    r, summary = _summary(request, run) if name else (None, None)
    org = next((o for o in summary.organizations if o["organization"] == name), None) if summary else None
    href = _target(request, f"/organizaciones/{quote(name or '', safe='')}")
    if org is None or org.get("score") is None:
        return _answer(_svg("datos abiertos", "sin evaluar", COLOURS["none"], "Organización sin evaluar", href, []),
                       "public, max-age=300")
    state = org_state(org)
    symbol, word = STATES[state]
    score = f"{org['score'] * 100:.1f}"
    progress = "" if org.get("progress_pct") is None else f" · avance {org['progress_pct']:.0f} %"
    value = f"{symbol} {word} {score}{progress}"
    title = (f"{org.get('title') or name}: {word}, calificación {score} de 100, {org['conformes']} de "
             f"{org['datasets']} conjuntos conformes" + (f", avance {org['progress_pct']:.1f} %" if progress else ""))
    return _answer(_svg("datos abiertos", value, COLOURS[state], title, href, []),
                   data.cache_control(r, run is not None))
