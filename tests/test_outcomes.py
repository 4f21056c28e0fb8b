"""Probe outcomes: one enum, one Spanish wording, every reader's table derived from it."""

from __future__ import annotations

import json

from audit.outcomes import OUTCOME_WORDS, REASON_WORDS, Outcome, outcome_es, reason_es


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
