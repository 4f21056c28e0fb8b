"""Change alerts after periodic audits: three audits of the sample portal with changes between them, digests sent
to a real SMTP server on 127.0.0.1 (aiosmtpd), idempotence per audit, servers that refuse or drop the
connection, the dry run, and the scheduler hook."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from audit.alerts import fecha, send_alerts
from audit.config import AuditConfig
from audit.store import open_store
from audit.store.models import AlertDelivery

ORG_BROKEN = "igecem"  # a resource breaks after the first audit
ORG_OVERDUE = "secretaria-de-finanzas"  # a dataset approaches, then passes, its update deadline; a commitment nears
ORG_FIXED = "secretaria-de-obra-publica"  # a broken resource is fixed after the second audit
RECIPIENTS = {ORG_BROKEN: ["enlace@igecem.example.org"], ORG_OVERDUE: ["Enlace.Finanzas@example.org"],
              ORG_FIXED: ["enlace@obras.example.org", "suplente@obras.example.org"]}
EVALUATORS = ["evaluacion@finanzas.example.org"]
MEXICO = ZoneInfo("America/Mexico_City")
TODAY = datetime.now(MEXICO).date()
LAST_UPDATE_36 = datetime.combine(TODAY - timedelta(days=36), time(18), tzinfo=MEXICO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """aiosmtpd handler that keeps every accepted message (or refuses every recipient)."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return "550 5.7.1 Relay denegado"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 Mensaje aceptado"

    def by_subject(self) -> dict[str, email.message.EmailMessage]:
        return {str(m["Subject"]): m for _, m in self.messages}


@pytest.fixture
def smtp():
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        yield box, ctl.port
    finally:
        ctl.stop()


def text_of(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _last_updated(portal: Any, name: str, when: datetime) -> None:
    """The dataset's data were last updated ``when`` (CKAN last_modified and the files' Last-Modified)."""
    import dataclasses

    when = when.astimezone(UTC).replace(microsecond=0)
    pkg = portal.catalog.get_dataset(name)
    portal.catalog.patch_dataset(name, {"resources": [{**r, "last_modified": when.replace(tzinfo=None).isoformat()}
                                                      for r in pkg["resources"]]})
    for path, served in list(portal.catalog.files.items()):
        if f"/{name}/" in path:
            portal.catalog.files[path] = dataclasses.replace(served, last_modified=when)


def alerts_cfg(tmp: Path, portal_url: str, port: int, **alerts: Any) -> AuditConfig:
    return AuditConfig.model_validate({
        "portal_url": portal_url, "database_url": f"sqlite:///{tmp / 'a.db'}", "output_dir": str(tmp / "out"),
        "content": {"enabled": False}, "reports": {"enabled": False}, "http": {"retries": 0},
        "notify": {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, "retries": 1,
                   "retry_delay_s": 0, "smtp_timeout_s": 5, "sender": "datos.abiertos@edomex.gob.mx"},
        "alerts": {"consecutive_failures": 2, "overdue_warning_days": 10, "commitment_warning_days": 30,
                   "recipients": RECIPIENTS, "evaluators": EVALUATORS, "throttle_s": 0,
                   "dashboard_url": "https://tablero.example.org", **alerts},
    })


@pytest.fixture(scope="module")
def three_audits(tmp_path_factory):
    """Three periodic audits of the sample portal, changed between them; the store is copied per test."""
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal

    tmp = tmp_path_factory.mktemp("tres")
    commitments = tmp / "compromisos.csv"
    commitments.write_text("organization,dataset,due_date\n"
                           f"{ORG_OVERDUE},Cuenta pública estatal,{(TODAY + timedelta(days=25)).isoformat()}\n"
                           f"{ORG_OVERDUE},Ingresos estatales mensuales,{(TODAY + timedelta(days=20)).isoformat()}\n",
                           encoding="utf-8")
    with SamplePortal() as portal:
        cfg = alerts_cfg(tmp, portal.url, 25)
        store = open_store(cfg.database_url)
        runs = [run_audit(cfg, store, portal_url=portal.url, kind="periodic", commitments=str(commitments)).run_id]
        # before the 2nd audit: a file disappears; a monthly dataset was last updated 36 days ago at 18:00, so it
        # fails from 37.5 days later, at 06:00 the day after tomorrow: it must be updated tomorrow at the latest
        # (a fixed hour: the dates do not depend on when the test runs)
        portal.catalog.files.pop(next(p for p in portal.catalog.files if p.endswith("poblacion.csv")))
        _last_updated(portal, "ingresos-estatales-mensuales", LAST_UPDATE_36)
        runs.append(run_audit(cfg, store, portal_url=portal.url, kind="periodic").run_id)
        # before the 3rd: the monthly dataset is now 45 days old (late); the 410 resource points to a good file
        _last_updated(portal, "ingresos-estatales-mensuales", datetime.now(UTC) - timedelta(days=45))
        pkg = portal.catalog.get_dataset("licitaciones-de-obra")
        good = f"{portal.url}/files/costos-unitarios-de-obra/costos-unitarios.csv"
        portal.catalog.patch_dataset("licitaciones-de-obra", {"resources": [
            {**r, "url": good} if r["name"] == "Licitaciones 2024" else r for r in pkg["resources"]]})
        runs.append(run_audit(cfg, store, portal_url=portal.url, kind="periodic").run_id)
        store.close()
        yield {"db": tmp / "a.db", "runs": runs, "portal_url": portal.url}


@pytest.fixture
def scenario(three_audits, tmp_path, smtp):
    shutil.copy(three_audits["db"], tmp_path / "a.db")
    box, port = smtp
    cfg = alerts_cfg(tmp_path, three_audits["portal_url"], port)
    store = open_store(cfg.database_url)
    yield {**three_audits, "cfg": cfg, "store": store, "box": box}
    store.close()


UNIT = "Dirección General del Sistema Estatal de Informática (DGSEI), Secretaría de Finanzas"
PORTAL = "Portal de Datos Abiertos del Estado de México"
TITLES = {ORG_BROKEN: "Instituto de Información e Investigación Geográfica, Estadística y Catastral del Estado de "
                      "México (IGECEM)", ORG_OVERDUE: "Secretaría de Finanzas", ORG_FIXED: "Secretaría de Obra Pública"}


def expected_digest(org: str, n: int, body: str) -> str:
    board = f"https://tablero.example.org/organizaciones/{org}"
    return (f"Buen día:\n\nLa {UNIT} auditó el {fecha(TODAY)} los datos abiertos de {TITLES[org]} publicados en "
            f"{PORTAL}. Desde la auditoría anterior hay {n} cambio{'s' if n != 1 else ''}:\n\n{body}\n"
            "Este aviso se envía después de cada auditoría periódica sólo si hubo cambios; atender estos puntos antes "
            "del corte mejora el resultado de la evaluación anual.\n"
            f"Resultados completos: {board} · Canal Atom: {board}/cambios.atom\n\nAtentamente,\n{UNIT}\n")


def subject(org: str, n: int) -> str:
    return f"Datos abiertos: {n} cambio{'s' if n != 1 else ''} en {TITLES[org]} (auditoría del {fecha(TODAY)})"


def test_the_audit_date_is_the_day_in_the_configured_time_zone_not_utc():
    """An audit started at 01:00 UTC on 7 December ran on the evening of 6 December in Mexico City: the subjects,
    intros and feeds say «6 de diciembre» (CI runs after midnight UTC meet exactly this)."""
    from datetime import date

    from audit.alerts import audit_day
    from audit.changes import PortalChanges

    changes = PortalChanges(run_id=1, previous_run_id=None, portal_url="http://127.0.0.1", portal_title="Portal",
                            audited_at=datetime(2026, 12, 7, 1, 0, tzinfo=UTC), as_of=date(2026, 12, 6))
    assert audit_day(changes, AuditConfig()) == "6 de diciembre de 2026"
    assert audit_day(changes, AuditConfig(timezone="UTC")) == "7 de diciembre de 2026"


def test_the_update_deadline_is_the_last_whole_day_the_dataset_still_passes_at_any_hour():
    """A monthly dataset (30.4375 days, pass factor 1.25: it fails 38.05 days after its last update) updated on
    1 November at 18:00 UTC fails from 9 December 19:07 UTC (13:07 in Mexico City): an audit on the afternoon of the
    9th would fail it, so the reminder says «a más tardar el 8 de diciembre», at any hour the audit runs."""
    from datetime import date

    from audit.changes import _overdue_soon

    evidence = {"frequency_kind": "periodic", "frequency": "R/P1M", "period_days": 30.4375,
                "last_update": "2026-11-01T18:00:00+00:00"}
    found = _overdue_soon(evidence, 1.25, date(2026, 12, 1), 14, "America/Mexico_City")
    assert found == ("R/P1M", date(2026, 11, 1), date(2026, 12, 8))
    # the instant falls exactly at midnight: the day before is still the last whole day
    midnight = {**evidence, "period_days": 40.0, "last_update": "2026-11-01T06:00:00+00:00"}  # 00:00 in Mexico
    assert _overdue_soon(midnight, 1.0, date(2026, 12, 1), 14, "America/Mexico_City") == (
        "R/P1M", date(2026, 11, 1), date(2026, 12, 10))
    # outside the look-ahead window, or already failing: no reminder
    assert _overdue_soon(evidence, 1.25, date(2026, 11, 20), 14, "America/Mexico_City") is None
    assert _overdue_soon(evidence, 1.25, date(2026, 12, 9), 14, "America/Mexico_City") is None


def test_three_audits_send_exactly_the_expected_digests(scenario):
    st, cfg, box, (r1, r2, r3) = scenario["store"], scenario["cfg"], scenario["box"], scenario["runs"]
    url = scenario["portal_url"]
    late_since = fecha(TODAY - timedelta(days=36))

    # 1st audit: the baseline, nothing to compare with → no e-mail
    first = send_alerts(st, cfg, r1)
    assert first.previous_run_id is None and not box.messages and "primera auditoría" in first.summary_es()

    # 2nd audit (as if a week had passed): the file that disappeared failed once → not news yet; the resources
    # broken since the 1st audit failed twice → news; the monthly dataset must be updated by tomorrow
    second = send_alerts(st, cfg, r2, as_of=TODAY - timedelta(days=7))
    mails = box.by_subject()
    assert ORG_BROKEN not in str([m["To"] for m in mails.values()])
    assert text_of(mails[subject(ORG_OVERDUE, 1)]) == expected_digest(ORG_OVERDUE, 1, (
        "POR VENCER SU PERIODO DE ACTUALIZACIÓN (1)\n"
        "Conjuntos que hoy están al día y dejarán de estarlo si no se actualizan antes de la fecha indicada (según la "
        "frecuencia que declaran).\n"
        f"  • Ingresos estatales mensuales: actualícelo a más tardar el {fecha(TODAY + timedelta(days=1))}\n"
        f"      Frecuencia declarada: «R/P1M» (cada mes); última actualización de los datos: {late_since}.\n"
        f"      {url}/dataset/ingresos-estatales-mensuales\n"))
    assert text_of(mails[subject(ORG_FIXED, 1)]) == expected_digest(ORG_FIXED, 1, (
        "RECURSOS QUE FALLAN EN 2 AUDITORÍAS SEGUIDAS (1)\n"
        "Una falla aislada puede ser pasajera; éstas se repitieron en cada revisión.\n"
        "  • Licitaciones de obra pública — «Licitaciones 2024»: no encontrado\n"
        f"      URL: {url}/faults/gone/licitaciones-de-obra/licitaciones-2024.csv\n"
        "      Hallazgo: El recurso no existe en la dirección publicada (HTTP 410).\n"
        "      Qué hacer: Corrija la URL del recurso o vuelva a cargar el archivo.\n"
        f"      {url}/dataset/licitaciones-de-obra\n"))
    assert mails[subject(ORG_FIXED, 1)]["To"] == "enlace@obras.example.org, suplente@obras.example.org"
    portal2 = text_of(next(m for s, m in mails.items() if "organizaciones" in s))
    assert "  • Secretaría de Obra Pública\n      1 recurso con fallas seguidas.\n" in portal2
    assert "El portal no publica estadísticas de uso" in portal2  # said once, in the evaluators' digest
    assert len(mails) == 3 and len([d for d in second.deliveries if d.status == "sent"]) == 3
    # organizations with changes but nobody to tell are reported, not silently dropped
    assert {d.organization for d in second.deliveries if d.status == "skipped"} >= {"secretaria-de-salud"}

    # 3rd audit: the file has failed twice in a row; the dataset is now late; a commitment is due in 25 days;
    # the 404 resource of Obra Pública was fixed
    box.messages.clear()
    third = send_alerts(st, cfg, r3)
    mails = box.by_subject()
    assert set(mails) == {subject(ORG_BROKEN, 1), subject(ORG_OVERDUE, 2), subject(ORG_FIXED, 1),
                          f"Datos abiertos: 4 cambios en 3 organizaciones (auditoría del {fecha(TODAY)})"}
    assert text_of(mails[subject(ORG_BROKEN, 1)]) == expected_digest(ORG_BROKEN, 1, (
        "RECURSOS QUE FALLAN EN 2 AUDITORÍAS SEGUIDAS (1)\n"
        "Una falla aislada puede ser pasajera; éstas se repitieron en cada revisión.\n"
        "  • Población por municipio — «Población por municipio»: no encontrado\n"
        f"      URL: {url}/files/poblacion-por-municipio/poblacion.csv\n"
        "      Hallazgo: El recurso no existe en la dirección publicada (HTTP 404).\n"
        "      Qué hacer: Corrija la URL del recurso o vuelva a cargar el archivo.\n"
        f"      {url}/dataset/poblacion-por-municipio\n"))
    assert text_of(mails[subject(ORG_OVERDUE, 2)]) == expected_digest(ORG_OVERDUE, 2, (
        "DEJARON DE CUMPLIR (1)\n"
        "Características que en la auditoría anterior se cumplían (o no aplicaban) y ahora no; primero las de mayor "
        "impacto y uso.\n"
        "  • Ingresos estatales mensuales — Oportunos: cumple parcialmente\n"
        "      Hallazgo: Frecuencia declarada «cada mes», pero la última actualización fue el "
        f"{fecha((datetime.now(UTC) - timedelta(days=45)).date())}, hace 45 días, según la fecha de "
        "modificación del recurso.\n"
        "      Qué hacer: Actualice los datos (se esperan cada mes) o corrija la frecuencia declarada.\n"
        f"      {url}/dataset/ingresos-estatales-mensuales\n\n"
        "COMPROMISOS DE PUBLICACIÓN POR VENCER (1)\n"
        "Conjuntos comprometidos en el inventario que aún no están publicados con un archivo de datos descargable.\n"
        f"  • «Cuenta pública estatal»: vence el {fecha(TODAY + timedelta(days=25))}\n"
        "      Aún no hay en el portal un conjunto con ese nombre o título en su organización.\n"))
    assert text_of(mails[subject(ORG_FIXED, 1)]) == expected_digest(ORG_FIXED, 1, (
        "CORREGIDOS (1)\n"
        "Características que antes no se cumplían y ahora sí.\n"
        "  • Licitaciones de obra pública — Accesibles: ahora cumple\n"
        f"      {url}/dataset/licitaciones-de-obra\n"))
    html = html_of(mails[subject(ORG_OVERDUE, 2)])
    assert "<h2" in html and "«Cuenta pública estatal»" in html and "Oportunos: cumple parcialmente" in html
    assert third.ok and [d.status for d in third.deliveries] == ["sent"] * 4

    # idempotent per audit: running the alerts of the 3rd audit again (a restart) sends nothing
    box.messages.clear()
    again = send_alerts(st, cfg, r3)
    assert not box.messages and [d.status for d in again.deliveries] == ["already"] * 4
    with st.session() as s:
        rows = s.scalars(select(AlertDelivery).where(AlertDelivery.run_id == r3)).all()
    assert sorted((r.organization_name, r.status, r.changes) for r in rows) == [
        ("", "sent", 4), (ORG_BROKEN, "sent", 1), (ORG_OVERDUE, "sent", 2), (ORG_FIXED, "sent", 1)]
    assert {r.message_id for r in rows} >= {f"<cambios-{r3}-{ORG_BROKEN}@edomex.gob.mx>"}


class DroppingServer:
    """Accepts SMTP connections and closes them at once (a crashed relay, a firewall reset)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _with_port(cfg: AuditConfig, port: int) -> AuditConfig:
    return cfg.model_copy(update={"notify": cfg.notify.model_copy(update={"smtp_port": port})})


def test_a_server_that_drops_or_refuses_fails_cleanly_and_a_later_run_retries_only_the_failures(scenario):
    st, cfg, box, r3 = scenario["store"], scenario["cfg"], scenario["box"], scenario["runs"][2]

    dropping = DroppingServer()
    try:
        dropped = send_alerts(st, _with_port(cfg, dropping.port), r3)
    finally:
        dropping.close()
    assert not dropped.ok and len(dropped.failed) == 4
    assert all(d.attempts == 2 and "falló tras 2 intentos" in (d.error or "") for d in dropped.failed)
    assert dropping.connections == 8  # 4 digests × (1 try + 1 retry)

    refusing = Mailbox(refuse=True)
    ctl = Controller(refusing, hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        refused = send_alerts(st, _with_port(cfg, ctl.port), r3)
    finally:
        ctl.stop()
    # a permanent refusal (5xx) is not retried
    assert [(d.attempts, "550" in (d.error or "")) for d in refused.failed] == [(1, True)] * 4
    assert not refusing.messages

    closed = free_port()  # nothing listens there: connection refused
    assert len(send_alerts(st, _with_port(cfg, closed), r3).failed) == 4

    # the failed digests are sent by the next invocation, once, throttled
    import time

    throttled = cfg.model_copy(update={"alerts": cfg.alerts.model_copy(update={"throttle_s": 0.3})})
    began = time.monotonic()
    result = send_alerts(st, throttled, r3)
    assert time.monotonic() - began >= 0.9  # three pauses between four messages
    assert result.ok and len(box.messages) == 4
    assert "4 enviados, 0 ya enviados antes, 0 fallidos" in result.summary_es()
    with st.session() as s:
        attempts = {r.organization_name: (r.status, r.attempts) for r in s.scalars(select(AlertDelivery))}
    assert attempts[ORG_BROKEN] == ("sent", 2 + 1 + 2 + 1)


def test_an_unconfirmed_delivery_is_never_sent_again(scenario):
    """A crash between the SMTP answer and the store update leaves 'sending': at most once, never twice."""
    st, cfg, box, r3 = scenario["store"], scenario["cfg"], scenario["box"], scenario["runs"][2]
    with st.session() as s:
        s.add(AlertDelivery(run_id=r3, organization_name=ORG_BROKEN, recipient="enlace@igecem.example.org",
                            status="sending", attempts=1, subject="x", message_id="<x>", changes=1,
                            created_at=datetime.now(UTC)))
    result = send_alerts(st, cfg, r3)
    assert len(box.messages) == 3 and ORG_BROKEN not in str([m["To"] for _, m in box.messages])
    assert [d.error for d in result.deliveries if d.organization == ORG_BROKEN] == ["envío sin confirmar"]


def test_dry_run_writes_eml_files_and_records_nothing(scenario, tmp_path):
    st, cfg, box, r3 = scenario["store"], scenario["cfg"], scenario["box"], scenario["runs"][2]
    out = tmp_path / "eml"
    result = send_alerts(st, cfg, r3, dry_run_dir=out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"cambios-{r3}__{n}.eml" for n in (ORG_BROKEN, ORG_OVERDUE, ORG_FIXED, "portal"))
    msg = email.message_from_bytes((out / f"cambios-{r3}__{ORG_BROKEN}.eml").read_bytes(), policy=email.policy.default)
    assert msg["To"] == "enlace@igecem.example.org" and "Población por municipio" in text_of(msg)
    assert "4 mensajes escritos (simulación)" in result.summary_es() and not box.messages
    with st.session() as s:
        assert s.scalars(select(AlertDelivery)).first() is None
    assert send_alerts(st, cfg, r3).ok and len(box.messages) == 4  # the dry run did not count as sent


def test_maintainers_are_written_to_only_when_opted_in(scenario, tmp_path):
    st, cfg, r3 = scenario["store"], scenario["cfg"], scenario["runs"][2]
    bare = cfg.alerts.model_copy(update={"recipients": {}, "evaluators": []})
    result = send_alerts(st, cfg.model_copy(update={"alerts": bare}), r3, dry_run_dir=tmp_path / "a")
    assert {d.status for d in result.deliveries} == {"skipped"}
    opted = bare.model_copy(update={"maintainer_fallback": True})
    result = send_alerts(st, cfg.model_copy(update={"alerts": opted}), r3, dry_run_dir=tmp_path / "b")
    written = {d.organization: d.email for d in result.deliveries if d.status == "written"}
    assert set(written) == {ORG_BROKEN, ORG_OVERDUE, ORG_FIXED}
    assert all("@" in e for e in written.values())


def test_the_scheduled_periodic_audit_sends_the_digests(tmp_path):
    """The scheduler's periodic job runs the alerts after a complete audit (here as a dry run)."""
    import yaml

    from audit.sample_portal import SamplePortal
    from audit.scheduler import periodic_audit_job

    with SamplePortal() as portal:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({
            "portal_url": portal.url, "database_url": f"sqlite:///{tmp_path / 'a.db'}",
            "output_dir": str(tmp_path / "out"), "content": {"enabled": False}, "reports": {"enabled": False},
            "http": {"retries": 0}, "notify": {"dry_run_dir": str(tmp_path / "eml")},
            "alerts": {"consecutive_failures": 1, "recipients": {ORG_BROKEN: ["enlace@igecem.example.org"]}},
        }), encoding="utf-8")
        periodic_audit_job(str(config), {})
        assert not (tmp_path / "eml").exists()  # first audit: the baseline
        portal.catalog.files.pop(next(p for p in portal.catalog.files if p.endswith("poblacion.csv")))
        periodic_audit_job(str(config), {})
    assert (tmp_path / "eml" / f"cambios-2__{ORG_BROKEN}.eml").is_file()


def test_alerts_command_dry_run(scenario, tmp_path):
    import yaml
    from typer.testing import CliRunner

    from audit.cli import app

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(scenario["cfg"].model_dump(mode="json")), encoding="utf-8")
    result = CliRunner().invoke(app, ["alerts", "--config", str(config), "--dry-run", str(tmp_path / "eml")])
    assert result.exit_code == 0, result.output
    assert f"corrida {scenario['runs'][2]} (frente a la {scenario['runs'][1]})" in result.output
    assert len(list((tmp_path / "eml").glob("*.eml"))) == 4


# --- Atom feeds (audit/web/feeds.py): the same changes, one entry per audit -----------------------------------


def _atom(client: Any, path: str) -> Any:
    from xml.etree import ElementTree as ET

    resp = client.get(path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(resp.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for required in ("a:id", "a:title", "a:updated", "a:author/a:name", "a:link[@rel='self']"):
        assert root.find(required, ns) is not None, required
    entries = root.findall("a:entry", ns)
    for e in entries:
        for required in ("a:id", "a:title", "a:updated", "a:content", "a:link[@rel='alternate']"):
            assert e.find(required, ns) is not None, required
        datetime.strptime(e.findtext("a:updated", namespaces=ns) or "", "%Y-%m-%dT%H:%M:%SZ")
    assert len({e.findtext("a:id", namespaces=ns) for e in entries}) == len(entries)
    return root, entries, ns, resp.content


def test_atom_feeds_publish_the_same_changes_per_organization_and_portal(scenario):
    from fastapi.testclient import TestClient

    from audit.store.models import OrganizationSnapshot
    from audit.web.app import create_app

    st, cfg, r3 = scenario["store"], scenario["cfg"], scenario["runs"][2]
    client = TestClient(create_app(cfg, st))

    root, entries, ns, _ = _atom(client, f"/organizaciones/{ORG_OVERDUE}/cambios.atom")
    # (in the feed the 2nd audit is dated today, so the commitment due in 25 days is already in its window)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [subject(ORG_OVERDUE, 2)] * 2
    assert root.find("a:link[@rel='self']", ns).get("href") == (  # type: ignore[union-attr]
        f"https://tablero.example.org/organizaciones/{ORG_OVERDUE}/cambios.atom")
    newest = entries[0]
    # the tag URI's date is the run's end in UTC: an identifier that a change of the configured time zone must not move
    from audit.clock import assume_utc
    from audit.store.models import AuditRun

    with st.session() as s:
        run = s.get(AuditRun, r3)
        tag_day = assume_utc(run.finished_at or run.started_at).date().isoformat()  # type: ignore[union-attr]
    assert newest.findtext("a:id", namespaces=ns) == f"tag:tablero.example.org,{tag_day}:cambios/{ORG_OVERDUE}/corrida-{r3}"
    html = newest.findtext("a:content", namespaces=ns) or ""
    assert newest.find("a:content", ns).get("type") == "html"  # type: ignore[union-attr]
    assert "<h2" in html and "Ingresos estatales mensuales — Oportunos: cumple parcialmente" in html
    assert "«Cuenta pública estatal»" in html

    _, entries, ns, _ = _atom(client, f"/organizaciones/{ORG_BROKEN}/cambios.atom")
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [subject(ORG_BROKEN, 1)]

    _, entries, ns, _ = _atom(client, "/cambios.atom")
    titles = [e.findtext("a:title", namespaces=ns) for e in entries]
    assert titles[0] == f"Datos abiertos: 4 cambios en 3 organizaciones (auditoría del {fecha(TODAY)})"
    assert len(titles) == 2  # the 1st audit is the baseline

    # an organization without changes has a valid, empty feed; an unknown one is 404
    _, entries, _, _ = _atom(client, "/organizaciones/secretaria-de-cultura-y-turismo/cambios.atom")
    assert entries == []
    assert client.get("/organizaciones/no-existe/cambios.atom").status_code == 404

    # portal strings are escaped (a title with markup and an ampersand stays text)
    with st.session() as s:
        for snap in s.scalars(select(OrganizationSnapshot).where(OrganizationSnapshot.name == ORG_BROKEN)):
            snap.title = 'IGECEM & <Catastro> "estatal"'
    from audit.web import feeds

    feeds._cache.clear()
    root, entries, ns, raw = _atom(client, f"/organizaciones/{ORG_BROKEN}/cambios.atom")
    assert root.findtext("a:title", namespaces=ns) == 'Cambios en los datos abiertos de IGECEM & <Catastro> "estatal"'
    assert b"<Catastro>" not in raw and b"&lt;Catastro&gt;" in raw
    assert "IGECEM &amp; &lt;Catastro&gt;" in (entries[0].findtext("a:content", namespaces=ns) or "")


def test_delivery_records_are_claimed_once_on_sqlite_and_postgresql(db_url):
    """The idempotence record (alert_delivery, migration 0005) on both backends: a claimed digest is not claimed
    again; a failed one is; usage rows are kept per run."""
    from email.message import EmailMessage

    from audit.alerts import Digest, _claim, _finish
    from audit.demand import Usage, _save, run_demand
    from audit.store.models import AuditRun

    st = open_store(db_url)
    try:
        portal_id = st.get_or_create_portal("https://datos.example.org")
        with st.session() as s:
            run = AuditRun(portal_id=portal_id, started_at=datetime.now(UTC), status="complete", kind="periodic")
            s.add(run)
            s.flush()
            run_id = run.id
        msg = EmailMessage()
        msg["Message-ID"] = "<cambios-1-igecem@example.org>"
        d = Digest(organization="igecem", subject="Cambios", heading="", intro="", count=2)
        assert _claim(st, run_id, "igecem", ["a@example.org"], d, msg) is None
        assert _claim(st, run_id, "igecem", ["a@example.org"], d, msg) == "sending"
        _finish(st, run_id, "igecem", 2, "falló tras 2 intentos: 421")
        assert _claim(st, run_id, "igecem", ["a@example.org"], d, msg) is None  # failed → may be retried
        _finish(st, run_id, "igecem", 1, None)
        assert _claim(st, run_id, "igecem", ["a@example.org"], d, msg) == "sent"
        with st.session() as s:
            row = s.scalars(select(AlertDelivery)).one()
            assert (row.status, row.attempts, row.error, row.sent_at is not None) == ("sent", 3, None, True)
        _save(st, run_id, {"igecem-poblacion": Usage(10, 2, None)})
        assert run_demand(st, run_id) == {"igecem-poblacion": Usage(10, 2, None, "tracking_summary")}
    finally:
        st.close()


def test_feed_links_never_come_from_the_host_header():
    from starlette.requests import Request

    from audit.config import AuditConfig
    from audit.web import feeds

    hostile = Request({"type": "http", "method": "GET", "scheme": "http", "path": "/cambios.atom", "query_string": b"",
                       "headers": [(b"host", b"evil.example")], "server": ("evil.example", 80)})
    assert feeds._base(hostile, AuditConfig()) == "http://127.0.0.1:8000"
    public = AuditConfig.model_validate({"web": {"public_url": "https://datos.example.gob.mx/tablero"}})
    assert feeds._base(hostile, public) == "https://datos.example.gob.mx/tablero"
