"""The rule interface shared by the ten characteristics.

Each module in ``rules/`` defines a module-level ``RULE`` (a :class:`Rule`): id, Spanish title, how it is
measured, and ``evaluate(ctx, params) -> RuleResult``. The legal text a rule implements is data, not code: it comes
from ``config.yaml``'s ``legal_basis`` block (audit/legal.py), keyed by the rule id. ``params`` is the rule's section of
``config.yaml`` (``rules.<id>``), validated when the config is loaded, not when the rule runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from audit.evidence import DatasetContext


class Status(StrEnum):
    PASS = "pass"
    PARTIAL = "partial"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


STATUS_ES = {
    Status.PASS: "Cumple",
    Status.PARTIAL: "Cumple parcialmente",
    Status.FAIL: "No cumple",
    Status.NOT_APPLICABLE: "No aplica",
}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # stable reason code: a member of the rule's ``Code`` enum or ``rules._common.SharedCode``
    message_es: str  # what is wrong, in plain Spanish
    remediation_es: str = ""  # what to do, concrete ("Publique también el archivo en CSV")
    resource: str | None = None  # resource name/URL concerned
    observed: str | None = None  # the observed value (status code, format, licence id …)
    manual_review: bool = False  # "requiere revisión manual"
    #: a recommendation that did not decide the verdict: every finding of a ``pass`` result (set by
    #: ``rules._common.make_result``) and observations a rule reports without lowering its status
    advisory: bool = False
    #: the resource's CKAN id (its URL when it has none): tells apart files of one dataset with the same name
    resource_id: str | None = None

    def __post_init__(self) -> None:
        # rules pass members of their ``Code`` enum; store the plain string so YAML, CSV, JSON and the database see
        # exactly the text they always did
        if type(self.code) is not str:
            object.__setattr__(self, "code", str(self.code))

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_es": self.message_es,
            "remediation_es": self.remediation_es,
            "resource": self.resource,
            "observed": self.observed,
            "manual_review": self.manual_review,
            "advisory": self.advisory,
            "resource_id": self.resource_id,
        }


@dataclass(frozen=True, slots=True)
class RuleResult:
    characteristic: str
    status: Status
    score: float
    findings: tuple[Finding, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)  # small, JSON-serialisable facts behind the verdict

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} outside [0, 1] for {self.characteristic}")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title_es: str
    evaluate: Callable[[DatasetContext, Any], RuleResult]
    description_es: str = ""  # how it is measured, for docs/reglas.md and the report's methodology
    short_title_es: str = ""  # three letters for narrow table columns ("Acc"); the reports' legend spells it out
    params_model: type[BaseModel] | None = None  # pydantic model of ``rules.<id>`` (defaults = built-in vocabulary)
    #: the rule's reason codes (its module's ``Code`` enum); codes shared by every rule are ``rules._common.SharedCode``
    codes: type[StrEnum] | None = None
    #: the codes that only recommend and never lower the status (their findings are always ``advisory``)
    advisory_codes: frozenset[str] = frozenset()
    #: the codes that decide the verdict by themselves: with one of them, the result's other findings are advice that
    #: cannot lift the status (the report's action list credits the state to them alone); the other codes contribute
    decisive_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name, codes in (("advisory", self.advisory_codes), ("decisive", self.decisive_codes)):
            stray = codes - self.reason_codes()
            if stray:
                raise ValueError(f"{name} codes of {self.id} not in its codes enum: {sorted(stray)}")
        both = self.advisory_codes & self.decisive_codes
        if both:
            raise ValueError(f"codes of {self.id} both advisory and decisive: {sorted(both)}")

    def reason_codes(self) -> frozenset[str]:
        """The rule's own reason codes, as stored (not counting the shared ones)."""
        return frozenset(m.value for m in self.codes) if self.codes is not None else frozenset()

    def default_params(self) -> Any:
        return self.params_model() if self.params_model is not None else None
