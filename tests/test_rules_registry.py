"""The registry: ten rules in legal order, validated parameters, evaluate_all never raises, docs and tests exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from test_rules_builders import ctx, dataset, ev, failed, resource

import rules
from audit.errors import ConfigError
from audit.legal import DEFAULT_LEGAL_BASIS
from rules._common import SharedCode
from rules.base import Finding, Rule, RuleResult, Status

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "docs" / "reglas.md").read_text(encoding="utf-8")


def test_rules_are_registered_in_legal_order():
    assert tuple(r.id for r in rules.RULES) == rules.CHARACTERISTICS
    assert len(rules.CHARACTERISTICS) == 10


@pytest.mark.parametrize("rule_id", rules.CHARACTERISTICS)
def test_every_characteristic_has_module_title_legal_text_params_tests_and_docs(rule_id):
    module = importlib.import_module(f"rules.{rule_id}")
    rule = module.RULE
    assert isinstance(rule, Rule) and rule.id == rule_id
    assert rule.title_es and rule.description_es
    assert DEFAULT_LEGAL_BASIS.text(rule_id), "the default legal_basis quotes every characteristic"
    assert f"**Texto legal** — {DEFAULT_LEGAL_BASIS.quote(rule_id)}." in DOCS
    assert rule.params_model is not None
    test_file = REPO / "tests" / f"test_rules_{rule_id}.py"
    assert test_file.exists() and "def test_" in test_file.read_text(encoding="utf-8")
    assert re.search(rf"^## .*`{rule_id}`", DOCS, re.M), f"docs/reglas.md needs a section for {rule_id}"


@pytest.mark.parametrize("rule_id", rules.CHARACTERISTICS)
def test_every_parameter_is_documented(rule_id):
    model = rules.RULES_BY_ID[rule_id].params_model
    missing = [key for key in model.model_fields if f"`{key}`" not in DOCS]
    assert not missing, f"document these rules.{rule_id} keys in docs/reglas.md: {missing}"


@pytest.mark.parametrize("rule_id", rules.CHARACTERISTICS)
def test_every_reason_code_is_an_enum_member_and_documented(rule_id):
    rule = rules.RULES_BY_ID[rule_id]
    module = importlib.import_module(f"rules.{rule_id}")
    assert rule.codes is module.Code, f"rules/{rule_id}.py declares its codes as Code and passes codes=Code"
    assert rule.reason_codes(), f"rules/{rule_id}.py has no reason codes"
    assert rule.advisory_codes <= rule.reason_codes()
    missing = sorted(c for c in rule.reason_codes() if f"`{c}`" not in DOCS)
    assert not missing, f"document these reason codes in docs/reglas.md: {missing}"


def _code_tables() -> dict[str, set[str]]:
    """The codes in the «código» tables of docs/reglas.md, by the rule id in their section's heading
    («Conceptos comunes» → ``"common"``)."""
    tables: dict[str, set[str]] = {}
    for section in re.split(r"^(?=## )", DOCS, flags=re.M):
        heading = section.splitlines()[0] if section else ""
        named = re.search(r"`([a-z_]+)`", heading)
        key = named.group(1) if named else ("common" if "Conceptos comunes" in heading else heading)
        for table in re.findall(r"^\| código[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", section, re.M):
            tables.setdefault(key, set()).update(re.findall(r"^\| `([a-z_]+)`", table, re.M))
    return tables


def test_the_code_tables_of_the_docs_match_the_enums():
    tables = _code_tables()
    shared = {c.value for c in SharedCode}
    assert tables.pop("common") == shared
    assert set(tables) == set(rules.CHARACTERISTICS)
    for rule in rules.RULES:
        assert tables[rule.id] - shared == rule.reason_codes(), rule.id


def test_no_rule_claims_a_shared_code_as_its_own():
    shared = {c.value for c in SharedCode}
    assert not {r.id: r.reason_codes() & shared for r in rules.RULES if r.reason_codes() & shared}


def test_a_rule_without_codes_still_works_and_stray_advisory_codes_are_refused():
    bare = Rule(id="accesibles", title_es="X", evaluate=lambda c, p: RuleResult("accesibles", Status.PASS, 1.0))
    assert bare.reason_codes() == frozenset()
    assert rules.evaluate_all(ctx(), {}, rules=(bare,))[0].status is Status.PASS
    with pytest.raises(ValueError, match="no_existe"):
        Rule(id="x", title_es="X", evaluate=_boom, advisory_codes=frozenset({"no_existe"}))
    with pytest.raises(ValueError, match="no_existe"):
        Rule(id="x", title_es="X", evaluate=_boom, decisive_codes=frozenset({"no_existe"}))
    from rules.oportunos import Code

    with pytest.raises(ValueError, match="both advisory and decisive"):
        Rule(id="x", title_es="X", evaluate=_boom, codes=Code, advisory_codes=frozenset({Code.DESACTUALIZADO}),
             decisive_codes=frozenset({Code.DESACTUALIZADO}))


def test_findings_store_codes_as_plain_strings():
    from rules.accesibles import Code

    finding = Finding(Code.ARCHIVO_VACIO, "m")
    assert type(finding.code) is str and finding.code == "archivo_vacio"
    assert yaml.safe_dump(finding.as_dict()).startswith("advisory: false\ncode: archivo_vacio\n")


def test_default_rules_config_file_matches_the_parameter_models():
    text = (REPO / "docs" / "rules-config.yaml").read_text(encoding="utf-8")
    assert text == rules.render_rules_config_yaml(), "regenerate with: python -m rules > docs/rules-config.yaml"
    documented = yaml.safe_load(text)
    rules.validate_params(documented["rules"], "docs/rules-config.yaml")
    assert rules.params_for(documented["rules"]) == rules.params_for({})


def test_params_for_gives_defaults_for_an_empty_section():
    params = rules.params_for({})
    assert set(params) == set(rules.CHARACTERISTICS)
    assert params["oportunos"].pass_factor == 1.25
    assert params["accesibles"].availability_pass_ratio == 0.9
    assert params["accesibles"].availability_min_runs == 3
    assert params["integrales"].min_description_chars == 100
    assert params["formatos_abiertos"].xlsx_is_open is True
    assert params["permanentes"].lookback_days == 365


def test_params_for_applies_overrides_and_the_common_block():
    params = rules.params_for({"common": {"documentation_words": ["anexo"]},
                               "oportunos": {"pass_factor": 1.5}, "integrales": None})
    assert params["oportunos"].pass_factor == 1.5
    assert params["gratuitos"].documentation_words == ["anexo"]
    own = rules.params_for({"common": {"documentation_words": ["anexo"]},
                            "primarios": {"documentation_words": ["ficha"]}})
    assert own["primarios"].documentation_words == ["ficha"]  # a rule's own block wins


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"oportunos": {"x": 1}}, "rules.oportunos.x"),
        ({"oportunos": {"pass_factor": -1}}, "rules.oportunos.pass_factor"),
        ({"accesibles": {"availability_pass_ratio": 2}}, "rules.accesibles.availability_pass_ratio"),
        ({"integrales": {"pass_threshold": "alto"}}, "rules.integrales.pass_threshold"),
        ({"oportunos": {"frequency_words": {"mensual": "cada mes"}}}, "rules.oportunos.frequency_words"),
        ({"libre_uso": {"license_vocabulary": {"x": "abierta"}}}, "rules.libre_uso.license_vocabulary"),
        ({"oportunos": {"pass_factor": 3, "partial_factor": 2}}, "rules.oportunos"),
        ({"oportunoss": {}}, "rules.oportunoss"),
        ({"common": {"pass_factor": 1}}, "rules.common.pass_factor"),
        ({"oportunos": ["mensual"]}, "rules.oportunos"),
    ],
)
def test_validate_params_names_the_bad_key_and_what_is_expected(section, named):
    with pytest.raises(ConfigError) as err:
        rules.validate_params(section, "config.yaml")
    message = str(err.value)
    assert named in message
    assert "config.yaml" in message
    with pytest.raises(ConfigError):
        rules.params_for(section)


def test_validate_params_says_what_type_is_expected():
    with pytest.raises(ConfigError) as err:
        rules.validate_params({"oportunos": {"pass_factor": -1}}, "config.yaml")
    assert "se espera float" in str(err.value)
    with pytest.raises(ConfigError) as err:
        rules.validate_params({"oportunos": {"x": 1}}, "config.yaml")
    assert "pass_factor" in str(err.value)  # lists the valid keys


def test_load_config_rejects_a_bad_rules_key(tmp_path):
    from audit.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text("rules:\n  oportunos:\n    factor_de_gracia: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\.oportunos\.factor_de_gracia"):
        load_config(path)
    path.write_text("rules:\n  oportunos:\n    pass_factor: 1.5\n", encoding="utf-8")
    assert load_config(path).rules.model_dump()["oportunos"]["pass_factor"] == 1.5


def test_evaluate_all_returns_one_result_per_characteristic_in_order():
    results = rules.evaluate_all(ctx(), rules.params_for({}))
    assert [r.characteristic for r in results] == list(rules.CHARACTERISTICS)
    assert all(isinstance(r, RuleResult) for r in results)


def test_evaluate_all_uses_defaults_when_params_are_missing():
    results = rules.evaluate_all(ctx())
    assert {r.characteristic: r.status for r in results}["accesibles"] is Status.PASS


def _boom(ctx, params):
    raise RuntimeError("fallo interno")


def test_evaluate_all_survives_a_crashing_rule():
    crashing = Rule(id="integrales", title_es="X", evaluate=_boom)
    results = rules.evaluate_all(ctx(), {}, rules=(rules.RULES[0], crashing, rules.RULES[2]))
    assert [r.characteristic for r in results] == ["accesibles", "integrales", "gratuitos"]
    crashed = results[1]
    assert crashed.status is Status.NOT_APPLICABLE
    assert crashed.evidence["error"] == "RuntimeError: fallo interno"
    assert crashed.findings[0].code == "error_regla"
    assert results[0].status is Status.PASS and results[2].status is Status.PASS


def test_evaluate_all_treats_a_wrong_return_value_as_a_crash():
    wrong = Rule(id="libre_uso", title_es="X",
                 evaluate=lambda c, p: RuleResult("accesibles", Status.PASS, 1.0))
    (result,) = rules.evaluate_all(ctx(), {}, rules=(wrong,))
    assert result.status is Status.NOT_APPLICABLE and "error" in result.evidence


def test_evaluate_all_on_a_retired_dataset_fails_permanentes_only():
    results = {r.characteristic: r for r in rules.evaluate_all(ctx(retired=True, has_previous_runs=True))}
    assert results["permanentes"].status is Status.FAIL
    assert results["permanentes"].findings[0].code == "retirado"
    assert all(r.status is Status.NOT_APPLICABLE for c, r in results.items() if c != "permanentes")


def test_every_finding_has_code_message_and_remediation_in_a_bad_dataset():
    bad = dataset(notes="x", tags=[], groups=[], license_id="cc-nc", extras=[{"key": "costo", "value": "500"}],
                  maintainer_email="")
    c = ctx(bad, [ev(resource("A", "XLS"), failed("not_found", "http_404", 404)),
                  ev(resource("B", "PDF"), failed("auth_required", "http_401", 401))])
    findings: list[Finding] = [f for r in rules.evaluate_all(c) for f in r.findings]
    assert len(findings) >= 8
    for f in findings:
        assert re.fullmatch(r"[a-z_]+", f.code)
        assert f.message_es and f.remediation_es
    assert_codes_belong_to_their_rules(rules.evaluate_all(c))


def assert_codes_belong_to_their_rules(results):
    """Every finding's code is one of its rule's ``Code`` members or a shared code, and an advisory code is only
    ever on an advisory finding, a decisive one never on a passing result."""
    shared = {c.value for c in SharedCode}
    for result in results:
        rule = rules.RULES_BY_ID[result.characteristic]
        for f in result.findings:
            assert f.code in rule.reason_codes() | shared, f"{result.characteristic}: {f.code} not in its Code enum"
            assert f.advisory or f.code not in rule.advisory_codes, f"{result.characteristic}: {f.code} decided"
            assert result.status != Status.PASS or f.code not in rule.decisive_codes, f"{f.code} on a pass"
