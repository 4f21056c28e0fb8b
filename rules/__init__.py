"""The ten characteristics of open data (legal text from ``legal_basis``; by default LGTAIP 2025 art. 3 fr. VIII),
one module each, registered here.

Public API::

    CHARACTERISTICS                      the ten rule ids, in legal order
    RULES                                the built-in :class:`rules.base.Rule` objects, same order
    RULES_BY_ID                          id → Rule
    params_for(rules_section)            ``config.yaml``'s ``rules:`` block → {rule id: validated params model}
    common_params(rules_section)         the ``rules.common`` keys alone (documentation words for non-rule code)
    validate_params(rules_section, src)  same validation, raising ConfigError naming the bad key
    evaluate_all(ctx, params)            every rule on one dataset; never raises (a crash → not_applicable + error)
    default_rules_config()               the default ``rules:`` block as plain data (docs/rules-config.yaml)
    render_rules_config_yaml()           the same as commented YAML
    count_es()                           how many characteristics are registered, in Spanish words («diez»)

The optional ``rules.common`` block sets shared keys (e.g. ``documentation_words``) for every rule that has them;
a rule's own block wins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from audit.errors import ConfigError
from audit.evidence import DatasetContext
from rules import (
    accesibles,
    formatos_abiertos,
    gratuitos,
    integrales,
    legibles_por_maquinas,
    libre_uso,
    no_discriminatorios,
    oportunos,
    permanentes,
    primarios,
)
from rules._common import RuleParams, SharedCode
from rules.base import Finding, Rule, RuleResult, Status

log = logging.getLogger(__name__)

CHARACTERISTICS: tuple[str, ...] = (
    "accesibles",
    "integrales",
    "gratuitos",
    "no_discriminatorios",
    "oportunos",
    "permanentes",
    "primarios",
    "legibles_por_maquinas",
    "formatos_abiertos",
    "libre_uso",
)

RULES: tuple[Rule, ...] = (
    accesibles.RULE,
    integrales.RULE,
    gratuitos.RULE,
    no_discriminatorios.RULE,
    oportunos.RULE,
    permanentes.RULE,
    primarios.RULE,
    legibles_por_maquinas.RULE,
    formatos_abiertos.RULE,
    libre_uso.RULE,
)
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
COMMON_KEY = "common"

_COUNT_ES = ("ninguna", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once",
             "doce", "trece", "catorce", "quince")

__all__ = [
    "CHARACTERISTICS", "COMMON_KEY", "RULES", "RULES_BY_ID", "Finding", "Rule", "RuleResult", "Status", "common_params",
    "count_es", "default_rules_config", "evaluate_all", "params_for", "render_rules_config_yaml", "validate_params",
]


def count_es() -> str:
    """The number of registered characteristics in words, for reader text («las diez características»): the law
    has ten, and a rule added to the registry must not leave «diez» behind. Read at call time."""
    n = len(RULES)
    return _COUNT_ES[n] if n < len(_COUNT_ES) else str(n)


def _expected(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    if info is None:
        return ""
    ann = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
    desc = f" — {info.description}" if info.description else ""
    return f" (se espera {ann}{desc})"


def _errors(exc: ValidationError, prefix: str, model: type[BaseModel]) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = ".".join([prefix, *loc]) if loc else prefix
        if err["type"] == "extra_forbidden":
            known = ", ".join(model.model_fields)
            lines.append(f"  - clave desconocida '{key}': revise la ortografía; claves válidas: {known}")
        else:
            got = err.get("input")
            shown = repr(got) if not isinstance(got, (dict, list)) or len(repr(got)) < 80 else "{…}"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  - '{key}': {msg} (valor recibido: {shown}){_expected(model, loc[0]) if loc else ''}")
    return lines


def _params_or_errors(rules_section: Mapping[str, Any] | None) -> tuple[dict[str, BaseModel], list[str]]:
    section = dict(rules_section or {})
    problems: list[str] = []
    common = section.pop(COMMON_KEY, None) or {}
    if not isinstance(common, Mapping):
        problems.append(f"  - 'rules.{COMMON_KEY}' debe ser un mapa de claves (se recibió {type(common).__name__})")
        common = {}
    shared = set(RuleParams.model_fields)
    for key in common:
        if key not in shared:
            problems.append(f"  - clave desconocida 'rules.{COMMON_KEY}.{key}': claves válidas: {', '.join(sorted(shared))}")
    for key in section:
        if key not in RULES_BY_ID:
            problems.append(
                f"  - clave desconocida 'rules.{key}': no es una característica; use una de: "
                + ", ".join(CHARACTERISTICS) + f" (o '{COMMON_KEY}')"
            )
    out: dict[str, BaseModel] = {}
    for rule in RULES:
        model = rule.params_model or RuleParams
        block = section.get(rule.id) or {}
        if not isinstance(block, Mapping):
            problems.append(f"  - 'rules.{rule.id}' debe ser un mapa de claves (se recibió {type(block).__name__})")
            continue
        data = {k: v for k, v in common.items() if k in model.model_fields}
        data.update(block)
        try:
            out[rule.id] = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(_errors(exc, f"rules.{rule.id}", model))
    return out, problems


def params_for(rules_section: Mapping[str, Any] | None) -> dict[str, BaseModel]:
    """Validated parameters of every rule (defaults where the section says nothing). Raises ConfigError."""
    params, problems = _params_or_errors(rules_section)
    if problems:
        raise ConfigError("Parámetros de reglas inválidos:\n" + "\n".join(problems),
                          hint="Consulte docs/reglas.md y docs/rules-config.yaml para las claves y valores válidos.")
    return params


def common_params(rules_section: Mapping[str, Any] | None) -> RuleParams:
    """The shared keys of ``rules.common`` alone (defaults where it says nothing): what the parts of the audit that
    are not a rule — the publication indicator and duplicate detection — use to tell documentation from data."""
    common = (rules_section or {}).get(COMMON_KEY) or {}
    return RuleParams.model_validate(dict(common))


def validate_params(rules_section: Mapping[str, Any] | None, source: str) -> None:
    """Validate ``config.yaml``'s ``rules:`` block at load time; the error names every bad key (rules.<id>.<key>)."""
    _, problems = _params_or_errors(rules_section)
    if problems:
        raise ConfigError(
            f"Configuración inválida en {source} (sección rules):\n" + "\n".join(problems),
            hint="Consulte docs/reglas.md y docs/rules-config.yaml para las claves y valores válidos.",
            source=source,
        )


def default_rules_config() -> dict[str, dict[str, Any]]:
    """The default ``rules:`` block: shared keys under ``common``, then each rule's own parameters."""
    shared = set(RuleParams.model_fields)
    out: dict[str, dict[str, Any]] = {COMMON_KEY: RuleParams().model_dump(mode="json")}
    for rule in RULES:
        dumped = rule.default_params().model_dump(mode="json")
        out[rule.id] = {k: v for k, v in dumped.items() if k not in shared}
    return out


def render_rules_config_yaml() -> str:
    """docs/rules-config.yaml: the default block, ready to merge into config.yaml."""
    import yaml

    header = (
        "# Bloque `rules:` por omisión de config.yaml: vocabularios y umbrales de las diez características.\n"
        "# Generado con `python -m rules` a partir de los modelos de parámetros de rules/*.py\n"
        "# (tests/test_rules_registry.py verifica que coincida). Copie a config.yaml solo las claves que quiera\n"
        "# cambiar; las demás conservan estos valores. `common` fija claves compartidas por todas las reglas\n"
        "# (el bloque propio de una regla tiene prioridad). Reglas, umbrales y códigos de motivo: docs/reglas.md.\n"
    )
    body = yaml.safe_dump({"rules": default_rules_config()}, allow_unicode=True, sort_keys=False, width=110)
    return header + body


def _crashed(rule_id: str, exc: BaseException) -> RuleResult:
    return RuleResult(
        rule_id,
        Status.NOT_APPLICABLE,
        0.0,
        (Finding(SharedCode.ERROR_REGLA,
                 "La regla no pudo evaluarse por un error interno del auditor; se registró para revisión.",
                 "Sin acción para la dependencia: el equipo evaluador revisará el error.", manual_review=True),),
        {"error": f"{type(exc).__name__}: {exc}"},
    )


def evaluate_all(
    ctx: DatasetContext,
    params: Mapping[str, Any] | None = None,
    rules: Iterable[Rule] | None = None,
) -> list[RuleResult]:
    """Run every rule on one dataset (``rules``: default the registry, read at call time), in order. Never raises:
    a crashing rule yields ``not_applicable`` with ``evidence["error"]`` (the scoring stage records it as an error
    for that dataset)."""
    params = params or {}
    results: list[RuleResult] = []
    for rule in RULES if rules is None else rules:
        try:
            p = params.get(rule.id)
            if p is None:
                p = rule.default_params()
            result = rule.evaluate(ctx, p)
            if not isinstance(result, RuleResult):
                raise TypeError(f"la regla devolvió {type(result).__name__}, no RuleResult")
            if result.characteristic != rule.id:
                raise ValueError(f"la regla devolvió la característica {result.characteristic!r}")
        except Exception as exc:  # noqa: BLE001 - one rule bug must not stop the audit
            log.exception("La regla %s falló en el conjunto %s", rule.id, ctx.dataset.get("name"))
            result = _crashed(rule.id, exc)
        results.append(result)
    return results
