"""Notifying liaisons: real SMTP against a local aiosmtpd server on 127.0.0.1 (plain, and STARTTLS with login),
retries, isolation of failures, and the dry run that writes .eml files."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from audit.config import AuditConfig
from audit.errors import ConfigError, InputFileError
from audit.notify import load_contacts, notify_year

YEAR = 2025
PDF_SALUD = b"%PDF-1.4\n% informe salud\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every accepted message; some addresses are refused, one fails once."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.rcpt_attempts: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
        if address.startswith("inexistente@"):
            return "550 5.1.1 Buzón inexistente"
        if address.startswith("ocupado@") and self.rcpt_attempts[address] == 1:
            return "451 4.3.0 Intente más tarde"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Mensaje aceptado"


@pytest.fixture()
def smtp():
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=_free_port())
    ctl.start()
    try:
        yield box, ctl.port
    finally:
        ctl.stop()


@pytest.fixture()
def evaluated(tmp_path):
    """OUT/<year>/organizations.csv + per-organization PDFs, as the pipeline writes them."""
    out = tmp_path / "salida"
    reports = out / str(YEAR) / "reports"
    reports.mkdir(parents=True)
    (out / str(YEAR) / "organizations.csv").write_text(
        "organization,title,datasets,score,conformes,accesibles_pct,oportunos_pct,libre_uso_pct,"
        "committed,published,progress_pct,quality_progress_pct\n"
        "secretaria-de-salud,Secretaría de Salud,12,0.725,5,100.0,41.7,58.3,10,8,80.0,50.0\n"
        "secretaria-de-finanzas,Secretaría de Finanzas,3,1,3,100.0,100.0,100.0,0,0,,\n"
        "secretaria-sin-enlace,Secretaría Sin Enlace,1,0.5,0,100.0,0.0,0.0,0,0,,\n",
        encoding="utf-8",
    )
    (reports / "secretaria-de-salud.pdf").write_bytes(PDF_SALUD)
    (reports / "secretaria-de-finanzas.pdf").write_bytes(b"%PDF-1.4\n% finanzas\n%%EOF\n")
    contacts = tmp_path / "enlaces.csv"
    contacts.write_text(
        "organization,name,email\n"
        "secretaria-de-salud,María Pérez Núñez,maria.perez@salud.example\n"
        "secretaria-de-salud,Enlace suplente,suplente@salud.example\n"
        "secretaria-de-finanzas,José Ángel Ruiz,jose.ruiz@finanzas.example\n"
        "organismo-retirado,Alguien,alguien@retirado.example\n",
        encoding="utf-8",
    )
    return out, contacts


def _cfg(contacts: Path, port: int, **notify) -> AuditConfig:
    return AuditConfig.model_validate({
        "portal_url": "http://127.0.0.1:5000",
        "portal_title": "Portal de Datos Abiertos del Estado de México",
        "notify": {"contacts_file": str(contacts), "smtp_host": "127.0.0.1", "smtp_port": port,
                   "smtp_starttls": False, "retries": 2, "retry_delay_s": 0.05, "smtp_timeout_s": 5, **notify},
    })


def test_each_liaison_receives_its_pdf_and_a_spanish_summary(smtp, evaluated):
    box, port = smtp
    out, contacts = evaluated
    result = notify_year(None, _cfg(contacts, port), year=YEAR, out_dir=out)
    assert result.ok and len(result.sent) == 3
    by_rcpt = {rcpts[0]: msg for rcpts, msg in box.messages}
    assert set(by_rcpt) == {"maria.perez@salud.example", "suplente@salud.example", "jose.ruiz@finanzas.example"}
    msg = by_rcpt["maria.perez@salud.example"]
    assert msg["Subject"] == f"Evaluación de datos abiertos {YEAR}: resultados de Secretaría de Salud"
    assert "María Pérez Núñez" in str(msg["To"])
    body = msg.get_body(("plain",)).get_content()
    assert "Estimado(a) María Pérez Núñez:" in body
    assert "Conjuntos de datos evaluados: 12" in body
    assert "Calificación general: 72.5 de 100" in body
    assert "Compromisos de publicación cumplidos: 8 de 10 (80.0 %)" in body
    assert "oportunos (42 %)" in body  # the weakest characteristics are named
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"evaluacion-{YEAR}-secretaria-de-salud.pdf"]
    assert attachments[0].get_content() == PDF_SALUD


def test_organizations_without_liaison_or_without_results_are_skipped_and_reported(smtp, evaluated):
    _, port = smtp
    out, contacts = evaluated
    result = notify_year(None, _cfg(contacts, port), year=YEAR, out_dir=out)
    skipped = {d.organization: d.error for d in result.skipped}
    assert skipped == {
        "secretaria-sin-enlace": "sin enlace en el archivo de contactos",
        "organismo-retirado": f"la organización no aparece en la evaluación {YEAR}",
    }


def test_a_refused_address_fails_without_retry_and_does_not_block_the_others(smtp, evaluated, tmp_path):
    box, port = smtp
    out, _ = evaluated
    contacts = tmp_path / "c.csv"
    contacts.write_text("organization,name,email\n"
                        "secretaria-de-salud,Nadie,inexistente@salud.example\n"
                        "secretaria-de-finanzas,José,jose.ruiz@finanzas.example\n", encoding="utf-8")
    result = notify_year(None, _cfg(contacts, port), year=YEAR, out_dir=out)
    assert not result.ok
    [failed] = result.failed
    assert failed.email == "inexistente@salud.example" and failed.attempts == 1
    assert "550" in (failed.error or "") and "Buzón inexistente" in (failed.error or "")
    assert [d.email for d in result.sent] == ["jose.ruiz@finanzas.example"]
    assert [rcpts for rcpts, _ in box.messages] == [["jose.ruiz@finanzas.example"]]


def test_a_temporary_failure_is_retried_and_then_delivered(smtp, evaluated, tmp_path):
    box, port = smtp
    out, _ = evaluated
    contacts = tmp_path / "c.csv"
    contacts.write_text("organization,name,email\nsecretaria-de-salud,,ocupado@salud.example\n", encoding="utf-8")
    result = notify_year(None, _cfg(contacts, port), year=YEAR, out_dir=out)
    [d] = result.sent
    assert d.attempts == 2
    assert box.rcpt_attempts["ocupado@salud.example"] == 2
    assert len(box.messages) == 1


def test_an_unreachable_server_is_retried_then_reported_for_every_message(evaluated):
    out, contacts = evaluated
    result = notify_year(None, _cfg(contacts, _free_port(), retries=1), year=YEAR, out_dir=out)
    assert len(result.failed) == 3 and not result.sent
    assert all(d.attempts == 2 and "falló tras 2 intentos" in (d.error or "") for d in result.failed)


@pytest.fixture()
def tls_files(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return key, cert


def test_starttls_and_login_with_the_password_from_the_environment(evaluated, tls_files, monkeypatch):
    key, cert = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        # handled=False: let aiosmtpd answer 535 itself on failure
        return AuthResult(success=auth_data.password == b"secreto-smtp", handled=False)

    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=_free_port(), tls_context=context, require_starttls=True,
                     authenticator=authenticator, auth_required=True)
    ctl.start()
    try:
        out, contacts = evaluated
        cfg = _cfg(contacts, ctl.port, smtp_starttls=True, smtp_cafile=str(cert), smtp_user="auditor")
        monkeypatch.setenv("AUDIT_SMTP_PASSWORD", "secreto-smtp")
        result = notify_year(None, cfg, year=YEAR, out_dir=out)
        assert result.ok and len(result.sent) == 3
        assert logins[0] == (b"auditor", b"secreto-smtp")

        monkeypatch.setenv("AUDIT_SMTP_PASSWORD", "equivocada")  # a rejected login is permanent: no retries
        result = notify_year(None, cfg, year=YEAR, out_dir=out)
        assert len(result.failed) == 3 and all(d.attempts == 1 for d in result.failed)
        assert "autenticación SMTP rechazada" in (result.failed[0].error or "")

        monkeypatch.delenv("AUDIT_SMTP_PASSWORD")
        with pytest.raises(ConfigError, match="AUDIT_SMTP_PASSWORD"):
            notify_year(None, cfg, year=YEAR, out_dir=out)
    finally:
        ctl.stop()


def test_dry_run_writes_one_eml_per_liaison_and_sends_nothing(evaluated, tmp_path):
    out, contacts = evaluated
    dry = tmp_path / "mensajes"
    result = notify_year(None, _cfg(contacts, _free_port()), year=YEAR, out_dir=out, dry_run_dir=dry)
    assert result.dry_run and len(result.written) == 3 and not result.sent and not result.failed
    files = sorted(p.name for p in dry.glob("*.eml"))
    assert files == [
        "secretaria-de-finanzas__jose.ruiz_finanzas.example.eml",
        "secretaria-de-salud__maria.perez_salud.example.eml",
        "secretaria-de-salud__suplente_salud.example.eml",
    ]
    msg = email.message_from_bytes((dry / files[1]).read_bytes(), policy=email.policy.default)
    assert msg["From"] == "datos.abiertos@edomex.gob.mx"
    assert next(msg.iter_attachments()).get_content() == PDF_SALUD


def test_missing_pdf_still_sends_the_summary_and_says_so(smtp, evaluated):
    box, port = smtp
    out, contacts = evaluated
    (out / str(YEAR) / "reports" / "secretaria-de-finanzas.pdf").unlink()
    notify_year(None, _cfg(contacts, port), year=YEAR, out_dir=out)
    msg = next(m for rcpts, m in box.messages if rcpts == ["jose.ruiz@finanzas.example"])
    assert list(msg.iter_attachments()) == []
    assert "El informe en PDF no estaba disponible" in msg.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("organizacion,correo\nx,a@b.mx\n", "no tiene las columnas email, organization"),
        ("organization,name,email\nsecretaria-de-salud,X,no-es-correo\n", "línea 2 (secretaria-de-salud, no-es-correo)"),
        ("organization,name,email\n,X,a@b.mx\n", "línea 2 (sin organización"),
    ],
)
def test_malformed_contacts_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "c.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_contacts(path)


def test_contacts_file_with_semicolons_and_bom_is_read(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("\ufefforganization;name;email\nsecretaria-de-salud;Ana;ana@salud.example\n", encoding="utf-8")
    assert load_contacts(path)["secretaria-de-salud"][0].email == "ana@salud.example"


def test_notify_without_evaluation_or_contacts_is_a_clear_error(tmp_path, evaluated):
    _, contacts = evaluated
    with pytest.raises(InputFileError, match="la evaluación 2031 no se ha generado"):
        notify_year(None, _cfg(contacts, 25), year=2031, out_dir=tmp_path / "vacio")
    with pytest.raises(ConfigError, match="notify.contacts_file"):
        notify_year(None, AuditConfig(), year=YEAR, out_dir=tmp_path)


def test_result_summary_in_spanish_lists_failures_and_skips(smtp, evaluated):
    _, port = smtp
    out, contacts = evaluated
    text = notify_year(None, _cfg(contacts, port), year=YEAR, out_dir=out).summary_es()
    assert text.startswith(f"Notificación {YEAR}: 3 enviados, 0 fallidos, 2 omitidos.")
    assert "secretaria-sin-enlace: sin enlace en el archivo de contactos" in text
