"""libre_uso — citing the source is the only requirement to use the data freely."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from audit.evidence import DatasetContext
from rules import licenses
from rules._common import (
    NO_DATA_RESOURCES,
    NO_RESOURCES,
    NONE_OBTAINED,
    RuleParams,
    data_availability,
    make_result,
    no_data_finding,
    retired_result,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "libre_uso"


class Code(StrEnum):
    LICENCIA_ABIERTA_POR_REVISAR = "licencia_abierta_por_revisar"
    LICENCIA_CERRADA = "licencia_cerrada"
    LICENCIA_COMPARTIR_IGUAL = "licencia_compartir_igual"
    LICENCIA_DESCONOCIDA = "licencia_desconocida"
    LICENCIA_NO_COMERCIAL = "licencia_no_comercial"
    LICENCIA_NO_ESPECIFICADA = "licencia_no_especificada"
    LICENCIA_SIN_DERIVADAS = "licencia_sin_derivadas"


_PASS = {licenses.ATTRIBUTION, licenses.PUBLIC_DOMAIN}
_PARTIAL = {licenses.SHARE_ALIKE, licenses.OTHER_OPEN}

_FINDINGS = {
    licenses.SHARE_ALIKE: (Code.LICENCIA_COMPARTIR_IGUAL,
                           "La licencia exige compartir las obras derivadas con la misma licencia, además de citar la fuente.",
                           "Adopte los Términos de Libre Uso MX o CC BY 4.0 (solo exigen citar la fuente)."),
    licenses.OTHER_OPEN: (Code.LICENCIA_ABIERTA_POR_REVISAR,
                          "La licencia se declara abierta pero no es una licencia estándar: requiere revisión manual.",
                          "Adopte una licencia estándar como los Términos de Libre Uso MX o CC BY 4.0."),
    licenses.NON_COMMERCIAL: (Code.LICENCIA_NO_COMERCIAL, "La licencia prohíbe el uso comercial de los datos.",
                              "Cambie a los Términos de Libre Uso MX o CC BY 4.0: el uso debe ser libre, incluso comercial."),
    licenses.NO_DERIVATIVES: (Code.LICENCIA_SIN_DERIVADAS, "La licencia prohíbe crear obras derivadas de los datos.",
                              "Cambie a los Términos de Libre Uso MX o CC BY 4.0."),
    licenses.CLOSED: (Code.LICENCIA_CERRADA, "La licencia no es abierta.",
                      "Publique los datos bajo los Términos de Libre Uso MX o CC BY 4.0."),
    licenses.NOT_SPECIFIED: (Code.LICENCIA_NO_ESPECIFICADA, "El conjunto no especifica una licencia de uso.",
                             "Declare una licencia: los Términos de Libre Uso MX o CC BY 4.0."),
    licenses.UNKNOWN: (Code.LICENCIA_DESCONOCIDA, "La licencia declarada no se reconoce como abierta.",
                       "Use una licencia estándar (Términos de Libre Uso MX o CC BY 4.0) o agréguela al vocabulario "
                       "tras revisarla."),
}


class Params(RuleParams):
    license_vocabulary: dict[str, str] = Field(
        default_factory=lambda: dict(licenses.DEFAULT_LICENSE_VOCABULARY),
        description="Identificador, título o URL de licencia → categoría (attribution, public_domain, share_alike, "
        "other_open, non_commercial, no_derivatives, closed, not_specified).",
    )

    @field_validator("license_vocabulary")
    @classmethod
    def _known_categories(cls, value: dict[str, str]) -> dict[str, str]:
        for lic, cat in value.items():
            if cat not in licenses.CATEGORIES or cat == licenses.UNKNOWN:
                raise ValueError(f"la licencia «{lic}» tiene categoría «{cat}»; use una de: "
                                 + ", ".join(c for c in licenses.CATEGORIES if c != licenses.UNKNOWN))
        return value


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    category, observed, facts = licenses.resolve(ctx.dataset, ctx.licenses, params.license_vocabulary)
    evidence = {"category": category, **facts}
    if category in _PASS:
        available = data_availability(ctx, params)
        if available in (NO_RESOURCES, NO_DATA_RESOURCES, NONE_OBTAINED):
            # the licence would allow free use, but of nothing anyone can obtain: no verdict on metadata alone
            evidence["data"] = available
            return make_result(ID, Status.NOT_APPLICABLE, findings=[no_data_finding(
                available, f"La licencia declarada ({licenses.CATEGORY_ES[category]}) permitiría el libre uso, pero "
                "no hay datos que usar: se evaluará cuando los datos puedan obtenerse.", ctx)], evidence=evidence)
        return make_result(ID, Status.PASS, evidence=evidence)
    code, message, fix = _FINDINGS[category]
    finding = Finding(code, message + f" ({licenses.CATEGORY_ES[category]})", fix, observed=observed or "(vacío)",
                      manual_review=category in (licenses.OTHER_OPEN, licenses.UNKNOWN))
    if category in _PARTIAL:
        return make_result(ID, Status.PARTIAL, score=0.5, findings=[finding], evidence=evidence)
    return make_result(ID, Status.FAIL, findings=[finding], evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="De libre uso",
    short_title_es="Lib",
    description_es=(
        "La licencia se resuelve por identificador, título o URL (sin distinguir mayúsculas), con la lista de "
        "licencias del portal y un vocabulario propio. Cumple: licencias de solo atribución o dominio público (CC BY "
        "en cualquier versión, CC0, PDDL, ODC-BY, Términos de Libre Uso MX, licencias de gobierno abierto). Parcial: "
        "compartir igual (CC BY-SA, ODbL) u «otra (abierta)», que requiere revisión manual. No cumple: no comercial, "
        "sin derivadas, «otra (cerrada)», no especificada, vacía o desconocida. No aplica si la licencia cumpliría "
        "pero el conjunto no tiene ningún archivo de datos obtenible (no hay datos que usar)."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
