"""Spanish words for the internal keys the store keeps (run status and kind, stages, run counters, probe reason
codes, admin log actions): the dashboard never shows an English or internal key to a person."""

from __future__ import annotations

from typing import Any

from audit import outcomes
from audit.web.format import OUTCOME_ES

RUN_STATUS = {"running": "en curso", "complete": "completa", "partial": "parcial", "failed": "fallida",
              "interrupted": "interrumpida"}
RUN_KIND = {"manual": "manual", "periodic": "periódica", "annual": "anual", "demo": "demostración",
            "scheduled": "programada"}
STAGE = {"crawl": "rastreo del catálogo", "probe": "consulta de recursos", "content": "revisión de contenido",
         "score": "calificación", "export": "archivos CSV/JSON", "report": "informes", "report_failed": "informes",
         "indicator": "indicador"}
CRAWL_MODE = {"full": "completo", "incremental": "incremental", "resume": "reanudado"}

_COUNTS = {
    "datasets": "Conjuntos rastreados", "resources": "Recursos", "organizations": "Organizaciones",
    "groups": "Grupos", "licenses": "Licencias", "crawl_errors": "Errores de rastreo",
    "added_during_crawl": "Conjuntos agregados durante el rastreo",
    "removed_during_crawl": "Conjuntos retirados durante el rastreo", "crawl_mode": "Tipo de rastreo",
    "scored_datasets": "Conjuntos calificados", "retired_datasets": "Conjuntos retirados",
    "rule_errors": "Errores de reglas", "conformes": "Conjuntos conformes",
    "manual_overrides": "Revisiones manuales aplicadas", "exports": "Archivos CSV/JSON escritos",
    "reports": "Informes generados", "report_errors": "Informes con error",
    "content_candidates": "Recursos candidatos a revisión de contenido", "content_checked": "Contenidos revisados",
    "content_reused": "Contenidos reutilizados de la corrida anterior", "content_parsed_ok": "Contenidos legibles",
    "content_failed": "Contenidos ilegibles", "content_download_failed": "Descargas de contenido fallidas",
    "content_already_done": "Contenidos ya revisados", "content_suite_errors": "Errores en suites de validación",
    "content_reuse_lookup_failed": "Búsquedas de reutilización fallidas",
}


def count_label(key: str) -> str | None:
    """The Spanish label of a run counter (``probe_<outcome>`` included), None for one we cannot name."""
    if key in _COUNTS:
        return _COUNTS[key]
    if key.startswith("probe_") and key[6:] in OUTCOME_ES:
        return "Recursos consultados: " + OUTCOME_ES[key[6:]]
    return None


def run_counts(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The run's counters as (Spanish label, value), in a stable order; internal ones we cannot name are left out."""
    out = []
    for key, value in counts.items():
        label = count_label(key)
        if label is None or isinstance(value, (dict, list)):
            continue
        if key == "crawl_mode":
            value = CRAWL_MODE.get(str(value), str(value))
        out.append((label, value))
    return out


REASON = outcomes.reason_es("dashboard")


def reason_es(code: str | None) -> str:
    """A probe reason code in Spanish («html_instead_of_data» → «se recibió una página HTML…»)."""
    if not code:
        return ""
    if code in REASON:
        return REASON[code]
    if code.startswith("http_") and code[5:].isdigit():
        return f"respuesta HTTP {code[5:]}"
    return outcomes.reason_family_es(code) or "otro motivo"


ADMIN_ACTION = {"login": "inicio de sesión", "logout": "cierre de sesión", "audit": "auditoría",
                "reports": "regenerar informes", "upload_compromisos": "subir compromisos",
                "upload_revisiones": "subir revisiones manuales", "check": "revisar un conjunto"}
ADMIN_OUTCOME = {"ok": "correcto", "rejected": "rechazado", "error": "con error", "started": "iniciado"}
ADMIN_DETAIL = {"file": "archivo", "reason": "motivo", "rows": "filas", "portal": "portal", "message": "mensaje",
                "run": "corrida", "error": "error", "target": "conjunto", "job": "revisión"}


#: CKAN's generic license ids in words (a real license id such as «CC-BY-4.0» is shown as it is)
LICENSE = {"notspecified": "no especificada", "other-closed": "otra, cerrada", "other-nc": "otra, no comercial",
           "other-open": "otra, abierta", "other-at": "otra, con atribución", "other-pd": "otra, dominio público"}


def install_label_filters(env: Any) -> None:
    env.filters.update({
        "run_status_es": lambda v: RUN_STATUS.get(v or "", v or "—"),
        "run_kind_es": lambda v: RUN_KIND.get(v or "", v or "—"),
        "stage_es": lambda v: STAGE.get(v or "", "—" if not v else "otra etapa"),
        "reason_es": reason_es,
        "license_es": lambda v: LICENSE.get(v or "", v or "—"),
        "admin_action_es": lambda v: ADMIN_ACTION.get(v or "", "otra acción"),
        "admin_outcome_es": lambda v: ADMIN_OUTCOME.get(v or "", v or "—"),
        "admin_detail_es": lambda v: ADMIN_DETAIL.get(v or "", "detalle"),
    })
    env.globals["run_counts"] = run_counts
