"""SVG charts (matplotlib, Agg, ``svg.fonttype = "none"``) returned as strings and ``data:`` URLs.

Each chart carries a text alternative (``alt``: one sentence; ``rows``: the plotted values as label/value pairs)
so the HTML can offer the numbers to screen readers and in print. Labels come from untrusted portal metadata:
mathtext is disabled (a "$" in an organization's title must not be parsed) and matplotlib escapes XML itself.
Used by the reports and the dashboard; nothing here knows about PDFs.
"""

from __future__ import annotations

import base64
import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

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
#: band → (colour, hatch, legend label)
BANDS = ((80.0, GOOD, "", "80 o más (alto)"), (50.0, WARN, "////", "de 50 a menos de 80 (medio)"),
         (float("-inf"), BAD, "x", "menos de 50 (bajo)"))

_RC: dict[Any, Any] = {
    "svg.fonttype": "none",  # keep text as <text>: small, searchable, rendered with the page's fonts
    "svg.hashsalt": "auditor-datos-abiertos",  # deterministic ids
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True, slots=True)
class Chart:
    svg: str
    alt: str  # one-sentence description
    title: str
    rows: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # text alternative: (label, value)

    @property
    def data_url(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


# rcParams are process-global: charts are drawn one at a time (the dashboard may call us from several threads).
# The object API (Figure, not pyplot) keeps no global figure registry and avoids importing GUI backends.
_LOCK = threading.Lock()


@contextmanager
def _style() -> Iterator[None]:
    with _LOCK, rc_context(_RC):
        yield


def _to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs (emoji) only affect text metrics
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    # drop the XML prolog and DOCTYPE: the SVG is embedded as an image
    start = svg.find("<svg")
    return svg[start:] if start > 0 else svg


def _band(pct: float) -> tuple[float, str, str, str]:
    return next(b for b in BANDS if pct >= b[0])


def _bar_color(pct: float) -> str:
    return _band(pct)[1]


def _values_text(rows: Sequence[tuple[str, str]], limit: int = 40) -> str:
    """The plotted values for the ``alt`` text: «Accesibles: 33.3 %; Integrales: 100.0 %…»."""
    shown = "; ".join(f"{label}: {value}" for label, value in rows[:limit])
    return shown + (f"; y {len(rows) - limit} más" if len(rows) > limit else "")


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    alt: str,
    xmax: float = 100.0,
    value_fmt=fmt_pct,  # type: ignore[no-untyped-def]
    color_by_value: bool = True,
    reference: Sequence[float | None] | None = None,
    reference_label: str = "",
    series_label: str = "",
    label_width: int = 42,
    none_label: str = "sin dato",
    xlabel: str = "",
) -> Chart:
    """Horizontal bars (0–xmax) with the value printed after each bar (never under the reference mark); the bars'
    bands (≥ 80, ≥ 50, below) differ by colour, lightness and pattern and have a legend; optional reference marks."""
    from matplotlib.patches import Patch

    short = [truncate(label, label_width) for label in labels]
    n = max(len(short), 1)
    with _style():
        fig = Figure(figsize=(7.0, 0.9 + 0.28 * n))
        ax = fig.subplots()
        ys = list(range(n))[::-1]
        vals = [v if v is not None else 0.0 for v in values]
        for y, v in zip(ys, vals, strict=False):
            _lo, color, hatch, _label = _band(v / xmax * 100) if color_by_value else (0, PRIMARY, "", "")
            ax.barh(y, v, color=color, hatch=hatch, edgecolor=INK if color_by_value else color, linewidth=0.6,
                    height=0.62)
        refs = list(reference) if reference is not None else [None] * len(vals)
        for y, v, raw, ref in zip(ys, vals, values, refs + [None] * (len(vals) - len(refs)), strict=False):
            text = value_fmt(raw) if raw is not None else none_label
            # the label goes after the bar and after the reference mark, so the mark never covers it
            x = max(min(v, xmax), ref if ref is not None else 0.0) + xmax * 0.015
            ax.text(x, y, text, va="center", fontsize=8, color=INK)
        handles: list[Any] = []
        if color_by_value:
            handles = [Patch(facecolor=c, hatch=h, edgecolor=INK, linewidth=0.6, label=lab) for _lo, c, h, lab in BANDS]
        if reference is not None:
            ref_y = [y for y, r in zip(ys, reference, strict=False) if r is not None]
            ref_v = [r for r in reference if r is not None]
            handles.append(ax.scatter(ref_v, ref_y, marker="|", s=180, color=INK, linewidths=2, label=reference_label,
                                      zorder=3))
        if handles:
            ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(handles), 4),
                      frameon=False, fontsize=7.5)
        ax.set_yticks(ys[: len(short)], short)
        ax.set_xlim(0, xmax * 1.2)
        ax.set_xticks([0, 20, 40, 60, 80, 100] if xmax == 100 else ax.get_xticks())
        if xlabel:
            ax.set_xlabel(xlabel, fontsize=8)
        ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        fig.tight_layout()
        svg = _to_svg(fig)
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
        f"Gráfica de barras: porcentaje de conjuntos {of_subject} que cumplen cada una de las diez características"
        + ("; la marca vertical indica el promedio del portal." if reference is not None else ".")
    )
    return hbar_chart(
        titles, pcts, title=title, alt=alt, reference=reference, reference_label="Promedio del portal" if reference else "",
        label_width=28, none_label="no aplica", xlabel="Conjuntos que cumplen (%, escala de 0 a 100)",
    )


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
    scores = values
    edges = [i * 100 / bins for i in range(bins + 1)]
    counts = [0] * bins
    for s in scores:
        idx = min(int(s / (100 / bins)), bins - 1)
        counts[idx] += 1
    with _style():
        fig = Figure(figsize=(7.0, 2.8))
        ax = fig.subplots()
        ax.bar([e + 100 / bins / 2 for e in edges[:-1]], counts, width=100 / bins * 0.9, color=PRIMARY)
        for x, c in zip(edges[:-1], counts, strict=True):
            if c:
                ax.text(x + 100 / bins / 2, c, str(c), ha="center", va="bottom", fontsize=8, color=INK)
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.grid(True, color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        fig.tight_layout()
        svg = _to_svg(fig)
    rows = tuple((f"{edges[i]:.0f}–{edges[i + 1]:.0f}", str(counts[i])) for i in range(bins))
    return Chart(svg=svg, title=title, alt=f"{alt.rstrip('.')}. Valores: {_values_text(rows)}.", rows=rows)


def trend_chart(years: Sequence[int], series: dict[str, Sequence[float | None]], *, ylabel: str) -> Chart:
    """Lines across audit years (e.g. score and share of conforming datasets)."""
    markers = ["o", "s", "^", "D"]
    colors = [PRIMARY, SECONDARY, GOOD, MUTED]
    with _style():
        fig = Figure(figsize=(7.0, 2.8))
        ax = fig.subplots()
        for i, (name, vals) in enumerate(series.items()):
            pts = [(y, v) for y, v in zip(years, vals, strict=False) if v is not None]
            if not pts:
                continue
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker=markers[i % 4], color=colors[i % 4], label=name, linewidth=2)
            for x, y in pts:
                ax.annotate(fmt_num(y), (x, y), textcoords="offset points",
                            xytext=(0, 6), ha="center", fontsize=8, color=INK)
        ax.set_xticks(list(years), [str(y) for y in years])
        ax.set_ylim(0, 105)
        ax.set_ylabel(ylabel)
        ax.yaxis.grid(True, color=GRID, linewidth=0.6)
        ax.legend(frameon=False, fontsize=8, loc="lower right")
        fig.tight_layout()
        svg = _to_svg(fig)
    rows = tuple(
        (f"{name} {year}", fmt_num(v) if v is not None else "sin dato")
        for name, vals in series.items()
        for year, v in zip(years, vals, strict=False)
    )
    return Chart(
        svg=svg,
        title="Evolución entre evaluaciones",
        alt="Gráfica de líneas: " + ", ".join(series) + " por año de evaluación (" + ", ".join(map(str, years))
            + "). Valores: " + _values_text(rows) + ".",
        rows=rows,
    )
