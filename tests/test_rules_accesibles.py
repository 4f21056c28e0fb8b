from __future__ import annotations

import pytest
from test_rules_builders import ctx, dataset, dictionary, ev, failed, probe, resource

from audit.evidence import Availability
from rules import accesibles
from rules.base import Status

P = accesibles.Params()


def run(c):
    return accesibles.evaluate(c, P)


@pytest.mark.parametrize(
    ("resources", "status", "score"),
    [
        ([ev(), ev(dictionary(), probe(sniffed="pdf"))], Status.PASS, 1.0),
        ([ev(), ev(resource("Otro"), failed("not_found", "http_404", 404))], Status.PARTIAL, 0.5),
        ([ev(resource("A"), failed("not_found", "http_404", 404)), ev(resource("B"), failed("timeout"))],
         Status.FAIL, 0.0),
        ([], Status.FAIL, 0.0),
        ([ev(p=probe("landing_page", sniffed="html"))], Status.PARTIAL, 0.5),
    ],
    ids=["all_reachable", "one_404_of_two", "none_reachable", "no_resources", "landing_page_counts_half"],
)
def test_accesibles_table(resources, status, score):
    result = run(ctx(resources=resources))
    assert result.status is status
    assert result.score == pytest.approx(score)


def test_evidence_counts_files_and_never_shows_the_half_credit_of_a_landing_page_as_a_count():
    result = run(ctx(resources=[ev(), ev(resource("Página"), probe("landing_page", sniffed="html")),
                                ev(resource("Roto"), failed("not_found", "http_404", 404))]))
    assert result.score == pytest.approx(1.5 / 3)  # the landing page still counts half in the score
    assert result.evidence["reachable"] == 1 and result.evidence["landing_pages"] == 1
    assert "landing_pages" not in run(ctx(resources=[ev()])).evidence


def test_accesibles_fails_when_dataset_has_no_resources_with_reason():
    result = run(ctx(resources=[]))
    assert [f.code for f in result.findings] == ["sin_recursos"]


@pytest.mark.parametrize(
    ("outcome", "reason", "status_code", "code"),
    [
        ("not_found", "http_404", 404, "recurso_no_encontrado"),
        ("not_found", "http_410", 410, "recurso_no_encontrado"),
        ("server_error", "http_500", 500, "error_servidor"),
        ("timeout", "timeout", None, "tiempo_agotado"),
        ("dns_error", "dns", None, "dominio_inexistente"),
        ("connection_error", "refused", None, "error_conexion"),
        ("tls_error", "cert", None, "error_certificado"),
        ("auth_required", "http_401", 401, "requiere_autenticacion"),
        ("payment_required", "http_402", 402, "requiere_pago"),
        ("empty", "empty_body", 200, "archivo_vacio"),
        ("blocked_unsafe", "private", None, "url_no_publica"),
        ("unsupported_scheme", "ftp", None, "url_invalida"),
        ("client_error", "http_405", 405, "error_cliente"),
    ],
)
def test_accesibles_marks_unreachable_outcome_with_reason_code(outcome, reason, status_code, code):
    bad = resource("Archivo roto")
    result = run(ctx(resources=[ev(), ev(bad, failed(outcome, reason, status_code))]))
    assert result.status is Status.PARTIAL
    (finding,) = result.findings
    assert finding.code == code
    assert finding.resource == "Archivo roto"
    assert reason in (finding.observed or "")
    assert finding.message_es and finding.remediation_es


def test_accesibles_fails_private_dataset_even_if_files_answer():
    result = run(ctx(dataset(private=True)))
    assert result.status is Status.FAIL
    assert "conjunto_privado" in [f.code for f in result.findings]


def test_accesibles_fails_inactive_dataset():
    result = run(ctx(dataset(state="deleted")))
    assert result.status is Status.FAIL
    assert "conjunto_inactivo" in [f.code for f in result.findings]


def test_accesibles_without_probe_evidence_is_not_applicable():
    result = run(ctx(resources=[ev(p=None), ev(dictionary(), None)]))
    assert result.status is Status.NOT_APPLICABLE
    assert result.findings[0].code == "sin_evidencia"


def test_accesibles_ignores_unprobed_resources_when_others_were_probed():
    result = run(ctx(resources=[ev(), ev(resource("Sin sondeo"), None)]))
    assert result.status is Status.PASS


@pytest.mark.parametrize(
    ("availability", "last_probe", "status"),
    [
        (Availability(50, 52), failed("timeout"), Status.PASS),  # down on the last night only: not condemned
        (Availability(10, 52), probe(), Status.FAIL),  # mostly down, even if up today
        (Availability(47, 52), probe(), Status.PASS),  # 90.4 %
        (Availability(46, 52), probe(), Status.FAIL),  # 88.5 %
        (Availability(0, 2), probe(), Status.PASS),  # fewer than 3 runs: the probe decides
    ],
)
def test_accesibles_uses_annual_availability_when_year_has_enough_runs(availability, last_probe, status):
    result = run(ctx(resources=[ev(p=last_probe, availability=availability)]))
    assert result.status is status
    if status is Status.FAIL and availability.total_runs >= 3:
        assert result.findings[0].code == "disponibilidad_insuficiente"
        assert result.findings[0].observed == f"{availability.reachable_runs}/{availability.total_runs}"


def test_accesibles_availability_threshold_is_configurable():
    strict = accesibles.Params(availability_pass_ratio=0.99)
    result = accesibles.evaluate(ctx(resources=[ev(availability=Availability(50, 52))]), strict)
    assert result.status is Status.FAIL


def test_accesibles_retired_dataset_is_not_applicable():
    result = run(ctx(retired=True))
    assert result.status is Status.NOT_APPLICABLE
    assert result.findings[0].code == "retirado"


def test_findings_name_the_file_by_id_when_two_files_share_a_name():
    # real portals publish «Datos» as CSV and as XLSX: the finding must say which of the two failed
    good = resource("Datos", id="r-datos-csv")
    broken = resource("Datos", fmt="XLSX", id="r-datos-xlsx")
    result = run(ctx(resources=[ev(good), ev(broken, failed("not_found", "http_404", 404))]))
    (finding,) = result.findings
    assert finding.resource == "Datos" and finding.resource_id == "r-datos-xlsx"
    assert finding.as_dict()["resource_id"] == "r-datos-xlsx"
