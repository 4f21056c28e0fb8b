"""no_discriminatorios — the data are available to anyone, without registration or login."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from audit.evidence import DatasetContext
from audit.outcomes import REACHABLE_OUTCOMES, Outcome
from rules._common import RuleParams, SharedCode, data_resources, make_result, retired_result
from rules.base import Finding, Rule, RuleResult, Status

ID = "no_discriminatorios"


class Code(StrEnum):
    NADA_DESCARGABLE = "nada_descargable"
    REQUIERE_REGISTRO = "requiere_registro"
    SOLO_PAGINAS_WEB = "solo_paginas_web"


_REASON_ES = {
    "http_401": "responde 401 (requiere credenciales)",
    "http_403_authenticate": "responde 403 y pide credenciales (WWW-Authenticate)",
    "login_form": "muestra un formulario de inicio de sesión",
    "login_url": "redirige a una página de inicio de sesión o registro",
    "password_form": "muestra un formulario con contraseña",
}


class Params(RuleParams):
    count_payment_as_answered: bool = Field(
        True, description="Contar los recursos con muro de pago como «respondieron» (sin requerir registro)."
    )


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    data = data_resources(ctx, params)
    if not data:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            SharedCode.SIN_RECURSOS_DE_DATOS, "El conjunto no tiene recursos de datos que revisar.",
            "Publique los archivos de datos del conjunto.")], evidence={"data_resources": 0})
    probed = [ev for ev in data if ev.probe is not None]
    if not probed:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            SharedCode.SIN_EVIDENCIA, "Sin evidencia: no se sondearon los recursos de este conjunto.",
            "Ejecute la etapa de sondeo y vuelva a calificar.")], evidence={"data_resources": len(data)})
    # a bare 403 (no login form, no WWW-Authenticate, no sign-up redirect) is an unreachable file, not a
    # registration wall; older runs stored it as auth_required with reason http_403
    auth = [ev for ev in probed if ev.probe is not None and ev.probe.outcome == Outcome.AUTH_REQUIRED
            and ev.probe.reason != "http_403"]
    answered_outcomes = set(REACHABLE_OUTCOMES) | (
        {Outcome.PAYMENT_REQUIRED} if params.count_payment_as_answered else set()
    )
    answered = [ev for ev in probed if ev.probe is not None and ev.probe.outcome in answered_outcomes] + auth
    reachable = [ev for ev in probed if ev.probe is not None and ev.probe.outcome == Outcome.OK]  # a data file obtained
    findings = []
    for ev in auth:
        assert ev.probe is not None
        how = _REASON_ES.get(ev.probe.reason, "exige autenticación")
        findings.append(Finding(
            Code.REQUIERE_REGISTRO, f"El recurso {how}: solo lo obtiene quien tiene una cuenta.",
            "Publique el archivo para descarga anónima, sin registro ni inicio de sesión.",
            resource=ev.label, resource_id=ev.id,
            observed=ev.probe.reason or (f"HTTP {ev.probe.status_code}" if ev.probe.status_code else "auth_required")))
    evidence = {"data_resources": len(data), "answered": len(answered), "auth_required": len(auth),
                "reachable": len(reachable)}
    if not answered:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            Code.NADA_DESCARGABLE,
            "Ningún recurso de datos respondió, por lo que no se puede saber si exige registro.",
            "Corrija el acceso a los archivos (ver «Accesibles»).",
            observed=", ".join(sorted({str(ev.probe.outcome) for ev in probed if ev.probe is not None})))],
            evidence=evidence)
    if len(auth) == len(answered):
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    if auth:
        return make_result(ID, Status.PARTIAL, score=1 - len(auth) / len(answered), findings=findings,
                           evidence=evidence)
    pages = [ev for ev in probed if ev.probe is not None and ev.probe.outcome == Outcome.LANDING_PAGE]
    if not reachable and pages:  # a page answered, but whether the data behind it need an account is unknown
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            Code.SOLO_PAGINAS_WEB,
            "Los enlaces de datos llevan a páginas web, no a los archivos: no se pudo verificar que los datos se "
            "obtengan sin registro.",
            "Enlace los recursos directamente a los archivos de datos (ver «Accesibles»).",
            resource=pages[0].label, resource_id=pages[0].id, observed=f"{len(pages)} página(s) web",
            manual_review=True)], evidence=evidence)
    if not reachable:  # only payment walls answered: nothing tells us about registration
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            Code.NADA_DESCARGABLE, "Ningún recurso de datos se pudo descargar; no se puede saber si exige registro.",
            "Corrija el acceso a los archivos (ver «Accesibles» y «Gratuitos»).")], evidence=evidence)
    return make_result(ID, Status.PASS, evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="No discriminatorios",
    short_title_es="NoD",
    description_es=(
        "Entre los recursos de datos que respondieron (descarga exitosa o muro de acceso), se cuentan los que exigen "
        "autenticación: 401, 403 con señal de registro (encabezado WWW-Authenticate, formulario de inicio de sesión "
        "o redirección a una página de inicio de sesión o registro), o una página con formulario de contraseña. Un "
        "403 sin ninguna de esas señales es un archivo inaccesible (cuenta en «Accesibles»), no un registro. No cumple si todos la exigen; cumple parcialmente si algunos; cumple si ninguno "
        "y al menos un archivo de datos se descargó. No aplica si ningún recurso respondió, o si solo respondieron "
        "páginas web en lugar de los archivos (revisión manual)."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
