"""Probe outcomes and reason codes, and their one Spanish wording.

An outcome says what happened when an anonymous client fetched a resource; a reason code (``http_404``,
``login_page``, ``unsafe_private``) says why. Both are stored as plain strings (the ``probe`` table, scores.csv,
scores.json), so :class:`Outcome` is a ``StrEnum``: a member *is* its stored string.

Readers meet them in places that word them differently on purpose — a column heading of the CLI table, a short
phrase on the dashboard and in alert e-mails, a phrase in the reports' running text and glossary, a label of the
reports' tables — so each outcome has one row with its four forms, and each probe reason one row with its dashboard
and report forms.
The dashboard, the alerts, the reports and the CLI derive their tables from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Outcome(StrEnum):
    """What happened when an anonymous client fetched a resource: one taxonomy for the probe, rules and reports."""

    OK = "ok"
    NOT_FOUND = "not_found"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    DNS_ERROR = "dns_error"
    CONNECTION_ERROR = "connection_error"
    TLS_ERROR = "tls_error"
    AUTH_REQUIRED = "auth_required"
    PAYMENT_REQUIRED = "payment_required"
    LANDING_PAGE = "landing_page"
    EMPTY = "empty"
    BLOCKED_UNSAFE = "blocked_unsafe"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    CLIENT_ERROR = "client_error"  # other 4xx (400, 405, 451 …)


#: outcomes where an anonymous request got a 2xx response with content ("reachable" in the rules' sense)
REACHABLE_OUTCOMES = frozenset({Outcome.OK, Outcome.LANDING_PAGE})


class OutcomeWords(NamedTuple):
    cli_heading: str  # a column heading of the CLI probe summary
    dashboard: str  # after a colon on the dashboard and in alert e-mails: «… : no se pudo conectar»
    report: str  # the reports' running text and glossary
    report_heading: str  # a row or legend label of the reports' outcome tables and charts


OUTCOME_WORDS: dict[Outcome, OutcomeWords] = {
    Outcome.OK: OutcomeWords("Descarga correcta", "descarga correcta", "respondió con datos", "Respondió con datos"),
    Outcome.NOT_FOUND: OutcomeWords("No encontrado (404/410)", "no encontrado", "no encontrado",
                                    "No encontrado (404/410)"),
    Outcome.SERVER_ERROR: OutcomeWords("Error del servidor", "error del servidor", "error del servidor",
                                       "Error del servidor (5xx)"),
    Outcome.TIMEOUT: OutcomeWords("Tiempo agotado", "tiempo de espera agotado", "tiempo de espera agotado",
                                  "Tiempo de espera agotado"),
    Outcome.DNS_ERROR: OutcomeWords("Dominio inexistente", "el dominio no existe", "el dominio no existe",
                                    "El dominio no existe"),
    Outcome.CONNECTION_ERROR: OutcomeWords("Error de conexión", "no se pudo conectar", "conexión rechazada",
                                           "Conexión rechazada"),
    Outcome.TLS_ERROR: OutcomeWords("Certificado TLS inválido", "error de certificado TLS",
                                    "certificado de seguridad (TLS) inválido", "Certificado TLS inválido"),
    Outcome.AUTH_REQUIRED: OutcomeWords("Requiere cuenta", "requiere iniciar sesión", "pide iniciar sesión",
                                        "Pide iniciar sesión"),
    Outcome.PAYMENT_REQUIRED: OutcomeWords("Requiere pago", "requiere pago", "pide un pago", "Pide un pago"),
    Outcome.LANDING_PAGE: OutcomeWords("Página web en vez de datos", "página HTML en lugar del archivo",
                                       "página web en lugar del archivo", "Página HTML (no el archivo)"),
    Outcome.EMPTY: OutcomeWords("Archivo vacío", "respuesta vacía", "respuesta vacía", "Respuesta vacía"),
    Outcome.BLOCKED_UNSAFE: OutcomeWords("Dirección no pública (bloqueada)", "URL bloqueada por seguridad",
                                         "dirección no permitida", "Dirección no permitida"),
    Outcome.UNSUPPORTED_SCHEME: OutcomeWords("URL no descargable", "tipo de URL no admitido",
                                             "protocolo no admitido (no es http ni https)", "Esquema no soportado"),
    Outcome.CLIENT_ERROR: OutcomeWords("Petición rechazada (4xx)", "la petición fue rechazada", "error del cliente",
                                       "Otro error del cliente (4xx)"),
}

#: the CLI table heading of resources without a probe row
UNPROBED_TABLE_ES = "Sin sondear"


def outcome_es(use: str) -> dict[str, str]:
    """outcome value → its wording for one use (a field of :class:`OutcomeWords`), in enum order."""
    return {o.value: getattr(w, use) for o, w in OUTCOME_WORDS.items()}


class ReasonWords(NamedTuple):
    dashboard: str | None  # the dashboard's «motivo» column; None: a generic phrase (see audit.web.labels)
    report: str | None  # the reports' running text and glossary; None: not worded there


#: probe reason codes (the ``reason`` of a probe row). ``http_NNN`` and ``unsafe_*`` have generic forms too.
REASON_WORDS: dict[str, ReasonWords] = {
    "html_instead_of_data": ReasonWords("se recibió una página HTML en lugar de los datos",
                                        "se recibió una página web en lugar del archivo de datos"),
    "login_page": ReasonWords("se recibió una página de inicio de sesión", "muestra un formulario de acceso"),
    "login_form": ReasonWords("se recibió un formulario de inicio de sesión", "muestra un formulario de acceso"),
    "http_403_authenticate": ReasonWords("pide iniciar sesión (HTTP 403)",
                                         "pide iniciar sesión (HTTP 403 con solicitud de autenticación)"),
    "tls_error": ReasonWords("certificado TLS no válido", "certificado de seguridad (TLS) inválido"),
    "login_redirect": ReasonWords("redirige a iniciar sesión", "redirige a una página de inicio de sesión"),
    "payment_page": ReasonWords("se recibió una página de pago", "lleva a una página de pago"),
    "zero_bytes": ReasonWords("el archivo está vacío", "el archivo está vacío"),
    "not_modified": ReasonWords("sin cambios desde la consulta anterior", "sin cambios desde la revisión anterior"),
    "connection_dropped": ReasonWords("la conexión se cortó", "el servidor cortó la conexión"),
    "connection_refused": ReasonWords("el servidor rechazó la conexión", "el servidor rechazó la conexión"),
    "http_client_error": ReasonWords("error en la comunicación", "error del cliente"),
    "invalid_http_response": ReasonWords("respuesta HTTP no válida", "respuesta HTTP inválida"),
    "dns_error": ReasonWords("el dominio no existe", None),  # the report words it as the outcome of the same name
    "invalid_content_encoding": ReasonWords("compresión de la respuesta no válida",
                                            "compresión de la respuesta inválida"),
    "redirect_loop": ReasonWords("redirecciones en bucle", "redirecciones en ciclo"),
    "redirect_without_location": ReasonWords("redirección sin destino", "redirección sin destino"),
    "too_many_redirects": ReasonWords("demasiadas redirecciones", "demasiadas redirecciones"),
    "connect_timeout": ReasonWords("no respondió a tiempo al conectar", "el servidor no respondió a tiempo"),
    "read_timeout": ReasonWords("dejó de enviar datos", "la descarga tardó demasiado"),
    "total_timeout": ReasonWords("la descarga tardó demasiado", "la descarga tardó demasiado"),
    "malformed_redirect": ReasonWords("redirección con una dirección no válida", "redirección mal formada"),
    "malformed_url": ReasonWords("la dirección no es válida", "la URL está mal escrita"),
    "missing_url": ReasonWords("el recurso no tiene dirección", "el recurso no tiene URL"),
    "scheme_ftp": ReasonWords("enlace FTP (no se descarga por web)", "enlace FTP (no se descarga por web)"),
    "internal_error": ReasonWords("error interno del auditor", "error interno del auditor"),
    "tls_certificate": ReasonWords("certificado TLS no válido", "certificado de seguridad (TLS) inválido"),
    # HTTP statuses with a dashboard phrase; the reports word every status from its number (reports.wording)
    "http_401": ReasonWords("el servidor pide credenciales (HTTP 401)", None),
    "http_402": ReasonWords("el servidor pide un pago (HTTP 402)", None),
    "http_403": ReasonWords("acceso prohibido (HTTP 403)", None),
    "http_404": ReasonWords("el archivo no existe (HTTP 404)", None),
    "http_408": ReasonWords("el servidor tardó demasiado (HTTP 408)", None),
    "http_410": ReasonWords("el archivo fue retirado (HTTP 410)", None),
    "http_429": ReasonWords("demasiadas peticiones (HTTP 429)", None),
}


def reason_family_es(code: str) -> str | None:
    """The families of reason codes that carry a variable part: ``unsafe_<why>`` (audit.netguard) and
    ``scheme_<scheme>`` (audit.httppolicy); same wording for the dashboard and the reports."""
    if code.startswith("unsafe_"):
        return "dirección bloqueada por seguridad (red privada o no permitida)"
    if code.startswith("scheme_"):
        scheme = code.removeprefix("scheme_")
        if scheme == "missing":
            return "la dirección no indica el protocolo (http o https)"
        return f"protocolo «{scheme}» no admitido (no es http ni https)"
    return None


def reason_es(use: str) -> dict[str, str]:
    """reason code → its wording for one use (``dashboard`` or ``report``); codes without one are left out."""
    return {code: text for code, w in REASON_WORDS.items() if (text := getattr(w, use)) is not None}
