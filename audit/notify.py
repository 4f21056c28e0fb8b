"""E-mail each organization's liaison its annual report (``run_audit.py notify --year Y``).

Contacts come from a CSV (``notify.contacts_file``: ``organization,name,email``; several rows per organization
allowed). Each liaison gets one message: a short Spanish summary of the organization's results (from
``OUT/<Y>/organizations.csv``) and its PDF (``OUT/<Y>/reports/<organization>.pdf``) attached.

Delivery is over SMTP with STARTTLS and login from config (password in ``AUDIT_SMTP_PASSWORD``). One connection per
message, so a failure never blocks the others; temporary failures (4xx, connection errors, timeouts) are retried
with exponential backoff, permanent ones (5xx, authentication) are not; every outcome is in the result.
A dry run writes the messages as ``.eml`` files instead of sending them.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

import rules
from audit.errors import ConfigError, InputFileError

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.store.db import Store

log = logging.getLogger(__name__)

PASSWORD_ENV = "AUDIT_SMTP_PASSWORD"
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@dataclass(frozen=True)
class Contact:
    organization: str
    name: str
    email: str


@dataclass
class Delivery:
    organization: str
    email: str
    status: str  # sent | written | failed | skipped
    attempts: int = 0
    error: str | None = None
    path: Path | None = None  # the .eml file (dry run)


@dataclass
class Deliveries:
    """What happened to each message of one sending (shared by the annual notification and the change alerts)."""

    deliveries: list[Delivery] = field(default_factory=list)

    def _with(self, status: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == status]

    @property
    def failed(self) -> list[Delivery]:
        return self._with("failed")

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(kw_only=True)
class NotifyResult(Deliveries):
    year: int
    dry_run: bool

    @property
    def sent(self) -> list[Delivery]:
        return self._with("sent")

    @property
    def written(self) -> list[Delivery]:
        return self._with("written")

    @property
    def skipped(self) -> list[Delivery]:
        return self._with("skipped")

    def summary_es(self) -> str:
        """Spanish summary for the CLI: counts, then one line per failure/skip."""
        head = (f"Notificación {self.year}: {len(self.written)} mensajes escritos (simulación)" if self.dry_run
                else f"Notificación {self.year}: {len(self.sent)} enviados")
        lines = [f"{head}, {len(self.failed)} fallidos, {len(self.skipped)} omitidos."]
        lines += [f"  ✗ {d.organization} <{d.email}>: {d.error}" for d in self.failed]
        lines += [f"  – {d.organization}{f' <{d.email}>' if d.email else ''}: {d.error}" for d in self.skipped]
        return "\n".join(lines)


# --- inputs -----------------------------------------------------------------------------------------------------


def load_contacts(path: str | Path) -> dict[str, list[Contact]]:
    """organization → contacts. Malformed files and rows are one clear InputFileError naming the lines."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputFileError(f"No existe el archivo de contactos: {p}",
                             hint="Indique la ruta en notify.contacts_file (config.yaml).") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"No se puede leer el archivo de contactos {p}: {exc}",
                             hint="Guárdelo como CSV en UTF-8.") from exc
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = {"organization", "email"} - set(header)
    if missing:
        raise InputFileError(
            f"El archivo de contactos {p} no tiene las columnas {', '.join(sorted(missing))} "
            f"(encontradas: {', '.join(header) or 'ninguna'}).",
            hint="Encabezado esperado: organization,name,email",
        )
    out: dict[str, list[Contact]] = {}
    bad: list[str] = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(row.values()):
            continue
        org, email = row.get("organization", ""), row.get("email", "")
        if not org or not _EMAIL.match(email):
            bad.append(f"línea {line} ({org or 'sin organización'}, {email or 'sin correo'})")
            continue
        out.setdefault(org, []).append(Contact(org, row.get("name", ""), email))
    if bad:
        raise InputFileError(
            f"Renglones inválidos en {p}: {'; '.join(bad[:10])}{' …' if len(bad) > 10 else ''}",
            hint="Cada renglón necesita la organización (nombre CKAN) y un correo válido.",
        )
    return out


def load_organization_results(out_dir: Path, year: int) -> dict[str, dict[str, str]]:
    """organization → its row of ``OUT/<year>/organizations.csv``."""
    path = Path(out_dir) / str(year) / "organizations.csv"
    if not path.is_file():
        raise InputFileError(
            f"No existe {path}: la evaluación {year} no se ha generado en esa carpeta.",
            hint=f"Genere primero la evaluación (run_audit.py audit --year {year}) o indique --out.",
        )
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["organization"]: row for row in csv.DictReader(fh) if row.get("organization")}


# --- message ----------------------------------------------------------------------------------------------------


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _summary_lines(row: dict[str, str]) -> list[str]:
    lines = [f"  • Conjuntos de datos evaluados: {row.get('datasets') or 0}"]
    if row.get("conformes") not in (None, ""):
        lines.append(f"  • Conjuntos conformes (cumplen todas las características aplicables): {row['conformes']}")
    score = _float(row.get("score"))
    if score is not None:
        lines.append(f"  • Calificación general: {score * 100 if score <= 1 else score:.1f} de 100")
    committed, published = row.get("committed"), row.get("published")
    if committed not in (None, "", "0"):
        pct = _float(row.get("progress_pct"))
        lines.append(f"  • Compromisos de publicación cumplidos: {published} de {committed}"
                     + (f" ({pct:.1f} %)" if pct is not None else ""))
    pcts = [(k[: -len("_pct")], _float(v)) for k, v in row.items()
            if k.endswith("_pct") and k not in ("progress_pct", "quality_progress_pct")]
    ranked = sorted((p, c) for c, p in pcts if p is not None)
    if ranked and ranked[0][0] < 100:
        worst = ", ".join(f"{c.replace('_', ' ')} ({p:.0f} %)" for p, c in ranked[:3] if p < 100)
        lines.append(f"  • Características con menor cumplimiento: {worst}")
    return lines


def build_message(
    cfg: AuditConfig, *, year: int, contact: Contact, row: dict[str, str], pdf: Path | None, note: str | None = None
) -> EmailMessage:
    title = row.get("title") or contact.organization
    unit = cfg.reports.evaluator.unit
    portal = cfg.portal_title or cfg.portal_url or "el portal de datos abiertos"
    greeting = f"Estimado(a) {contact.name}:" if contact.name else "Buen día:"
    body = "\n".join([
        greeting,
        "",
        f"La {unit} concluyó la evaluación anual {year} de los datos abiertos publicados en {portal}, conforme a "
        f"las {rules.count_es()} características de los datos abiertos ({cfg.legal_basis.full_citation()}).",
        "",
        f"Resultados de {title}:",
        *_summary_lines(row),
        "",
        ("Adjuntamos el informe detallado en PDF, con los hallazgos por conjunto de datos y las acciones "
         "recomendadas para atenderlos." if pdf is not None else (note or "")),
        "Para cualquier aclaración, responda a este correo.",
        "",
        "Atentamente,",
        unit,
    ])
    msg = EmailMessage()
    msg["Subject"] = f"Evaluación de datos abiertos {year}: resultados de {title}"
    msg["From"] = cfg.notify.sender
    msg["To"] = formataddr((contact.name, contact.email)) if contact.name else contact.email
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=cfg.notify.sender.rpartition("@")[2] or None)
    msg.set_content(body)
    if pdf is not None:
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=f"evaluacion-{year}-{contact.organization}.pdf")
    return msg


# --- delivery ---------------------------------------------------------------------------------------------------


class _Permanent(Exception):
    pass


def _send_once(cfg: AuditConfig, msg: EmailMessage, password: str | None) -> None:
    n = cfg.notify
    try:
        with smtplib.SMTP(n.smtp_host, n.smtp_port, timeout=n.smtp_timeout_s) as smtp:
            smtp.ehlo()
            if n.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=n.smtp_cafile))
                smtp.ehlo()
            if n.smtp_user:
                smtp.login(n.smtp_user, password or "")
            smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise _Permanent(f"autenticación SMTP rechazada ({exc.smtp_code})") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise _Permanent(f"el servidor no admite STARTTLS/AUTH: {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{r}: {c} {m.decode(errors='replace') if isinstance(m, bytes) else m}"
                           for r, (c, m) in exc.recipients.items())
        if all(500 <= c < 600 for c in codes):
            raise _Permanent(f"destinatario rechazado: {detail}") from exc
        raise OSError(f"destinatario rechazado temporalmente: {detail}") from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        if 500 <= exc.smtp_code < 600:
            raise _Permanent(f"{exc.smtp_code} {text}") from exc
        raise OSError(f"{exc.smtp_code} {text}") from exc


def deliver(cfg: AuditConfig, msg: EmailMessage, password: str | None) -> tuple[int, str | None]:
    """Send one message with ``notify``'s SMTP settings, retrying temporary failures: (attempts, error or None).
    Shared by the annual notification and the change alerts (audit.alerts)."""
    n = cfg.notify
    last = ""
    for attempt in range(n.retries + 1):
        try:
            _send_once(cfg, msg, password)
            return attempt + 1, None
        except _Permanent as exc:
            return attempt + 1, str(exc)
        except (smtplib.SMTPException, OSError) as exc:  # includes timeouts and refused connections
            last = str(exc) or exc.__class__.__name__
            if attempt < n.retries:
                delay = n.retry_delay_s * 2**attempt
                log.warning("notify to=%s attempt=%d error=%s retry_in_s=%.1f", msg["To"], attempt + 1, last, delay)
                time.sleep(delay)
    return n.retries + 1, f"falló tras {n.retries + 1} intentos: {last}"


def safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value)[:120] or "mensaje"


def smtp_password(cfg: AuditConfig, *, dry_run: bool) -> str | None:
    """The SMTP password from the environment; ConfigError when a login is configured and it is missing."""
    password = os.environ.get(PASSWORD_ENV) or None
    if not dry_run and cfg.notify.smtp_user and not password:
        raise ConfigError(f"Falta la contraseña SMTP de {cfg.notify.smtp_user}.",
                          hint=f"Defina la variable de entorno {PASSWORD_ENV}.")
    return password


def notify_year(store: Store, cfg: AuditConfig, *, year: int, out_dir: Path, dry_run_dir: Path | None = None) -> NotifyResult:
    """Send (or, with ``dry_run_dir`` / ``notify.dry_run_dir``, write) each liaison's message; never raises for a
    single failed delivery — check ``result.failed``."""
    n = cfg.notify
    if not n.contacts_file:
        raise ConfigError("No hay archivo de contactos para notificar.",
                          hint="Defina notify.contacts_file (CSV organization,name,email) en config.yaml.")
    contacts = load_contacts(n.contacts_file)
    results = load_organization_results(Path(out_dir), year)
    dry = Path(dry_run_dir) if dry_run_dir else (Path(n.dry_run_dir) if n.dry_run_dir else None)
    password = smtp_password(cfg, dry_run=dry is not None)
    if dry is not None:
        dry.mkdir(parents=True, exist_ok=True)
    outcome = NotifyResult(year=year, dry_run=dry is not None)
    reports_dir = Path(out_dir) / str(year) / "reports"

    for org in sorted(set(results) - set(contacts)):
        log.warning("notify org=%s event=skipped reason=no_contact", org)
        outcome.deliveries.append(Delivery(org, "", "skipped", error="sin enlace en el archivo de contactos"))
    for org in sorted(contacts):
        row = results.get(org)
        if row is None:
            for c in contacts[org]:
                outcome.deliveries.append(Delivery(org, c.email, "skipped",
                                                   error=f"la organización no aparece en la evaluación {year}"))
            continue
        pdf: Path | None = reports_dir / f"{org}.pdf"
        note = None
        assert pdf is not None
        if not pdf.is_file():
            note = "El informe en PDF no estaba disponible al enviar este mensaje; lo enviaremos por separado."
            log.warning("notify org=%s event=no_pdf path=%s", org, pdf)
            pdf = None
        elif pdf.stat().st_size > n.max_attachment_bytes:
            note = "El informe en PDF excede el tamaño permitido para correo; solicítelo respondiendo a este mensaje."
            log.warning("notify org=%s event=pdf_too_large bytes=%d", org, pdf.stat().st_size)
            pdf = None
        for c in contacts[org]:
            msg = build_message(cfg, year=year, contact=c, row=row, pdf=pdf, note=note)
            if dry is not None:
                path = dry / f"{safe_name(org)}__{safe_name(c.email)}.eml"
                path.write_bytes(bytes(msg))
                outcome.deliveries.append(Delivery(org, c.email, "written", path=path))
                continue
            attempts, error = deliver(cfg, msg, password)
            status = "failed" if error else "sent"
            (log.error if error else log.info)("notify org=%s to=%s status=%s attempts=%d%s", org, c.email, status,
                                               attempts, f" error={error}" if error else "")
            outcome.deliveries.append(Delivery(org, c.email, status, attempts=attempts, error=error))
    log.info("notify year=%d sent=%d written=%d failed=%d skipped=%d", year, len(outcome.sent),
             len(outcome.written), len(outcome.failed), len(outcome.skipped))
    return outcome
