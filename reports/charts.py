"""SVG charts written directly as SVG text, returned as strings and ``data:`` URLs.

Three simple shapes (horizontal bars, a histogram, lines across years) do not need a plotting library: drawing
them by hand takes about a millisecond instead of matplotlib's ~0.1 s per chart plus ~1 s of import in every
report worker, and gives WeasyPrint a small SVG to draw. Text stays ``<text>`` (searchable, drawn with the
page's fonts); labels come from untrusted portal metadata and are XML-escaped here.

Each chart carries a text alternative (``alt``: one sentence; ``rows``: the plotted values as label/value pairs)
so the HTML can offer the numbers to screen readers and in print. Used by the reports and the dashboard; nothing
here knows about PDFs.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import rules
from reports.format import fmt_num, fmt_pct, truncate

# colours of the report palette (also in the CSS); colour is never the only signal: values are printed next to
# each bar and the bands also differ by lightness and pattern, so they survive grayscale printing and colour-blind
# readers (Okabe–Ito blue / orange / vermillion, never red against green)
INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#d9dee4"
PRIMARY = "#7a1737"  # guinda
SECONDARY = "#b38e5d"  # dorado
GOOD = "#0b4f7c"  # ≥ 80: dark blue, solid
WARN = "#e69f00"  # ≥ 50: orange (light in grayscale), diagonal hatch
BAD = "#fdebe1"  # < 50: pale vermillion (lightest), sparse cross hatch, dark outline
#: band → (lower bound, colour, hatch, legend label)
BANDS = ((80.0, GOOD, "", "80 o más (alto)"), (50.0, WARN, "////", "de 50 a menos de 80 (medio)"),
         (float("-inf"), BAD, "x", "menos de 50 (bajo)"))

FONT = "DejaVu Sans, sans-serif"
WIDTH = 504.0  # points (7 in), scaled to the column by the page's CSS
ROW = 20.0  # one bar's row, points
_PATTERNS = {  # hatch → SVG pattern drawn over the band's colour
    "////": ('<pattern id="hatch-diag" patternUnits="userSpaceOnUse" width="5" height="5">'
             f'<rect width="5" height="5" fill="{WARN}"/>'
             f'<path d="M-1,1 l2,-2 M0,5 l5,-5 M4,6 l2,-2" stroke="{INK}" stroke-width="0.9"/></pattern>'),
    "x": ('<pattern id="hatch-cross" patternUnits="userSpaceOnUse" width="9" height="9">'
          f'<rect width="9" height="9" fill="{BAD}"/>'
          f'<path d="M0,0 l9,9 M9,0 l-9,9" stroke="{MUTED}" stroke-width="0.4"/></pattern>'),
}
_PATTERN_ID = {"////": "hatch-diag", "x": "hatch-cross"}


@dataclass(frozen=True, slots=True)
class Chart:
    svg: str
    alt: str  # one-sentence description
    title: str
    rows: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # text alternative: (label, value)

    @property
    def data_url(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


# ---------------------------------------------------------------------------------------------- SVG text


def text_width(text: str, size: float) -> float:
    """Approximate advance width of ``text`` in DejaVu Sans at ``size`` points (generous: it sizes margins)."""
    total = 0.0
    for c in text:
        if c in " .,;:'|!iljíïI()[]-«»":
            total += 0.36
        elif c in "frt":
            total += 0.42
        elif c in "mwMW%":
            total += 0.98
        elif c.isupper():
            total += 0.74
        else:
            total += 0.64
    return total * size


def _fill(hatch: str, colour: str) -> str:
    return f"url(#{_PATTERN_ID[hatch]})" if hatch else colour


def _text(x: float, y: float, s: str, *, size: float = 8, anchor: str = "start", colour: str = INK,
          baseline: str = "central") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'dominant-baseline="{baseline}" fill="{colour}">{escape(s)}</text>')


def _svg(width: float, height: float, body: list[str], patterns: Sequence[str] = ()) -> str:
    defs = "<defs>" + "".join(_PATTERNS[p] for p in patterns) + "</defs>" if patterns else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}pt" height="{height:.0f}pt" '
            f'viewBox="0 0 {width:.1f} {height:.1f}" font-family={quoteattr(FONT)}>'
            f'{defs}<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str]], y: float, width: float) -> tuple[list[str], float]:
    """Swatches (an SVG fragment drawing one key each) with labels, centred, wrapped to the width.
    Returns the elements and the height used."""
    size, gap, swatch = 7.5, 14.0, 14.0
    widths = [swatch + 4 + text_width(label, size) for _key, label in items]
    lines: list[list[int]] = [[]]
    used = 0.0
    for i, w in enumerate(widths):
        if lines[-1] and used + gap + w > width - 20:
            lines.append([])
            used = 0.0
        used += (gap if lines[-1] else 0.0) + w
        lines[-1].append(i)
    out: list[str] = []
    for n, line in enumerate(lines):
        line_w = sum(widths[i] for i in line) + gap * (len(line) - 1)
        x = (width - line_w) / 2
        cy = y + 8 + n * 14
        for i in line:
            key, label = items[i]
            # placeholders a key may use: swatch box (x, y), its centre (cx, cy), its right end (x14), a 6-pt
            # square (x0, y0), a triangle's apex (ya), the reference mark's 2 × 12 bar (rx, ry)
            out.append(key.format(x=x, y=cy - 5, cx=x + swatch / 2, cy=cy, x14=x + swatch, x0=x + swatch / 2 - 3,
                                  y0=cy - 3, ya=cy - 3.6, rx=x + swatch / 2 - 1, ry=cy - 6))
            out.append(_text(x + swatch + 4, cy, label, size=size))
            x += widths[i] + gap
    return out, 14.0 * len(lines) + 4


# ---------------------------------------------------------------------------------------------- charts


def _band(pct: float) -> tuple[float, str, str, str]:
    return next(b for b in BANDS if pct >= b[0])


def _values_text(rows: Sequence[tuple[str, str]], limit: int = 40) -> str:
    """The plotted values for the ``alt`` text: «Accesibles: 33.3 %; Integrales: 100.0 %…»."""
    shown = "; ".join(f"{label}: {value}" for label, value in rows[:limit])
    return shown + (f"; y {len(rows) - limit} más" if len(rows) > limit else "")


def _nice_ticks(top: float) -> list[float]:
    """About five round ticks from 0 to ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 5
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, t = [], 0.0
    while t <= top + 1e-9:
        ticks.append(round(t, 6))
        t += step
    return ticks


def _tick_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else fmt_num(v)


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    alt: str,
    xmax: float = 100.0,
    value_fmt: Callable[[float | None], str] = fmt_pct,
    color_by_value: bool = True,
    reference: Sequence[float | None] | None = None,
    reference_label: str = "",
    label_width: int = 42,
    none_label: str = "sin dato",
    xlabel: str = "",
) -> Chart:
    """Horizontal bars (0–xmax) with the value printed after each bar (never under the reference mark); the bars'
    bands (≥ 80, ≥ 50, below) differ by colour, lightness and pattern and have a legend; optional reference marks."""
    short = [truncate(label, label_width) for label in labels]
    n = max(len(short), 1)
    label_w = max((text_width(s, 9) for s in short), default=0.0)
    x0 = 8 + label_w + 6  # the axis: labels end 6 pt before it
    x1 = WIDTH - 10
    span = xmax * 1.2  # room after the longest bar for its value
    sx = (x1 - x0) / span

    legend_items: list[tuple[str, str]] = []
    if color_by_value:
        legend_items = [(f'<rect x="{{x:.1f}}" y="{{y:.1f}}" width="14" height="10" fill="{_fill(h, c)}" '
                         f'stroke="{INK}" stroke-width="0.6"/>', lab) for _lo, c, h, lab in BANDS]
    if reference is not None and reference_label:
        legend_items.append((f'<rect x="{{rx:.1f}}" y="{{ry:.1f}}" width="2" height="12" fill="{INK}"/>',
                             reference_label))
    body, legend_h = _legend(legend_items, 4, WIDTH) if legend_items else ([], 0.0)
    top = 6 + legend_h
    plot_h = n * ROW
    bottom = top + plot_h
    ticks = [0, 20, 40, 60, 80, 100] if xmax == 100 else _nice_ticks(xmax)
    for t in ticks:  # grid first: bars are drawn over it
        x = x0 + t * sx
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{GRID}" '
                    'stroke-width="0.6"/>')
        body.append(_text(x, bottom + 9, _tick_label(t), size=8, anchor="middle", colour=MUTED))
    body.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{GRID}" '
                'stroke-width="0.8"/>')
    refs = list(reference) if reference is not None else []
    refs += [None] * (len(short) - len(refs))
    for i, (label, raw) in enumerate(zip(short, values, strict=False)):
        cy = top + ROW * i + ROW / 2
        v = min(max(raw if raw is not None else 0.0, 0.0), xmax)
        body.append(_text(x0 - 6, cy, label, size=9, anchor="end"))
        if raw is not None and v > 0:
            _lo, colour, hatch, _lab = _band(v / xmax * 100) if color_by_value else (0, PRIMARY, "", "")
            stroke = INK if color_by_value else colour
            body.append(f'<rect x="{x0:.1f}" y="{cy - ROW * 0.31:.1f}" width="{v * sx:.1f}" height="{ROW * 0.62:.1f}" '
                        f'fill="{_fill(hatch, colour)}" stroke="{stroke}" stroke-width="0.6"/>')
        ref = refs[i]
        if ref is not None:
            rx = x0 + min(max(ref, 0.0), xmax) * sx
            body.append(f'<rect x="{rx - 1:.1f}" y="{cy - ROW * 0.45:.1f}" width="2" height="{ROW * 0.9:.1f}" '
                        f'fill="{INK}"/>')
        # the value goes after the bar and after the reference mark, so the mark never covers it
        after = max(v, min(max(ref, 0.0), xmax) if ref is not None else 0.0)
        text = value_fmt(raw) if raw is not None else none_label
        body.append(_text(x0 + after * sx + 5, cy, text, size=8))
    height = bottom + 16
    if xlabel:
        body.append(_text((x0 + x1) / 2, bottom + 24, xlabel, size=8, anchor="middle"))
        height += 12
    patterns = [h for _lo, _c, h, _lab in BANDS if h] if color_by_value else []
    svg = _svg(WIDTH, height, body, patterns)
    rows = tuple((str(label), value_fmt(v) if v is not None else none_label) for label, v in zip(labels, values, strict=False))
    return Chart(svg=svg, alt=f"{alt.rstrip('.')}. Valores: {_values_text(rows)}.", title=title, rows=rows)


def characteristic_chart(
    titles: Sequence[str],
    pcts: Sequence[float | None],
    *,
    reference: Sequence[float | None] | None = None,
    subject: str = "el portal",
) -> Chart:
    """Share of datasets that comply with each characteristic (0–100 %)."""
    title = "Cumplimiento por característica"
    of_subject = "del " + subject[3:] if subject.startswith("el ") else f"de {subject}"  # «de el» → «del»
    alt = (
        f"Gráfica de barras: porcentaje de conjuntos {of_subject} que cumplen cada una de las {rules.count_es()} características"
        + ("; la marca vertical indica el promedio del portal." if reference is not None else ".")
    )
    return hbar_chart(
        titles, pcts, title=title, alt=alt, reference=reference, reference_label="Promedio del portal" if reference else "",
        label_width=28, none_label="no aplica", xlabel="Conjuntos que cumplen (%, escala de 0 a 100)",
    )


def _axes(x0: float, x1: float, top: float, bottom: float, ymax: float, ylabel: str) -> list[str]:
    """Horizontal grid with y tick labels, the x axis line and the rotated y label."""
    body: list[str] = []
    for t in _nice_ticks(ymax):
        y = bottom - t / ymax * (bottom - top)
        body.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="0.6"/>')
        body.append(_text(x0 - 4, y, _tick_label(t), size=8, anchor="end", colour=MUTED))
    body.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="{GRID}" '
                'stroke-width="0.8"/>')
    if ylabel:
        cy = (top + bottom) / 2
        body.append(f'<text x="12" y="{cy:.1f}" font-size="9" text-anchor="middle" fill="{INK}" '
                    f'transform="rotate(-90 12 {cy:.1f})">{escape(ylabel)}</text>')
    return body


def distribution_chart(
    values: Sequence[float],
    *,
    title: str = "Distribución de calificaciones de las organizaciones",
    alt: str = "Histograma: número de organizaciones por intervalo de calificación de 0 a 100.",
    xlabel: str = "Calificación (0–100)",
    ylabel: str = "Organizaciones",
    bins: int = 10,
) -> Chart:
    """Histogram of values on 0–100: used when there are too many organizations for one bar each."""
    edges = [i * 100 / bins for i in range(bins + 1)]
    counts = [0] * bins
    for s in values:
        counts[min(max(int(s / (100 / bins)), 0), bins - 1)] += 1
    height, x0, x1, top, bottom = 202.0, 48.0, WIDTH - 12, 14.0, 160.0
    ymax = max(max(counts, default=0), 1) * 1.12
    body = _axes(x0, x1, top, bottom, ymax, ylabel)
    sx = (x1 - x0) / 100
    for i, c in enumerate(counts):
        left = x0 + (edges[i] + 100 / bins * 0.05) * sx
        w = 100 / bins * 0.9 * sx
        h = c / ymax * (bottom - top)
        if c:
            body.append(f'<rect x="{left:.1f}" y="{bottom - h:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{PRIMARY}"/>')
            body.append(_text(left + w / 2, bottom - h - 6, str(c), size=8, anchor="middle"))
    for t in range(0, 101, 20):
        body.append(_text(x0 + t * sx, bottom + 9, str(t), size=8, anchor="middle", colour=MUTED))
    body.append(_text((x0 + x1) / 2, bottom + 26, xlabel, size=9, anchor="middle"))
    rows = tuple((f"{edges[i]:.0f}–{edges[i + 1]:.0f}", str(counts[i])) for i in range(bins))
    return Chart(svg=_svg(WIDTH, height, body), title=title, alt=f"{alt.rstrip('.')}. Valores: {_values_text(rows)}.",
                 rows=rows)


_MARKERS = (  # distinct shapes, so the series differ without colour
    '<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="{c}"/>',
    '<rect x="{x0:.1f}" y="{y0:.1f}" width="6" height="6" fill="{c}"/>',
    '<path d="M{x:.1f},{ya:.1f} l3.6,6.4 h-7.2 z" fill="{c}"/>',
    '<path d="M{x:.1f},{ya:.1f} l3.6,3.6 l-3.6,3.6 l-3.6,-3.6 z" fill="{c}"/>',
)


def _marker(i: int, x: float, y: float, colour: str) -> str:
    return _MARKERS[i % len(_MARKERS)].format(x=x, y=y, x0=x - 3, y0=y - 3, ya=y - 3.6, c=colour)


def trend_chart(years: Sequence[int], series: dict[str, Sequence[float | None]], *, ylabel: str) -> Chart:
    """Lines across audit years (e.g. score and share of conforming datasets)."""
    colors = (PRIMARY, SECONDARY, GOOD, MUTED)
    x0, x1, top, bottom = 48.0, WIDTH - 16, 14.0, 160.0
    body = _axes(x0, x1, top, bottom, 105.0, ylabel)
    n = len(years)
    xs = {y: x0 + 24 + (x1 - x0 - 48) * (i / (n - 1) if n > 1 else 0.5) for i, y in enumerate(years)}
    for year in years:
        body.append(_text(xs[year], bottom + 9, str(year), size=8, anchor="middle", colour=MUTED))

    def ypos(v: float) -> float:
        return bottom - min(max(v, 0.0), 105.0) / 105.0 * (bottom - top)

    legend: list[tuple[str, str]] = []
    for i, (name, vals) in enumerate(series.items()):
        colour = colors[i % len(colors)]
        pts = [(xs[year], ypos(v), v) for year, v in zip(years, vals, strict=False) if v is not None]
        if not pts:
            continue
        if len(pts) > 1:
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in pts)
            body.append(f'<polyline points="{line}" fill="none" '
                        f'stroke="{colour}" stroke-width="2"/>')
        for x, y, v in pts:
            body.append(_marker(i, x, y, colour))
            body.append(_text(x, y - 9, fmt_num(v), size=8, anchor="middle"))
        legend.append((name, colour))
    height = bottom + 18
    if legend:  # below the plot, so it never covers a point
        items = [(_legend_marker(i, c), name) for i, (name, c) in enumerate(legend)]
        legend_body, legend_h = _legend(items, height, WIDTH)
        body += legend_body
        height += legend_h
    rows = tuple(
        (f"{name} {year}", fmt_num(v) if v is not None else "sin dato")
        for name, vals in series.items()
        for year, v in zip(years, vals, strict=False)
    )
    return Chart(
        svg=_svg(WIDTH, height, body),
        title="Evolución entre evaluaciones",
        alt="Gráfica de líneas: " + ", ".join(series) + " por año de evaluación (" + ", ".join(map(str, years))
            + "). Valores: " + _values_text(rows) + ".",
        rows=rows,
    )


def _legend_marker(i: int, colour: str) -> str:
    """A legend key for series ``i``: a short line with the series' marker (placeholders filled by _legend)."""
    shape = _MARKERS[i % len(_MARKERS)].replace("{x:.1f}", "{cx:.1f}").replace("{y:.1f}", "{cy:.1f}")
    return (f'<line x1="{{x:.1f}}" x2="{{x14:.1f}}" y1="{{cy:.1f}}" y2="{{cy:.1f}}" stroke="{colour}" '
            f'stroke-width="2"/>' + shape.replace("{c}", colour))
