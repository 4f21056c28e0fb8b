"""Change alerts after every periodic audit (``run_audit.py alerts``; the scheduler runs it after each audit).

Each organization with changes (audit.changes) gets **one** digest e-mail per audit — plain text and HTML, in
Spanish — addressed to its liaisons: ``alerts.recipients[<organization>]`` plus the rows of
``notify.contacts_file``; only when an organization has none and ``alerts.maintainer_fallback`` is on, the
``maintainer_email`` of its datasets. ``alerts.evaluators`` get the portal digest. No change → no e-mail.

Sending is idempotent per audit: an ``alert_delivery`` row is written *before* each message (``sending``) and
updated after (``sent`` / ``failed``); a later invocation for the same run skips every organization whose row is
not ``failed`` — a restart never sends twice (at most once: a crash between the SMTP answer and the update leaves
``sending``, which is not retried and is reported). Messages are throttled (``alerts.throttle_s``) and delivered
with ``audit.notify``'s SMTP code (STARTTLS, login, timeouts, retries). ``--dry-run DIR`` writes ``.eml`` files
and records nothing.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, select_autoescape
from sqlalchemy import select

from audit.changes import OrgChanges, PortalChanges, compute_changes
from audit.clock import local_day, utcnow
from audit.demand import NO_DEMAND_NOTE_ES, Usage, collect_demand
from audit.errors import AuditError
from audit.notify import Deliveries, Delivery, deliver, load_contacts, safe_name, smtp_password
from audit.outcomes import outcome_es
from audit.store.models import AlertDelivery, AuditRun, DatasetSnapshot
from reports.wording import frequency_text, plain_es

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.store.db import Store

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
PORTAL = ""  # organization_name of the evaluators' digest

OUTCOME_ES = outcome_es("dashboard")
STATUS_ES = {"fail": "no cumple", "partial": "cumple parcialmente", "pass": "cumple"}
_MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre")


def fecha(d: date) -> str:
    """15 de enero de 2027."""
    return f"{d.day} de {_MONTHS[d.month - 1]} de {d.year}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --- digest content (shared by e-mail and Atom feed) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    headline: str
    details: tuple[str, ...] = ()
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    intro: str
    lines: tuple[Line, ...]
    more: int = 0  # items left out (alerts.max_items)


@dataclass
class Digest:
    organization: str  # "" = portal digest
    subject: str
    heading: str
    intro: str
    sections: list[Section] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)
    count: int = 0


def _titles() -> dict[str, str]:
    from rules import RULES

    return {r.id: r.title_es for r in RULES}


def dataset_url(portal_url: str, name: str) -> str:
    return f"{portal_url.rstrip('/')}/dataset/{name}"


def _usage(usage: Usage | None) -> tuple[str, ...]:
    return (f"Uso: {usage.label_es()}.",) if usage is not None and usage.label_es() else ()


def _section(title: str, intro: str, lines: list[Line], max_items: int) -> Section | None:
    if not lines:
        return None
    return Section(f"{title} ({len(lines)})", intro, tuple(lines[:max_items]), max(0, len(lines) - max_items))


def _declared(frequency: str) -> str:
    """The frequency as the metadata declare it, and in words when it is a code: «R/P1M» (cada mes)."""
    words = frequency_text(frequency)
    return f"«{frequency}» ({words})" if words else f"«{frequency}»"


def org_sections(o: OrgChanges, changes: PortalChanges, *, max_items: int = 50) -> list[Section]:
    titles = _titles()
    portal = changes.portal_url
    n = changes.consecutive_failures
    out = [
        _section("Dejaron de cumplir", "Características que en la auditoría anterior se cumplían (o no aplicaban) "
                 "y ahora no; primero las de mayor impacto y uso.", [
                     Line(f"{f.title} — {titles.get(f.characteristic, f.characteristic)}: {STATUS_ES[f.status]}",
                          tuple(x for msg, rem in f.findings for x in (f"Hallazgo: {plain_es(msg)}", *(
                              [f"Qué hacer: {plain_es(rem)}"] if rem else [])))
                          + _usage(f.usage), dataset_url(portal, f.dataset))
                     for f in o.new_failures], max_items),
        _section(f"Recursos que fallan en {n} auditorías seguidas" if n > 1 else "Recursos que fallaron en esta auditoría",
                 "Una falla aislada puede ser pasajera; éstas se repitieron en cada revisión.", [
                     Line(f"{b.title} — «{b.resource}»: {OUTCOME_ES.get(b.outcome, b.outcome)}",
                          (f"URL: {b.url}",) + ((f"Hallazgo: {plain_es(b.message)}",) if b.message else ())
                          + ((f"Qué hacer: {plain_es(b.remediation)}",) if b.remediation else ()) + _usage(b.usage),
                          dataset_url(portal, b.dataset))
                     for b in o.broken], max_items),
        _section("Por vencer su periodo de actualización", "Conjuntos que hoy están al día y dejarán de estarlo "
                 "si no se actualizan antes de la fecha indicada (según la frecuencia que declaran).", [
                     Line(f"{v.title}: actualícelo a más tardar el {fecha(v.deadline)}",
                          (f"Frecuencia declarada: {_declared(v.frequency)}; última actualización de los datos: "
                           f"{fecha(v.last_update)}.",) + _usage(v.usage), dataset_url(portal, v.dataset))
                     for v in o.overdue], max_items),
        _section("Compromisos de publicación por vencer", "Conjuntos comprometidos en el inventario que aún no "
                 "están publicados con un archivo de datos descargable.", [
                     Line(f"«{c.dataset}»: vence el {fecha(c.due_date)}",
                          (f"Se encontró «{c.matched_dataset}» en el portal, pero aún no tiene un archivo de datos "
                           "descargable.",) if c.matched_dataset else
                          ("Aún no hay en el portal un conjunto con ese nombre o título en su organización.",))
                     for c in o.commitments], max_items),
        _section("Posibles datos personales", "Columnas de archivos publicados que parecen contener datos personales "
                 "(ejemplos enmascarados). Verifique y, si lo son, retire o anonimice la columna.", [
                     Line(f"{a.dataset_title} — «{a.resource}», columna «{a.column}»: {a.count:,} valores con forma "
                          f"de {a.kind_es}", ((f"Ejemplos: {', '.join(a.examples)}",) if a.examples else ()),
                          dataset_url(portal, a.dataset))
                     for a in o.personal_data], max_items),
        _section("Corregidos", "Características que antes no se cumplían y ahora sí.", [
            Line(f"{x.title} — {titles.get(x.characteristic, x.characteristic)}: ahora cumple",
                 link=dataset_url(portal, x.dataset)) for x in o.fixed], max_items),
    ]
    return [s for s in out if s is not None]


def audit_day(changes: PortalChanges, cfg: AuditConfig) -> str:
    """The audit's date as the agencies read it: in the configured time zone (``timezone``), not UTC's (an audit
    started at 01:00 UTC on 7 December ran on 6 December in Mexico City)."""
    return fecha(local_day(changes.audited_at, cfg.timezone))


def _audit_sentence(changes: PortalChanges, cfg: AuditConfig, whom: str | None) -> str:
    when = audit_day(changes, cfg)
    what = f"los datos abiertos {whom} publicados en" if whom else "los datos abiertos de"
    return f"La {cfg.reports.evaluator.unit} auditó el {when} {what} {changes.portal_title}."


def dashboard_base(cfg: AuditConfig) -> str:
    return (cfg.alerts.dashboard_url or cfg.web.public_url or "").rstrip("/")


def _org_link(cfg: AuditConfig, org: str) -> str | None:
    base = dashboard_base(cfg)
    return f"{base}/organizaciones/{org}" if base and org else None


def org_digest(o: OrgChanges, changes: PortalChanges, cfg: AuditConfig) -> Digest:
    when = audit_day(changes, cfg)
    closing = ["Este aviso se envía después de cada auditoría periódica sólo si hubo cambios; atender estos puntos "
               "antes del corte mejora el resultado de la evaluación anual."]
    link = _org_link(cfg, o.organization)
    if link:
        closing.append(f"Resultados completos: {link} · Canal Atom: {link}/cambios.atom")
    return Digest(
        organization=o.organization,
        subject=f"Datos abiertos: {_plural(o.count, 'cambio', 'cambios')} en {o.title} (auditoría del {when})",
        heading=f"Cambios en los datos abiertos de {o.title}",
        intro=f"{_audit_sentence(changes, cfg, f'de {o.title}')} Desde la auditoría anterior hay "
              f"{_plural(o.count, 'cambio', 'cambios')}:",
        sections=org_sections(o, changes, max_items=cfg.alerts.max_items), closing=closing, count=o.count)


def portal_digest(changes: PortalChanges, cfg: AuditConfig) -> Digest:
    when = audit_day(changes, cfg)
    lines = []
    for o in changes.changed:
        parts = [(len(o.new_failures), "dejó de cumplir", "dejaron de cumplir"),
                 (len(o.broken), "recurso con fallas seguidas", "recursos con fallas seguidas"),
                 (len(o.overdue), "por vencer su actualización", "por vencer su actualización"),
                 (len(o.commitments), "compromiso por vencer", "compromisos por vencer"),
                 (len(o.fixed), "corregido", "corregidos")]
        lines.append(Line(o.title, ("; ".join(_plural(k, a, b) for k, a, b in parts if k) + ".",),
                          _org_link(cfg, o.organization)))
    sections = [s for s in [_section("Organizaciones con cambios", "Cada organización recibió su propio resumen.",
                                     lines, cfg.alerts.max_items)] if s is not None]
    if changes.most_used_failing:
        sections.append(Section("Conjuntos más consultados que no cumplen", "Atenderlos primero beneficia a más "
                                "personas.", tuple(
                                    Line(f"{title}: {_plural(k, 'característica', 'características')} sin cumplir",
                                         (f"Uso: {u.label_es()}.",), dataset_url(changes.portal_url, name))
                                    for name, title, _org, u, k in changes.most_used_failing)))
    closing = [] if changes.demand_available else [NO_DEMAND_NOTE_ES]
    return Digest(
        organization=PORTAL,
        subject=f"Datos abiertos: {_plural(changes.count, 'cambio', 'cambios')} en "
                f"{_plural(len(changes.changed), 'organización', 'organizaciones')} (auditoría del {when})",
        heading=f"Cambios en {changes.portal_title}",
        intro=f"{_audit_sentence(changes, cfg, None)} Desde la auditoría anterior hay "
              f"{_plural(changes.count, 'cambio', 'cambios')}:",
        sections=sections, closing=closing, count=changes.count)


def digest_text(d: Digest, greeting: str = "Buen día:", signature: str = "") -> str:
    out = [greeting, "", d.intro]
    for s in d.sections:
        out += ["", s.title.upper(), s.intro]
        for line in s.lines:
            out.append(f"  • {line.headline}")
            out += [f"      {x}" for x in line.details]
            if line.link:
                out.append(f"      {line.link}")
        if s.more:
            out.append(f"  … y {s.more} más (vea el tablero).")
    out += ["", *d.closing]
    if signature:
        out += ["", "Atentamente,", signature]
    return "\n".join(out) + "\n"


_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
#: the digest's sections as an HTML fragment (the e-mail's body, and the content of an Atom entry)
_FRAGMENT = _ENV.from_string("""\
<p>{{ d.intro }}</p>
{% for s in d.sections %}
<h2 style="font-size: 1.1em; border-bottom: 1px solid #ccc;">{{ s.title }}</h2>
<p style="color: #555;">{{ s.intro }}</p>
<ul>
{% for line in s.lines %}<li><strong>{% if line.link %}<a href="{{ line.link }}">{{ line.headline }}</a>{% else %}{{ line.headline }}{% endif %}</strong>
{% if line.details %}<ul>{% for x in line.details %}<li>{{ x }}</li>{% endfor %}</ul>{% endif %}</li>
{% endfor %}{% if s.more %}<li>… y {{ s.more }} más (vea el tablero).</li>{% endif %}
</ul>
{% endfor %}
{% for p in d.closing %}<p style="color: #555;">{{ p }}</p>{% endfor %}
""")
_DOCUMENT = _ENV.from_string("""\
<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>{{ d.subject }}</title></head>
<body style="font-family: Arial, sans-serif; color: #222; max-width: 46em;">
{% if greeting %}<p>{{ greeting }}</p>{% endif %}
<h1 style="font-size: 1.3em;">{{ d.heading }}</h1>
{{ fragment }}
{% if signature %}<p>Atentamente,<br>{{ signature }}</p>{% endif %}
</body></html>
""")


def digest_fragment(d: Digest) -> str:
    return _FRAGMENT.render(d=d)


def digest_html(d: Digest, greeting: str = "", signature: str = "") -> str:
    from markupsafe import Markup

    return _DOCUMENT.render(d=d, greeting=greeting, signature=signature, fragment=Markup(digest_fragment(d)))


def build_message(cfg: AuditConfig, d: Digest, recipients: list[str], run_id: int) -> EmailMessage:
    unit = cfg.reports.evaluator.unit
    msg = EmailMessage()
    msg["Subject"] = d.subject
    msg["From"] = cfg.notify.sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = cfg.notify.sender.rpartition("@")[2] or "localhost"
    # deterministic: a receiving server can recognise a duplicate, and the store records which message went out
    msg["Message-ID"] = f"<cambios-{run_id}-{safe_name(d.organization or 'portal')}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(digest_text(d, signature=unit))
    msg.add_alternative(digest_html(d, greeting="Buen día:", signature=unit), subtype="html")
    return msg


# --- recipients and sending -------------------------------------------------------------------------------------


def recipients_by_org(store: Store, cfg: AuditConfig, run_id: int, orgs: list[str]) -> dict[str, list[str]]:
    """Configured liaisons per organization; the datasets' maintainers only when opted in and none is configured."""
    out: dict[str, list[str]] = {o: list(cfg.alerts.recipients.get(o, [])) for o in orgs}
    if cfg.notify.contacts_file:
        for org, contacts in load_contacts(cfg.notify.contacts_file).items():
            if org in out:
                out[org] += [c.email for c in contacts]
    missing = [o for o, emails in out.items() if not emails]
    if missing and cfg.alerts.maintainer_fallback:
        with store.session() as s:
            for org, raw in s.execute(select(DatasetSnapshot.organization_name, DatasetSnapshot.raw).where(
                    DatasetSnapshot.run_id == run_id, DatasetSnapshot.organization_name.in_(missing))):
                email = str((raw or {}).get("maintainer_email") or "").strip()
                if _EMAIL.match(email):
                    out[org].append(email)
    return {o: sorted(dict.fromkeys(e.strip().lower() for e in emails)) for o, emails in out.items()}


@dataclass(kw_only=True)
class AlertsResult(Deliveries):
    run_id: int
    previous_run_id: int | None
    dry_run: bool
    changes: int = 0

    def summary_es(self) -> str:
        if self.previous_run_id is None:
            return (f"Corrida {self.run_id}: es la primera auditoría completa del portal; sirve de referencia y no "
                    "genera avisos de cambios.")
        counts = {s: len(self._with(s)) for s in ("sent", "written", "failed", "skipped", "already")}
        head = (f"Avisos de cambios de la corrida {self.run_id} (frente a la {self.previous_run_id}): "
                f"{_plural(self.changes, 'cambio', 'cambios')}; ")
        head += (f"{counts['written']} mensajes escritos (simulación)" if self.dry_run
                 else f"{counts['sent']} enviados, {counts['already']} ya enviados antes")
        lines = [f"{head}, {counts['failed']} fallidos, {counts['skipped']} omitidos."]
        lines += [f"  ✗ {d.organization or 'portal'} <{d.email}>: {d.error}" for d in self.failed]
        lines += [f"  – {d.organization or 'portal'}: {d.error}" for d in self._with("skipped")]
        return "\n".join(lines)


def _claim(store: Store, run_id: int, org: str, recipients: list[str], d: Digest, msg: EmailMessage) -> str | None:
    """Record the delivery as ``sending`` unless this run's digest for ``org`` was already handled; returns the
    previous status that forbids sending (sent / sending) or None."""
    with store.session() as s:
        row = s.scalar(select(AlertDelivery).where(AlertDelivery.run_id == run_id,
                                                   AlertDelivery.organization_name == org))
        if row is not None and row.status != "failed":
            return row.status
        if row is None:
            row = AlertDelivery(run_id=run_id, organization_name=org, created_at=utcnow(), attempts=0)
            s.add(row)
        row.recipient = ", ".join(recipients)[:320]
        row.status, row.error, row.subject = "sending", None, d.subject
        row.message_id, row.changes = str(msg["Message-ID"]), d.count
    return None


def _finish(store: Store, run_id: int, org: str, attempts: int, error: str | None) -> None:
    with store.session() as s:
        row = s.scalar(select(AlertDelivery).where(AlertDelivery.run_id == run_id,
                                                   AlertDelivery.organization_name == org))
        assert row is not None
        row.status = "failed" if error else "sent"
        row.attempts = (row.attempts or 0) + attempts
        row.error = error
        row.sent_at = None if error else utcnow()


def send_alerts(store: Store, cfg: AuditConfig, run_id: int, *, dry_run_dir: Path | None = None,
                as_of: date | None = None) -> AlertsResult:
    """Compute the run's changes and send (or write) one digest per organization with changes, plus the portal
    digest to the evaluators. Never raises for one failed delivery (see ``result.failed``)."""
    with store.session() as s:
        run = s.get(AuditRun, run_id)
        if run is None:
            raise AuditError(f"No existe la corrida {run_id}.", hint="Vea las corridas con 'status'.")
        if run.status != "complete":
            raise AuditError(f"La corrida {run_id} no está completa ({run.status}): no se comparan corridas "
                             "parciales.", hint="Indique una corrida completa con --run.")

    if cfg.alerts.usage_max_calls:
        collect_demand(store, cfg, run_id)  # before the changes: their order is impact × demand
    changes = compute_changes(store, cfg, run_id, as_of=as_of)
    dry = Path(dry_run_dir) if dry_run_dir else None
    result = AlertsResult(run_id=run_id, previous_run_id=changes.previous_run_id, dry_run=dry is not None,
                          changes=changes.count)
    if changes.baseline or not changes.count:
        log.info("alerts run=%d previous=%s changes=0 (no e-mail)", run_id, changes.previous_run_id)
        return result
    password = smtp_password(cfg, dry_run=dry is not None)
    if dry is not None:
        dry.mkdir(parents=True, exist_ok=True)
    changed = changes.changed
    recipients = recipients_by_org(store, cfg, run_id, [o.organization for o in changed])
    plan: list[tuple[str, Digest, list[str]]] = [(o.organization, org_digest(o, changes, cfg),
                                                  recipients.get(o.organization, [])) for o in changed]
    evaluators = sorted(dict.fromkeys(e.strip().lower() for e in cfg.alerts.evaluators))
    plan.append((PORTAL, portal_digest(changes, cfg), evaluators))
    sent_any = False
    for org, d, to in plan:
        if not to:
            why = "sin evaluadores en alerts.evaluators" if org == PORTAL else (
                "sin destinatarios (alerts.recipients, notify.contacts_file"
                + (" ni responsables de sus conjuntos)" if cfg.alerts.maintainer_fallback else ")"))
            result.deliveries.append(Delivery(org, "", "skipped", error=why))
            continue
        msg = build_message(cfg, d, to, run_id)
        if dry is not None:
            path = dry / f"cambios-{run_id}__{safe_name(org or 'portal')}.eml"
            path.write_bytes(bytes(msg))
            result.deliveries.append(Delivery(org, ", ".join(to), "written", path=path))
            continue
        previous = _claim(store, run_id, org, to, d, msg)
        if previous is not None:
            result.deliveries.append(Delivery(org, ", ".join(to), "already",
                                              error="ya enviado" if previous == "sent" else "envío sin confirmar"))
            continue
        if sent_any and cfg.alerts.throttle_s:
            time.sleep(cfg.alerts.throttle_s)
        attempts, error = deliver(cfg, msg, password)
        sent_any = True
        _finish(store, run_id, org, attempts, error)
        (log.error if error else log.info)("alerts run=%d org=%s to=%s status=%s attempts=%d%s", run_id, org or "*",
                                           ", ".join(to), "failed" if error else "sent", attempts,
                                           f" error={error}" if error else "")
        result.deliveries.append(Delivery(org, ", ".join(to), "failed" if error else "sent", attempts=attempts,
                                          error=error))
    return result
