"""accesibles — the dataset is public and active, has resources, and an anonymous request gets each of them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from audit.evidence import DatasetContext, ResourceEvidence
from audit.outcomes import Outcome
from rules._common import RuleParams, SharedCode, fold, graded, make_result, retired_result
from rules.base import Finding, Rule, RuleResult, Status

ID = "accesibles"


class Code(StrEnum):
    ARCHIVO_VACIO = "archivo_vacio"
    CONJUNTO_INACTIVO = "conjunto_inactivo"
    CONJUNTO_PRIVADO = "conjunto_privado"
    DISPONIBILIDAD_INSUFICIENTE = "disponibilidad_insuficiente"
    DOMINIO_INEXISTENTE = "dominio_inexistente"
    ERROR_CERTIFICADO = "error_certificado"
    ERROR_CLIENTE = "error_cliente"
    ERROR_CONEXION = "error_conexion"
    ERROR_SERVIDOR = "error_servidor"
    PAGINA_EN_LUGAR_DE_DATOS = "pagina_en_lugar_de_datos"
    RECURSO_INACCESIBLE = "recurso_inaccesible"
    RECURSO_NO_ENCONTRADO = "recurso_no_encontrado"
    REQUIERE_AUTENTICACION = "requiere_autenticacion"
    REQUIERE_PAGO = "requiere_pago"
    TIEMPO_AGOTADO = "tiempo_agotado"
    URL_INVALIDA = "url_invalida"
    URL_NO_PUBLICA = "url_no_publica"


class Params(RuleParams):
    availability_pass_ratio: float = Field(
        0.9, ge=0, le=1,
        description="Disponibilidad anual mínima (proporción de revisiones en que el recurso respondió) para contarlo como accesible.",
    )
    availability_min_runs: int = Field(
        3, ge=1, description="Revisiones mínimas en el año para usar la disponibilidad en lugar del último sondeo."
    )


#: probe outcome → (reason code, Spanish message, remediation)
_UNREACHABLE: dict[str, tuple[Code, str, str]] = {
    "not_found": (Code.RECURSO_NO_ENCONTRADO, "El recurso no existe en la dirección publicada (HTTP {status}).",
                  "Corrija la URL del recurso o vuelva a cargar el archivo."),
    "server_error": (Code.ERROR_SERVIDOR, "El servidor respondió con un error (HTTP {status}).",
                     "Revise el servidor que aloja el archivo y confirme que responde sin errores."),
    "timeout": (Code.TIEMPO_AGOTADO, "El servidor no respondió en el tiempo máximo de espera.",
                "Verifique la disponibilidad y el rendimiento del servidor que aloja el archivo."),
    "dns_error": (Code.DOMINIO_INEXISTENTE, "El dominio de la URL no existe (error de DNS).",
                  "Corrija la URL del recurso: el dominio no resuelve."),
    "connection_error": (Code.ERROR_CONEXION, "No fue posible conectarse al servidor del recurso.",
                         "Verifique que el servidor esté en línea y acepte conexiones públicas."),
    "tls_error": (Code.ERROR_CERTIFICADO, "El certificado TLS del servidor no es válido.",
                  "Renueve o corrija el certificado HTTPS del servidor."),
    "auth_required": (Code.REQUIERE_AUTENTICACION, "El recurso exige iniciar sesión o credenciales.",
                      "Publique el archivo sin exigir usuario ni contraseña."),
    "payment_required": (Code.REQUIERE_PAGO, "El recurso exige un pago para descargarlo.",
                         "Publique el archivo de forma gratuita."),
    "empty": (Code.ARCHIVO_VACIO, "El recurso responde, pero el archivo está vacío (0 bytes).",
              "Vuelva a cargar el archivo con su contenido."),
    "blocked_unsafe": (Code.URL_NO_PUBLICA, "La URL apunta a una dirección que no es pública (red privada o local).",
                       "Publique el archivo en una dirección accesible desde internet."),
    "unsupported_scheme": (Code.URL_INVALIDA, "La URL está vacía, mal formada o usa un protocolo no web (ftp, file…).",
                           "Publique el recurso con una URL http(s) válida."),
    "client_error": (Code.ERROR_CLIENTE, "El servidor rechazó la petición anónima (HTTP {status}).",
                     "Configure el servidor para entregar el archivo a cualquier visitante."),
}


def _public_problems(ctx: DatasetContext) -> list[Finding]:
    ds = ctx.dataset
    out: list[Finding] = []
    if ds.get("private") is True or fold(ds.get("private")) == "true":
        out.append(Finding(Code.CONJUNTO_PRIVADO, "El conjunto de datos es privado.",
                           "Marque el conjunto como público en el portal.", observed="private=true"))
    state = fold(ds.get("state") or "active")
    if state != "active":
        out.append(Finding(Code.CONJUNTO_INACTIVO, f"El conjunto no está activo (estado «{ds.get('state')}»).",
                           "Active el conjunto de datos en el portal.", observed=str(ds.get("state"))))
    return out


def _judge(ev: ResourceEvidence, params: Params) -> tuple[float | None, Finding | None, dict[str, object]]:
    """(how accessible 0–1, finding, facts); None when there is no evidence for this resource.

    A web page where a data file was declared counts ½: the link works for anyone, but what it gives is a page,
    not the data; whether the page leads to them needs a person to look.
    """
    av = ev.availability
    if av is not None and av.total_runs >= params.availability_min_runs:
        ok = av.ratio >= params.availability_pass_ratio
        facts: dict[str, object] = {"resource": ev.label, "availability": f"{av.reachable_runs}/{av.total_runs}"}
        if ok:
            return 1.0, None, facts
        return 0.0, Finding(
            Code.DISPONIBILIDAD_INSUFICIENTE,
            f"Disponible en {av.reachable_runs} de {av.total_runs} revisiones del año "
            f"({av.ratio:.0%}; se requiere {params.availability_pass_ratio:.0%}).",
            "Asegure que el servidor que aloja el archivo esté disponible de forma continua.",
            resource=ev.label, resource_id=ev.id, observed=f"{av.reachable_runs}/{av.total_runs}",
        ), facts
    probe = ev.probe
    if probe is None:
        return None, None, {"resource": ev.label, "outcome": None}
    facts = {"resource": ev.label, "outcome": str(probe.outcome)}
    if probe.outcome == Outcome.LANDING_PAGE:
        return 0.5, Finding(
            Code.PAGINA_EN_LUGAR_DE_DATOS,
            "El enlace lleva a una página web, no al archivo de datos declarado; no se pudo verificar que la página "
            "entregue los datos.",
            "Enlace el recurso directamente al archivo de datos (CSV, JSON…) en lugar de una página.",
            resource=ev.label, resource_id=ev.id,
            observed=f"{probe.reason or probe.outcome} ({probe.content_type or 'text/html'})",
            manual_review=True), facts
    if probe.reachable:
        return 1.0, None, facts
    code, msg, fix = _UNREACHABLE.get(
        probe.outcome,
        (Code.RECURSO_INACCESIBLE, "El recurso no se pudo descargar de forma anónima.", "Revise la URL del recurso."),
    )
    observed = probe.reason or probe.outcome
    if probe.status_code:
        observed = f"{observed} (HTTP {probe.status_code})" if str(probe.status_code) not in observed else observed
    return 0.0, Finding(code, msg.format(status=probe.status_code or "—"), fix, resource=ev.label, resource_id=ev.id,
                          observed=observed), facts


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    findings = _public_problems(ctx)
    if not ctx.resources:
        findings.append(Finding(SharedCode.SIN_RECURSOS, "El conjunto de datos no tiene recursos.",
                                "Publique al menos un archivo de datos en el conjunto.", observed="0 recursos"))
        return make_result(ID, Status.FAIL, findings=findings, evidence={"resources": 0})
    judged = [_judge(ev, params) for ev in ctx.resources]
    known = [j for j in judged if j[0] is not None]
    evidence = {"resources": len(ctx.resources), "checked": len(known), "detail": [j[2] for j in judged]}
    if findings:  # private or inactive: not accessible whatever the files do
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    if not known:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            SharedCode.SIN_EVIDENCIA, "Sin evidencia: no se sondearon los recursos de este conjunto.",
            "Ejecute la etapa de sondeo y vuelva a calificar.")], evidence=evidence)
    credit = sum(j[0] or 0.0 for j in known)  # a landing page counts half
    findings.extend(j[1] for j in known if j[1] is not None)
    status, score = graded(credit, len(known))
    # counts of files, never the weighted credit: «0.5 archivos descargados» would read as an error
    evidence["reachable"] = sum(1 for j in known if j[0] == 1.0)
    landing = sum(1 for j in known if j[0] == 0.5)
    if landing:
        evidence["landing_pages"] = landing
    return make_result(ID, status, score=score, findings=findings, evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="Accesibles",
    short_title_es="Acc",
    description_es=(
        "El conjunto es público y activo y tiene recursos. Cada recurso se solicita de forma anónima: es accesible "
        "si responde 2xx con contenido; una página web donde se declaró un archivo de datos cuenta la mitad y pide "
        "revisión manual (el enlace funciona, pero entrega una página y no los datos). Cumple si todos lo son, "
        "cumple parcialmente si algunos, no cumple si ninguno o si no hay recursos. En la evaluación anual, con al menos 3 revisiones en el "
        "año, un recurso es accesible si estuvo disponible en al menos el 90 % de ellas."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
