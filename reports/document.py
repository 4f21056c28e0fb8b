"""What makes a report an official document: folio, period, dates, method version, legal basis, evaluator.

``DocSettings`` is taken from the configuration once (picklable: it travels to the report worker processes);
``document_info(run, settings)`` adds what depends on the run. Templates show ``DocumentInfo`` on the cover, in the
footer and in the methods annex; scores.json carries the same folio and versions (``audit.exports``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from audit.clock import assume_utc, local_day, utcnow
from audit.indicator import cutoff_date, evaluation_period
from audit.legal import DEFAULT_LEGAL_BASIS, LegalBasis
from audit.manifest import evaluation_folio, rules_version, software_version
from audit.store.models import AuditRun

if TYPE_CHECKING:
    from audit.config import AuditConfig

#: what «publicado» meant, per ``indicator.published_requires`` (the evaluator's choice is stated in the report)
PUBLISHED_DEFINITIONS = {
    "data_file": "público, en el portal a la fecha de corte y con al menos un archivo de datos descargable (no basta "
                 "su diccionario, su documentación ni una página de consulta)",
    "reachable_resource": "público, en el portal a la fecha de corte y con al menos un recurso que responde",
    "listed": "público y listado en el portal a la fecha de corte",
}

@dataclass(frozen=True, slots=True)
class LegalInfo:
    full_citation: str  # the law, its publication, article and fraction (each characteristic quotes its inciso)
    instruments: tuple[str, ...] = ()  # additional instruments as configured («Ley …, art. …»)


def legal_info(lb: LegalBasis | None = None) -> LegalInfo:
    """The legal basis as the documents quote it (the configuration's ``legal_basis`` block)."""
    lb = lb or DEFAULT_LEGAL_BASIS
    return LegalInfo(full_citation=lb.full_citation(), instruments=tuple(lb.instruments_es()))


@dataclass(frozen=True, slots=True)
class DocSettings:
    """The configuration a document needs, taken once in the parent process."""

    unit: str = ""
    name: str = ""
    position: str = ""
    oficio: str | None = None
    cutoff_month_day: str = "12-31"
    published_requires: str = "data_file"
    config_digest: str = ""
    legal: LegalInfo = field(default_factory=legal_info)
    timezone: str = "America/Mexico_City"


def doc_settings(cfg: AuditConfig) -> DocSettings:
    ev = cfg.reports.evaluator
    return DocSettings(
        unit=ev.unit, name=ev.name, position=ev.position, oficio=ev.oficio,
        cutoff_month_day=cfg.indicator.cutoff_month_day,
        # indicator.published_requires arrives with the rules issue; until then the documented default applies
        published_requires=str(getattr(cfg.indicator, "published_requires", "data_file")),
        config_digest=cfg.digest(), legal=legal_info(cfg.legal_basis), timezone=cfg.timezone,
    )


@dataclass(slots=True)
class DocumentInfo:
    folio: str
    year: int
    period_start: date
    period_end: date
    review_date: datetime | None  # when the portal was read (the run's start, UTC-aware)
    review_day: date | None  # that day in the configured time zone
    evaluation_date: date  # when the evaluation was closed (annual evaluation, run end, or now), local day
    cutoff: date
    portal_url: str
    software_version: str
    rules_version: str
    config_digest: str
    legal: LegalInfo
    unit: str
    name: str
    position: str
    oficio: str | None
    published_requires: str
    published_definition: str

    @property
    def before_cutoff(self) -> bool:
        """The portal was read before the year's cut-off: the period evaluated ends on the review day and the
        commitments due after it are still in term."""
        return self.review_day is not None and self.review_day < self.cutoff

    @property
    def method_version(self) -> str:
        return f"software {self.software_version} · reglas {self.rules_version} · configuración {self.config_digest}"


def _evaluation_date(run: AuditRun, timezone: str) -> date:
    annual = (run.counts or {}).get("annual_evaluation") if isinstance(run.counts, dict) else None
    if isinstance(annual, dict) and isinstance(annual.get("at"), str):
        try:
            return local_day(datetime.fromisoformat(annual["at"]), timezone)
        except ValueError:
            pass
    return local_day(run.finished_at or utcnow(), timezone)


def document_info(run: AuditRun, year: int, settings: DocSettings | None) -> DocumentInfo:
    st = settings or DocSettings()
    cutoff = cutoff_date(year, st.cutoff_month_day)
    requires = st.published_requires if st.published_requires in PUBLISHED_DEFINITIONS else "data_file"
    review = assume_utc(run.started_at) if run.started_at else None
    review_day = local_day(review, st.timezone) if review else None
    period = evaluation_period(year, st.cutoff_month_day, review_day)
    return DocumentInfo(
        folio=evaluation_folio(run.portal.url, year, run.id),
        year=year,
        period_start=period[0],
        period_end=period[1],
        review_date=review,
        review_day=review_day,
        evaluation_date=_evaluation_date(run, st.timezone),
        cutoff=cutoff,
        portal_url=run.portal.url,
        software_version=software_version(),
        rules_version=rules_version(),
        # the digest of the configuration the run was audited with; the current one if the run has none
        config_digest=run.config_digest or st.config_digest,
        legal=st.legal,
        unit=st.unit, name=st.name, position=st.position, oficio=st.oficio,
        published_requires=requires,
        # read before the cut-off, what was on the portal is known on the day it was read, not on the cut-off
        published_definition=PUBLISHED_DEFINITIONS[requires].replace(
            "a la fecha de corte", "el día de la revisión") if period[1] < cutoff else PUBLISHED_DEFINITIONS[requires],
    )
