"""Probe outcomes: one enum, one Spanish wording, every reader's table derived from it."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from audit.config import AuditConfig
from audit.outcomes import OUTCOME_WORDS, REASON_WORDS, Outcome, outcome_es, reason_es
from audit.probe import ProbeRequest, probe_urls


def test_outcomes_are_their_stored_strings() -> None:
    assert Outcome.NOT_FOUND == "not_found"
    assert json.dumps({"o": Outcome.TLS_ERROR}) == '{"o": "tls_error"}'
    assert f"{Outcome.LANDING_PAGE}" == "landing_page"
    assert {Outcome.OK: 1}.get("ok") == 1  # a plain string from the store finds an enum-keyed entry


def test_every_outcome_has_every_spanish_form_in_enum_order() -> None:
    assert list(OUTCOME_WORDS) == list(Outcome)
    for outcome, words in OUTCOME_WORDS.items():
        for use, text in words._asdict().items():
            assert text.strip() and text == text.strip(), (outcome, use)
            assert "_" not in text, (outcome, use)  # a code leaking into reader text


def test_reason_wordings_are_spanish_phrases_not_codes() -> None:
    assert all(w.dashboard or w.report for w in REASON_WORDS.values())
    for code, words in REASON_WORDS.items():
        for use, text in words._asdict().items():
            assert text is None or (text.strip() and "_" not in text and text != code), (code, use)


def test_readers_tables_derive_from_the_one_wording() -> None:
    from audit.alerts import OUTCOME_ES as alerts
    from audit.probe.stage import OUTCOME_LABELS_ES
    from audit.web.format import OUTCOME_ES as web
    from audit.web.labels import reason_es as web_reason_es
    from reports.wording import CODES_ES, plain_es

    assert web == alerts == outcome_es("dashboard")
    assert web["connection_error"] == "no se pudo conectar"
    assert list(OUTCOME_LABELS_ES) == [*Outcome, "unprobed"]
    assert OUTCOME_LABELS_ES["not_found"] == "No encontrado (404/410)"
    assert all(CODES_ES[o] == OUTCOME_WORDS[o].report for o in Outcome)
    assert all(CODES_ES[c] == t for c, t in reason_es("report").items())
    assert plain_es("motivo: redirect_loop") == "motivo: redirecciones en ciclo"
    assert web_reason_es("redirect_loop") == "redirecciones en bucle"
    assert web_reason_es("http_404") == "el archivo no existe (HTTP 404)"
    assert web_reason_es("http_418") == "respuesta HTTP 418"


def test_report_tables_label_outcomes_from_the_one_wording() -> None:
    from reports.render import outcome_label

    assert [outcome_label(o) for o in Outcome] == [w.report_heading for w in OUTCOME_WORDS.values()]
    assert outcome_label("landing_page") == "Página HTML (no el archivo)"


def test_every_outcome_the_prober_gives_the_sample_portal_is_a_member(sample_portal: Any) -> None:
    """The prober hands out enum members (not look-alike strings), and its crashes are not outcomes."""
    cfg = AuditConfig.model_validate({"http": {"retries": 0, "total_timeout_s": 10}})
    reqs = [ProbeRequest(r.get("url"), key=(pkg["name"], i), declared_format=r.get("format"))
            for pkg in sample_portal.catalog.iter_datasets() for i, r in enumerate(pkg.get("resources", []))]

    async def go() -> list[Any]:
        host = urlsplit(sample_portal.url).hostname
        return [ev async for _, ev in probe_urls(reqs, cfg, allow_hosts=[host])]

    results = asyncio.run(go())
    assert len(results) == len(reqs)
    assert all(type(ev.outcome) is Outcome for ev in results), {type(ev.outcome) for ev in results}
    seen = {ev.outcome for ev in results}
    # the sample portal plants most failure kinds; every one of them is worded for every reader
    assert len(seen) >= 8, seen
    assert all(OUTCOME_WORDS[o].dashboard for o in seen)
    # and every reason it gives is worded for the dashboard and, in running text, for the reports
    from audit.web.labels import reason_es as dashboard_reason
    from reports.wording import plain_es

    reasons = {ev.reason for ev in results if ev.reason}
    assert reasons, "the sample portal plants failures with reasons"
    for code in sorted(reasons):
        assert dashboard_reason(code) != "otro motivo", code
        assert "_" not in plain_es(f"Observado: {code}"), (code, plain_es(code))


@pytest.mark.parametrize("code", ["login_form", "http_403_authenticate", "not_modified", "too_many_redirects",
                                  "scheme_ftp", "scheme_file", "scheme_missing", "unsafe_loopback",
                                  "unsafe_link-local", "unsafe_private", "tls_error", "http_418"])
def test_reason_codes_with_a_variable_part_or_rare_ones_reach_readers_in_spanish(code: str) -> None:
    from audit.web.labels import reason_es as dashboard_reason
    from reports.wording import plain_es

    assert dashboard_reason(code) != "otro motivo"
    text = plain_es(f"Observado: {code}.")
    assert code not in text and "_" not in text, text


def test_a_prober_crash_is_a_probe_crash_not_an_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.probe import ProbeCrash, Prober

    async def broken(self: Prober, req: ProbeRequest) -> Any:  # stands in for a bug in our own code
        raise RuntimeError("bug")

    monkeypatch.setattr(Prober, "probe", broken)

    async def go() -> list[Any]:
        return [ev async for _, ev in probe_urls([ProbeRequest("http://127.0.0.1:9/x", key=1)], AuditConfig())]

    (crash,) = asyncio.run(go())
    assert crash == ProbeCrash(error="RuntimeError: bug", reason="internal_error")
    assert not hasattr(crash, "outcome")


def test_outcomes_read_back_from_a_wire_message_are_members() -> None:
    from audit.distributed.wire import evidence_from_json, evidence_to_json
    from audit.evidence import ProbeEvidence

    sent = evidence_to_json(ProbeEvidence(outcome=Outcome.LANDING_PAGE, reason="html_instead_of_data"))
    assert json.loads(json.dumps(sent))["outcome"] == "landing_page"
    back = evidence_from_json(json.loads(json.dumps(sent)))
    assert type(back.outcome) is Outcome and back.outcome is Outcome.LANDING_PAGE


def test_probe_evidence_converts_a_stored_string_and_refuses_a_typo() -> None:
    from audit.evidence import ProbeEvidence

    assert ProbeEvidence(outcome="not_found").outcome is Outcome.NOT_FOUND  # a row or builder gives a plain string
    for typo in ("error", "login_required", "OK"):
        with pytest.raises(ValueError):
            ProbeEvidence(outcome=typo)  # type: ignore[arg-type]
