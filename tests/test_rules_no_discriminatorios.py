from __future__ import annotations

import pytest
from test_rules_builders import ctx, dictionary, ev, failed, probe, resource

from rules import no_discriminatorios
from rules.base import Status

P = no_discriminatorios.Params()


def run(c):
    return no_discriminatorios.evaluate(c, P)


def auth(reason="http_401", status=401):
    return failed("auth_required", reason, status)


@pytest.mark.parametrize(
    ("resources", "status", "score"),
    [
        ([ev(), ev(dictionary(), probe(sniffed="pdf"))], Status.PASS, 1.0),
        ([ev(resource("A")), ev(resource("B"), auth())], Status.PARTIAL, 0.5),
        ([ev(resource("A"), auth()), ev(resource("B"), auth("login_form", 403))], Status.FAIL, 0.0),
        # the only data resource that answered needs a login; the other one is gone: fail
        ([ev(resource("A"), auth("login_url", 200)), ev(resource("B"), failed("not_found", "http_404", 404))],
         Status.FAIL, 0.0),
        ([ev(resource("A"), failed("not_found", "http_404", 404))], Status.NOT_APPLICABLE, 0.0),
        ([ev(p=None)], Status.NOT_APPLICABLE, 0.0),
        ([ev(dictionary(), probe(sniffed="pdf"))], Status.NOT_APPLICABLE, 0.0),
    ],
    ids=["none_requires_login", "one_of_two", "all", "all_that_answered", "nothing_answered", "no_probe",
         "only_documentation"],
)
def test_no_discriminatorios_table(resources, status, score):
    result = run(ctx(resources=resources))
    assert result.status is status
    assert result.score == pytest.approx(score)


@pytest.mark.parametrize("reason", ["http_401", "http_403_authenticate", "login_form", "login_url"])
def test_no_discriminatorios_reports_each_login_wall(reason):
    result = run(ctx(resources=[ev(resource("Protegido"), auth(reason, 200))]))
    (finding,) = result.findings
    assert finding.code == "requiere_registro"
    assert finding.resource == "Protegido"
    assert finding.observed == reason
    assert "sin registro" in finding.remediation_es


def test_no_discriminatorios_login_on_documentation_only_does_not_count():
    resources = [ev(), ev(dictionary(), auth())]
    assert run(ctx(resources=resources)).status is Status.PASS


def test_no_discriminatorios_payment_wall_alone_is_not_applicable():
    resources = [ev(p=failed("payment_required", "http_402", 402))]
    assert run(ctx(resources=resources)).status is Status.NOT_APPLICABLE


def test_no_discriminatorios_retired_is_not_applicable():
    assert run(ctx(retired=True)).status is Status.NOT_APPLICABLE


def test_no_discriminatorios_web_pages_instead_of_files_cannot_confirm_open_access():
    from test_rules_builders import ctx, ev, probe, resource

    from rules import no_discriminatorios

    only_pages = ctx(resources=[ev(resource("Datos", "XLS"), probe("landing_page", sniffed="html"))])
    result = no_discriminatorios.evaluate(only_pages, no_discriminatorios.Params())
    assert result.status.value == "not_applicable"
    assert [f.code for f in result.findings] == ["solo_paginas_web"] and result.findings[0].manual_review
    page_and_wall = ctx(resources=[ev(resource("A", "XLS"), probe("landing_page", sniffed="html")),
                                   ev(resource("B", "CSV"), probe("auth_required", sniffed="html"))])
    assert no_discriminatorios.evaluate(page_and_wall, no_discriminatorios.Params()).status.value == "partial"


@pytest.mark.parametrize(
    ("headers", "body", "urls", "expected"),
    [
        ({}, b"<h1>403 Forbidden</h1>", ["https://x.example.invalid/datos.csv"], ("client_error", "http_403")),
        ({"WWW-Authenticate": 'Bearer realm="datos"'}, b"", [], ("auth_required", "http_403_authenticate")),
        ({}, b'<form action="/login"><input type="password" name="p"></form>', [], ("auth_required", "login_form")),
        ({}, b"", ["https://x.example.invalid/user/register?next=/d.csv"], ("auth_required", "login_redirect")),
    ],
    ids=["bare", "www_authenticate", "login_form", "signup_redirect"],
)
def test_a_403_is_a_registration_wall_only_with_a_sign_of_registration(headers, body, urls, expected):
    from audit.config import ProbeSettings
    from audit.probe.classify import classify_forbidden

    words = ProbeSettings().login_url_words
    assert classify_forbidden(headers, body, urls, login_words=words) == expected


def test_a_bare_403_fails_accesibles_only():
    from rules import accesibles

    bare = failed("client_error", "http_403", 403)
    c = ctx(resources=[ev(resource("A"), bare)])
    assert run(c).status is Status.NOT_APPLICABLE
    assert accesibles.evaluate(c, accesibles.Params()).status is Status.FAIL
    # the same reason stored as auth_required by an older version of the prober is not a registration wall either
    legacy = ctx(resources=[ev(resource("A"), auth("http_403", 403)), ev(resource("B"))])
    assert run(legacy).status is Status.PASS
