from __future__ import annotations

import pytest
from test_rules_builders import ctx, dataset, ev, failed, hist, hres, probe, resource

from rules import permanentes
from rules.base import Status

P = permanentes.Params()

ENE = resource("Casos enero 2026", id="r-ene")
FEB = resource("Casos febrero 2026", id="r-feb")
MAR = resource("Casos marzo 2026", id="r-mar")


def run(c, params=P):
    return permanentes.evaluate(c, params)


def later(resources, history):
    return ctx(dataset(), resources, history=tuple(history), has_previous_runs=True)


def codes(result):
    return [f.code for f in result.findings]


def test_permanentes_first_audit_is_not_applicable_without_history():
    result = run(ctx())
    assert result.status is Status.NOT_APPLICABLE
    assert codes(result) == ["sin_historial"]


def test_permanentes_new_dataset_on_a_later_run_is_not_applicable():
    result = run(ctx(has_previous_runs=True))
    assert result.status is Status.NOT_APPLICABLE


# ---- two runs -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("before", "now", "status", "code"),
    [
        ([ENE, FEB], [ev(ENE, probe(sha256="h1")), ev(FEB, probe(sha256="h1"))], Status.PASS, None),
        # a new period was added: still everything kept
        ([ENE], [ev(ENE, probe(sha256="h1")), ev(FEB)], Status.PASS, None),
        # earlier period of the series removed
        ([ENE, FEB], [ev(FEB, probe(sha256="h1"))], Status.FAIL, "recurso_eliminado"),
        # still listed, but now 404
        ([ENE, FEB], [ev(ENE, failed("not_found", "http_404", 404)), ev(FEB, probe(sha256="h1"))], Status.FAIL,
         "recurso_ya_no_disponible"),
        # now answers through a redirect
        ([ENE], [ev(ENE, probe(sha256="h1", redirects=("https://nuevo.example.invalid/ene.csv",),
                               final_url="https://nuevo.example.invalid/ene.csv"))], Status.PARTIAL, "recurso_redirigido"),
        # same id, URL changed
        ([ENE], [ev({**ENE, "url": "https://otro.example.invalid/ene.csv"}, probe(sha256="h1"))], Status.PARTIAL,
         "recurso_movido"),
    ],
    ids=["kept", "new_period_added", "earlier_period_removed", "now_failing", "redirect", "url_changed"],
)
def test_permanentes_two_runs(before, now, status, code):
    result = run(later(now, [hist(7, [hres(r) for r in before])]))
    assert result.status is status, result.findings
    if code:
        assert code in codes(result)
    if status is Status.PARTIAL:
        assert 0 < result.score < 1


def test_permanentes_renamed_resource_with_same_hash_is_partial():
    renamed = resource("Casos de enero (versión final)", id="r-nuevo", url="https://datos.example.invalid/x.csv")
    result = run(later([ev(renamed, probe(sha256="h-ene"))], [hist(7, [hres(ENE, "h-ene")])]))
    assert result.status is Status.PARTIAL
    finding = result.findings[0]
    assert finding.code == "recurso_renombrado"
    assert "Casos enero 2026" in finding.observed and "versión final" in finding.observed


def test_permanentes_renamed_resource_same_id_is_partial():
    renamed = {**ENE, "name": "Enero 2026"}
    result = run(later([ev(renamed, probe(sha256="h1"))], [hist(7, [hres(ENE)])]))
    assert result.status is Status.PARTIAL
    assert codes(result) == ["recurso_renombrado"]


def test_permanentes_removed_link_that_never_worked_is_not_a_loss():
    result = run(later([ev(FEB)], [hist(7, [hres(ENE, None, "not_found"), hres(FEB)])]))
    assert result.status is Status.PASS


def test_permanentes_a_dataset_whose_only_resource_never_worked_keeps_nothing_available():
    result = run(later([ev(ENE, failed("not_found", "http_404", 404))], [hist(7, [hres(ENE, None, "not_found")])]))
    assert result.status is Status.FAIL
    assert codes(result) == ["recurso_nunca_disponible"] and result.findings[0].observed == "http_404"
    assert result.evidence["never_available"] == 1 and result.evidence["kept"] == 0


def test_permanentes_one_resource_never_worked_next_to_a_kept_one_is_partial():
    result = run(later([ev(ENE, failed("auth_required", "http_401", 401)), ev(FEB)],
                       [hist(7, [hres(ENE, None, "auth_required"), hres(FEB)])]))
    assert result.status is Status.PARTIAL and result.score == 0.5
    assert codes(result) == ["recurso_nunca_disponible"]


def test_permanentes_a_resource_that_works_now_after_failing_before_is_kept():
    result = run(later([ev(ENE)], [hist(7, [hres(ENE, None, "not_found")])]))
    assert result.status is Status.PASS


def test_permanentes_link_that_already_redirected_to_the_same_place_has_not_moved():
    dest = "https://cdn.example.invalid/ene.csv"
    now = [ev(ENE, probe(redirects=(dest,), final_url=dest))]
    assert run(later(now, [hist(7, [hres(ENE, final_url=dest)])])).status is Status.PASS
    elsewhere = [ev(ENE, probe(redirects=("https://otro.example.invalid/x.csv",),
                               final_url="https://otro.example.invalid/x.csv"))]
    result = run(later(elsewhere, [hist(7, [hres(ENE, final_url=dest)])]))
    assert result.status is Status.PARTIAL
    assert result.findings[0].code == "recurso_redirigido"


def test_permanentes_new_redirect_when_earlier_destination_was_the_url_itself():
    now = [ev(ENE, probe(redirects=("https://nuevo.example.invalid/ene.csv",),
                         final_url="https://nuevo.example.invalid/ene.csv"))]
    result = run(later(now, [hist(7, [hres(ENE, final_url=ENE["url"])])]))
    assert result.status is Status.PARTIAL


def test_permanentes_redirect_rule_is_configurable():
    now = [ev(ENE, probe(redirects=("https://x.example.invalid/",), final_url="https://x.example.invalid/"))]
    params = permanentes.Params(redirect_is_moved=False)
    assert run(later(now, [hist(7, [hres(ENE)])]), params).status is Status.PASS


# ---- three runs -----------------------------------------------------------------------------------------------

def test_permanentes_three_runs_resource_seen_only_in_the_first_run_still_counts():
    history = [hist(60, [hres(ENE)], 1), hist(30, [hres(FEB)], 2)]
    result = run(later([ev(FEB)], history))
    assert result.status is Status.FAIL
    assert result.findings[0].resource == "Casos enero 2026"
    assert result.evidence["history_runs"] == 2


def test_permanentes_three_runs_series_growing_passes():
    history = [hist(60, [hres(ENE)], 1), hist(30, [hres(ENE), hres(FEB)], 2)]
    result = run(later([ev(ENE), ev(FEB), ev(MAR)], history))
    assert result.status is Status.PASS
    assert result.evidence["kept"] == 2


def test_permanentes_three_runs_one_moved_one_kept_is_graded():
    history = [hist(60, [hres(ENE), hres(FEB)], 1), hist(30, [hres(ENE), hres(FEB)], 2)]
    moved = {**FEB, "url": "https://nuevo.example.invalid/feb.csv"}
    result = run(later([ev(ENE), ev(moved)], history))
    assert result.status is Status.PARTIAL
    assert result.score == pytest.approx(0.75)


def test_permanentes_ignores_runs_outside_the_look_back_window():
    history = [hist(500, [hres(ENE)], 1), hist(30, [hres(FEB)], 2)]
    result = run(later([ev(FEB)], history))
    assert result.status is Status.PASS
    assert result.evidence["history_runs"] == 1
    short = permanentes.Params(lookback_days=10)
    assert run(later([ev(FEB)], history), short).status is Status.NOT_APPLICABLE


def test_permanentes_retired_dataset_fails_with_reason():
    result = run(ctx(retired=True, has_previous_runs=True, history=(hist(7, [hres(ENE)]),)))
    assert result.status is Status.FAIL
    assert result.score == 0
    assert codes(result) == ["retirado"]
    assert result.findings[0].observed == "casos-de-dengue"
