"""Render the annual reports: Jinja2 (one environment, autoescape) → HTML → WeasyPrint → PDF.

Output contract (the caller passes ``out_dir = OUT/<year>/reports``)::

    out_dir/index.html + portal.pdf             the portal report
    out_dir/<organization-name>.html + .pdf     one per organization, including those without datasets

Everything shown comes from untrusted portal metadata: templates autoescape, untrusted strings sit in ``<bdi>``,
and the PDF is laid out by ``reports.pdf`` with a URL fetcher that refuses every URL except ``data:`` (WeasyPrint's
default fetcher would read ``file://`` paths and fetch remote images into the PDF). Organization reports are
rendered in parallel processes (``workers``), each opening its own connection to the store.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import resource
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from audit.childproc import completed, process_pool
from audit.config import AuditConfig
from audit.errors import ConfigError
from audit.legal import LegalBasis
from audit.outcomes import outcome_es
from audit.progress import stage_progress
from audit.store.db import Store, open_store
from reports import charts as ch
from reports.document import DocSettings, doc_settings
from reports.format import fmt_num, plural
from reports.model import (
    OrganizationReport,
    PortalContext,
    PortalReport,
    build_organization_report,
    build_portal_context,
    build_portal_report,
    organization_names,
)
from reports.pdf import BIDI_CONTROLS, PdfAttachment, html_to_pdf
from reports.records import ACTIONS_LISTED, TARGETS_LISTED
from reports.wording import install_filters

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).with_name("templates")
PORTAL_HTML = "index.html"
PORTAL_PDF = "portal.pdf"
#: file stems the portal report uses: an organization with one of these names gets a prefixed file name
_RESERVED = {"index", "portal"}
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
#: above this many organizations the portal charts show distributions instead of one bar per organization
MAX_BARS = 40

#: probe outcomes as the reports' tables and charts label them
OUTCOME_LABELS = outcome_es("report_heading")


# ---------------------------------------------------------------------------------------------- templates


def org_file(name: str) -> str:
    """The file stem of an organization's report: its CKAN name when it is a safe slug, else a safe slug of it.

    CKAN names are already slugs; anything else (or ``index``/``portal``, which would overwrite the portal
    report) gets a deterministic safe name with a short hash so two organizations never share a file."""
    if _SAFE_NAME.fullmatch(name) and name not in _RESERVED:
        return name
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9_-]+", "-", ascii_name).strip("-_")[:80] or "organizacion"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"org-{slug}-{digest}"


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


def param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, float):
        return fmt_num(value, 2).rstrip("0").rstrip(".")
    return str(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment of the reports (autoescape on; the dashboard may reuse the partials)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install_filters(env)
    env.filters["org_file"] = org_file
    env.filters["outcome_label"] = outcome_label
    env.filters["param_value"] = param_value
    env.globals["ACTIONS_LISTED"], env.globals["TARGETS_LISTED"] = ACTIONS_LISTED, TARGETS_LISTED
    return env


def render_html(template: str, **context: Any) -> str:
    """Render one template of ``reports/templates`` with the reports' environment. Explicit bidirectional controls
    are removed: inside its ``<bdi>`` a right-to-left override in a title would still show the title backwards
    («gpj.exe» as «exe.jpg»); they are invisible, so nothing a reader needs is lost."""
    return BIDI_CONTROLS.sub("", environment().get_template(template).render(**context))


def _check_size(html: str, st: _JobSettings) -> None:
    """A report beyond ``limits.report_max_mb`` fails (the run then exits non-zero) before it is written or laid
    out as a PDF, which would take many times its size in memory."""
    if st.max_html_bytes is not None and len(html) > st.max_html_bytes:  # characters ≤ bytes: a cheap lower bound
        raise ReportTooLargeError(
            f"el informe mide más de {st.max_html_bytes / 2**20:.0f} MB (limits.report_max_mb); no se escribió")


class ReportTooLargeError(Exception):
    pass


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------- charts


def portal_charts(report: PortalReport) -> list[ch.Chart]:
    titles = [c.title for c in report.characteristics]
    out = [ch.characteristic_chart(titles, [report.summary.characteristic_pct.get(c.id) for c in report.characteristics])]
    ranked = [o for o in report.ranking if o.position is not None and o.score is not None]
    if ranked:
        if len(ranked) <= MAX_BARS:
            out.append(ch.hbar_chart(
                [o.title for o in ranked], [o.score * 100 for o in ranked],  # type: ignore[operator]
                title="Calificación de las organizaciones",
                alt=(f"Gráfica de barras: calificación de 0 a 100 de las {plural(len(ranked), 'organización', 'organizaciones')} "
                     "con conjuntos, de mayor a menor." if len(ranked) > 1 else
                     "Gráfica de barras: calificación de 0 a 100 de la única organización con conjuntos."),
                value_fmt=lambda v: fmt_num(v), xlabel="Calificación (escala de 0 a 100)",
            ))
        else:
            out.append(ch.distribution_chart([o.score * 100 for o in ranked]))  # type: ignore[operator]
    with_progress = sorted((o for o in report.ranking if o.progress_pct is not None),
                           key=lambda o: -(o.progress_pct or 0))
    if with_progress:
        if len(with_progress) <= MAX_BARS:
            out.append(ch.hbar_chart(
                [o.title for o in with_progress], [o.progress_pct for o in with_progress],
                title="Avance frente a compromisos",
                alt="Gráfica de barras: porcentaje de conjuntos comprometidos ya publicados, por organización "
                    "(solo organizaciones con compromisos registrados).",
                xlabel="Avance frente a compromisos (%, escala de 0 a 100)",
            ))
        else:
            out.append(ch.distribution_chart(
                [o.progress_pct for o in with_progress if o.progress_pct is not None],
                title="Avance frente a compromisos",
                alt="Histograma: número de organizaciones por intervalo de avance frente a compromisos (0 a 100 %).",
                xlabel="Avance (%)",
            ))
    if len(report.trend) >= 2:
        years = [t.year or 0 for t in report.trend]
        out.append(ch.trend_chart(years, {
            "Calificación (0–100)": [t.score * 100 if t.score is not None else None for t in report.trend],
            "Conjuntos conformes (%)": [t.conformes_pct for t in report.trend],
            "Avance (%)": [t.progress_pct for t in report.trend],
        }, ylabel="0–100"))
    return out


def organization_charts(report: OrganizationReport) -> list[ch.Chart]:
    if not report.datasets:
        return []
    chars = report.characteristics
    return [ch.characteristic_chart(
        [c.title for c in chars],
        [report.organization.characteristic_pct.get(c.id) for c in chars],
        reference=[report.portal_characteristic_pct.get(c.id) for c in chars],
        subject="la organización",
    )]


# ---------------------------------------------------------------------------------------------- jobs


@dataclass(slots=True)
class ReportOutput:
    out_dir: Path
    portal_html: Path | None = None
    portal_pdf: Path | None = None
    organizations: dict[str, tuple[Path, Path | None]] = field(default_factory=dict)  # name → (html, pdf)
    errors: dict[str, str] = field(default_factory=dict)  # "portal" or organization name → message
    refused_urls: int = 0
    elapsed_s: float = 0.0

    @property
    def files(self) -> list[Path]:
        out = [p for p in (self.portal_html, self.portal_pdf) if p is not None]
        for html, pdf in self.organizations.values():
            out.append(html)
            if pdf is not None:
                out.append(pdf)
        return out


@dataclass(slots=True)
class _JobSettings:
    run_id: int
    out_dir: Path
    pdf: bool
    weights: dict[str, float]
    evaluating_unit: str
    portal_title: str | None
    rules_params: dict[str, Any]
    legal_basis: LegalBasis
    context: PortalContext | None
    pdf_annex_max: int | None = None
    max_html_bytes: int | None = None  # limits.report_max_mb: a larger report fails (never exhausts memory in PDF)
    worker_memory_mb: float | None = None  # limits.report_worker_memory_mb: address-space cap of a PDF worker
    doc: DocSettings | None = None
    pdf_annex_chunk: int | None = None


def _settings_from(cfg: AuditConfig, run_id: int, out_dir: Path, pdf: bool, context: PortalContext | None) -> _JobSettings:
    return _JobSettings(
        run_id=run_id, out_dir=out_dir, pdf=pdf, weights=dict(cfg.scoring.weights),
        evaluating_unit=cfg.reports.evaluator.unit, portal_title=cfg.portal_title,
        rules_params=cfg.rules.model_dump(), legal_basis=cfg.legal_basis, context=context,
        pdf_annex_max=cfg.reports.pdf_annex_max_datasets, doc=doc_settings(cfg),
        max_html_bytes=int(cfg.limits.report_max_mb * 2**20),
        worker_memory_mb=cfg.limits.report_worker_memory_mb,
        pdf_annex_chunk=cfg.reports.pdf_annex_chunk_datasets,
    )


def _render_portal(store: Store, st: _JobSettings) -> tuple[Path, Path | None, int]:
    report = build_portal_report(store, st.run_id, weights=st.weights, evaluating_unit=st.evaluating_unit,
                                 portal_title=st.portal_title, rules_params=st.rules_params,
                                 legal_basis=st.legal_basis, doc_settings=st.doc)
    charts = portal_charts(report)
    html = render_html("portal.html", report=report, charts=charts, annex_in_document=True, annex_parts=[])
    html_path = st.out_dir / PORTAL_HTML
    _check_size(html, st)
    _write_text(html_path, html)
    pdf_path, refused = None, []
    if st.pdf:
        pdf_path = st.out_dir / PORTAL_PDF
        n = len(report.annex)
        chunk = st.pdf_annex_chunk
        parts = [(f"portal-anexo-{k}.pdf", i + 1, min(i + chunk, n)) for k, i in enumerate(range(0, n, chunk), 1)] \
            if chunk and n > chunk else []
        if st.pdf_annex_max is not None and n > st.pdf_annex_max:
            log.info("PDF del portal sin anexo: %d conjuntos > reports.pdf_annex_max_datasets=%d", n, st.pdf_annex_max)
            parts = []
        if parts or (st.pdf_annex_max is not None and n > st.pdf_annex_max):
            # WeasyPrint keeps every page's layout in memory: a 10,000-row annex in one PDF needs gigabytes, so
            # the annex is written as separate PDFs of reports.pdf_annex_chunk datasets each
            html = render_html("portal.html", report=report, charts=charts, annex_in_document=False, annex_parts=parts)
        refused = html_to_pdf(html, pdf_path, [PdfAttachment(
            "scores.csv", _year_scores_csv(store, st), f"Calificaciones de todos los conjuntos, {report.year}")])
        del html
        for k, (name, first, last) in enumerate(parts, 1):
            part = render_html("portal_annex.html", report=report, rows=report.annex[first - 1:last], part=k,
                               parts=len(parts), first=first, last=last)
            refused += html_to_pdf(part, st.out_dir / name)
    return html_path, pdf_path, len(refused)


def _year_scores_csv(store: Store, st: _JobSettings) -> bytes:
    """The year's scores.csv as written by the export stage (OUT/Y/scores.csv), else built from the store."""
    written = st.out_dir.parent / "scores.csv"
    if written.is_file():
        return written.read_bytes()
    from audit.exports import year_scores_csv

    return year_scores_csv(store, st.run_id, st.weights).encode("utf-8")


def _render_org(store: Store, st: _JobSettings, name: str) -> tuple[Path, Path | None, int]:
    report = build_organization_report(store, st.run_id, name, weights=st.weights, evaluating_unit=st.evaluating_unit,
                                       portal_title=st.portal_title, rules_params=st.rules_params,
                                       legal_basis=st.legal_basis, context=st.context, doc_settings=st.doc)
    html = render_html("organization.html", report=report, charts=organization_charts(report))
    stem = org_file(name)
    html_path = st.out_dir / f"{stem}.html"
    _check_size(html, st)
    _write_text(html_path, html)
    pdf_path, refused = None, []
    if st.pdf:
        from audit.exports import organization_scores_csv

        pdf_path = st.out_dir / f"{stem}.pdf"
        rows = organization_scores_csv(store, st.run_id, name).encode("utf-8")
        refused = html_to_pdf(html, pdf_path, [PdfAttachment(
            f"scores-{stem}.csv", rows, f"Calificaciones de los conjuntos de {report.organization.title}, {report.year} "
            "(filas de scores.csv)")])
    return html_path, pdf_path, len(refused)


#: collector thresholds while a report is laid out. WeasyPrint allocates millions of short-lived objects per report;
#: with Python's default (700, 10, 10) the collector took 4.6 of the 23.7 s of CPU of the sample portal's 19 reports.
#: At 20,000 it takes about 1.5 s and a 1,000-dataset annex peaks where it did (563 vs 559 MB; 50,000 would reach
#: 647 MB). A full collection after each PDF keeps memory where it was (docs/benchmarks.md).
LAYOUT_GC_THRESHOLD = (20_000, 10, 10)


@contextmanager
def layout_gc() -> Iterator[None]:
    """Collect garbage rarely while one report is laid out (``html_to_pdf`` collects fully after each PDF); the
    previous thresholds come back."""
    previous = gc.get_threshold()
    gc.set_threshold(*LAYOUT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _run_job(store: Store, st: _JobSettings, job: str | None) -> tuple[str | None, Path, Path | None, int]:
    with layout_gc():
        if job is None:
            return (None, *_render_portal(store, st))
        return (job, *_render_org(store, st, job))


# per-process state of the pool workers
_WORKER: dict[str, Any] = {}


def _init_worker(db_url: str, st: _JobSettings) -> None:
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    _WORKER["store"] = open_store(db_url, migrate_schema=False)
    _WORKER["settings"] = st
    import weasyprint  # noqa: F401 - imported before the freeze, so its objects join it

    # what the imports allocated lives as long as the worker: out of every later full collection
    gc.freeze()


def _worker_job(job: str | None) -> tuple[str | None, Path, Path | None, int]:
    st: _JobSettings = _WORKER["settings"]
    with memory_cap(st.worker_memory_mb):
        return _run_job(_WORKER["store"], st, job)


class ReportMemoryError(Exception):
    pass


@contextmanager
def memory_cap(limit_mb: float | None) -> Iterator[None]:
    """Cap this process's address space (RLIMIT_AS) while one report is laid out: WeasyPrint's memory grows with
    the document, and a report beyond the cap must fail alone, not take the machine (or the run) with it. The
    previous soft limit is restored afterwards, which also leaves room to report the failure."""
    if limit_mb is None or not hasattr(resource, "RLIMIT_AS"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = int(limit_mb * 2**20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    except MemoryError:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        raise ReportMemoryError(
            f"memoria insuficiente: el informe necesitó más de {limit_mb:.0f} MB "
            "(limits.report_worker_memory_mb); auméntelo o divida el anexo (reports.pdf_annex_chunk_datasets)"
        ) from None
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


_WORKER_DIED = ("el proceso que generaba el informe terminó abruptamente (probablemente por falta de memoria: "
                "limits.report_worker_memory_mb; o divida el anexo con reports.pdf_annex_chunk_datasets)")


def _render_in_pool(jobs: list[str | None], n_workers: int, db_url: str, st: _JobSettings,
                    record: Callable[..., None], advance: Callable[[int], None], *, last_try: bool) -> list[str | None]:
    """Render ``jobs`` in spawned workers (no inherited database connections; they die with this process and on a
    stop). Returns the jobs lost to a broken pool (to be tried again), recording everything else; the last try
    gives each job its own pool, so a job that still kills its worker is recorded as failed alone."""
    broken: list[str | None] = []
    batches = [[job] for job in jobs] if last_try else [jobs]
    for batch in batches:
        with process_pool(min(n_workers, len(batch)), initializer=_init_worker, initargs=(db_url, st)) as pool:
            futures = {pool.submit(_worker_job, job): job for job in batch}
            for fut in completed(futures, stage="report"):
                job = futures[fut]
                exc = fut.exception()
                if isinstance(exc, BrokenProcessPool) and not last_try:
                    broken.append(job)
                    continue
                if exc is None:
                    record(job, fut.result(), None)
                elif isinstance(exc, BrokenProcessPool):
                    record(job, None, _WORKER_DIED)
                else:
                    record(job, None, str(exc) if isinstance(exc, ReportMemoryError) else
                           f"{exc.__class__.__name__}: {exc}")
                advance(1)
    return [job for job in jobs if job in broken]


def _db_url(store: Store) -> str | None:
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"):
        return None  # an in-memory database cannot be shared with other processes
    return url.render_as_string(hide_password=False)


def render_reports(
    store: Store,
    run_id: int,
    out_dir: Path,
    *,
    cfg: AuditConfig,
    organizations: list[str] | None = None,
    pdf: bool = True,
    workers: int = 2,
    include_portal: bool | None = None,
) -> ReportOutput:
    """Write the portal report (when ``organizations`` is None) and one report per organization.

    ``include_portal`` overrides that default (e.g. ``organizations=[], include_portal=True``: only the portal).

    A failing report is logged and recorded in ``ReportOutput.errors``; the others are still written.
    Unknown organization names raise :class:`ConfigError` before anything is rendered."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"No se puede crear la carpeta de informes {out_dir}: {exc}") from exc
    all_names = organization_names(store, run_id)
    if organizations is not None:
        unknown = sorted(set(organizations) - set(all_names))
        if unknown:
            raise ConfigError(
                f"Organizaciones desconocidas en la corrida {run_id}: {', '.join(unknown)}",
                hint="Use los nombres CKAN (slug); vea organizations.csv de la corrida.",
            )
        names = [n for n in all_names if n in set(organizations)]
    else:
        names = all_names
    stems: dict[str, str] = {}
    for n in names:
        if org_file(n) in stems:
            raise ConfigError(f"Dos organizaciones producirían el mismo archivo: {stems[org_file(n)]!r} y {n!r}")
        stems[org_file(n)] = n

    context = build_portal_context(store, run_id, weights=dict(cfg.scoring.weights), rules_params=cfg.rules.model_dump())
    st = _settings_from(cfg, run_id, out_dir, pdf, context)
    with_portal = organizations is None if include_portal is None else include_portal
    jobs: list[str | None] = ([None] if with_portal else []) + list(names)
    output = ReportOutput(out_dir=out_dir)
    db_url = _db_url(store)
    n_workers = max(1, min(workers, len(jobs)))

    def record(job: str | None, result: tuple[str | None, Path, Path | None, int] | None, error: str | None) -> None:
        key = job if job is not None else "portal"
        if error is not None:
            log.error("No se pudo generar el informe de %s: %s", key, error)
            output.errors[key] = error
            return
        assert result is not None
        _job, html_path, pdf_path, refused = result
        output.refused_urls += refused
        if job is None:
            output.portal_html, output.portal_pdf = html_path, pdf_path
        else:
            output.organizations[job] = (html_path, pdf_path)

    with stage_progress("Generando informes", total=len(jobs)) as advance:
        if n_workers == 1 or db_url is None:
            for job in jobs:
                try:
                    record(job, _run_job(store, st, job), None)
                except Exception as exc:  # noqa: BLE001 - collect, don't crash: one bad report must not stop the rest
                    log.debug("report failure", exc_info=True)
                    record(job, None, f"{exc.__class__.__name__}: {exc}")
                advance(1)
        else:
            # A worker that dies (e.g. a C library aborting when the memory cap is reached) breaks the whole pool:
            # the reports it took down are tried again in a fresh pool, then one pool each, so only the culprit
            # fails and the others are still written.
            pending: list[str | None] = list(jobs)  # portal (largest) first
            for attempt in range(3):
                broken = _render_in_pool(pending, n_workers, db_url, st, record, advance, last_try=attempt == 2)
                if not broken:
                    break
                log.warning("Un proceso de informes terminó abruptamente; se reintentan %d informes", len(broken))
                pending = broken
    output.elapsed_s = time.perf_counter() - started
    log.info("Informes: %d organizaciones%s en %.1f s (%d errores)", len(output.organizations),
             " y el del portal" if output.portal_html else "", output.elapsed_s, len(output.errors))
    return output
