"""permanentes — the data are kept over time; historic versions stay available.

Compares the dataset with every earlier run inside the look-back window: every resource seen before must still be
listed and reachable. A moved resource (redirect, new URL, renamed, same content under another id) is partial; a
resource that disappeared or now fails is a fail; a retired dataset fails outright.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from audit.clock import to_utc
from audit.evidence import REACHABLE_OUTCOMES, DatasetContext, HistoricResource, ResourceEvidence
from rules._common import RuleParams, SharedCode, make_result
from rules.base import Finding, Rule, RuleResult, Status

ID = "permanentes"


class Code(StrEnum):
    RECURSO_ELIMINADO = "recurso_eliminado"
    RECURSO_MOVIDO = "recurso_movido"
    RECURSO_NUNCA_DISPONIBLE = "recurso_nunca_disponible"
    RECURSO_REDIRIGIDO = "recurso_redirigido"
    RECURSO_REEMPLAZADO = "recurso_reemplazado"
    RECURSO_RENOMBRADO = "recurso_renombrado"
    RECURSO_YA_NO_DISPONIBLE = "recurso_ya_no_disponible"
    SIN_HISTORIAL = "sin_historial"


class Params(RuleParams):
    lookback_days: int = Field(365, ge=1, description="Días hacia atrás en que se comparan las revisiones anteriores.")
    redirect_is_moved: bool = Field(
        True, description="Contar como «movido» (parcial) un recurso que ahora responde con una redirección."
    )


def _key(h: HistoricResource) -> str:
    return h.ckan_id or h.url or h.name or ""


def _was_reachable(outcomes: list[str | None]) -> bool:
    """Reachable at least once before (unknown outcome = assume it was published and working)."""
    return any(o is None or o in {str(x) for x in REACHABLE_OUTCOMES} for o in outcomes)


def _find_direct(h: HistoricResource, current: tuple[ResourceEvidence, ...]) -> tuple[int, str] | None:
    """The same resource by CKAN id, else by URL."""
    if h.ckan_id:
        for i, ev in enumerate(current):
            if ev.resource.get("id") == h.ckan_id:
                return i, "id"
    if h.url:
        for i, ev in enumerate(current):
            if ev.resource.get("url") == h.url:
                return i, "url"
    return None


def _find_successor(h: HistoricResource, current: tuple[ResourceEvidence, ...], claimed: set[int]) -> tuple[int, str] | None:
    """A *new* resource (not the continuation of another) with the same content hash, else the same name."""
    free = [(i, ev) for i, ev in enumerate(current) if i not in claimed]
    if h.sha256:
        for i, ev in free:
            if ev.probe is not None and ev.probe.sha256 == h.sha256:
                return i, "hash"
    if h.name:
        for i, ev in free:
            if str(ev.resource.get("name") or "").strip() == h.name.strip():
                return i, "name"
    return None


def _norm_url(url: str | None) -> str:
    return str(url or "").strip().rstrip("/")


def _redirected(ev: ResourceEvidence, h: HistoricResource) -> bool:
    """The URL now leads somewhere else. When the earlier destination is known, only a *new* destination counts
    (a link that always redirected to the same place has not moved)."""
    probe = ev.probe
    if probe is None:
        return False
    url = _norm_url(ev.resource.get("url"))
    now = _norm_url(probe.final_url) or url
    if h.final_url:
        return bool(now) and now != _norm_url(h.final_url)
    return bool(probe.redirects) or bool(url and now != url)


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return make_result(ID, Status.FAIL, findings=[Finding(
            SharedCode.RETIRADO, "El conjunto de datos estaba publicado en una revisión anterior y ya no aparece en el portal.",
            "Vuelva a publicar el conjunto (las versiones históricas deben seguir disponibles) o documente "
            "públicamente su retiro.", observed=str(ctx.dataset.get("name") or ""))], evidence={"retired": True})
    if not ctx.has_previous_runs:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            Code.SIN_HISTORIAL, "Primera auditoría del portal: no hay revisiones anteriores con qué comparar.",
            "Se evaluará en las siguientes auditorías.")], evidence={"history_runs": 0})
    cutoff = to_utc(ctx.audit_date) - timedelta(days=params.lookback_days)
    history = [h for h in ctx.history if to_utc(h.run_started) >= cutoff and to_utc(h.run_started) <= to_utc(ctx.audit_date)]
    if not history:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            Code.SIN_HISTORIAL, "El conjunto no aparece en revisiones anteriores dentro del periodo de comparación "
            f"({params.lookback_days} días): es nuevo.", "Se evaluará en las siguientes auditorías.")],
            evidence={"history_runs": 0})

    # every resource seen before (latest sighting wins), with all its earlier outcomes
    seen: dict[str, HistoricResource] = {}
    outcomes: dict[str, list[str | None]] = {}
    for entry in sorted(history, key=lambda h: to_utc(h.run_started)):
        for h in entry.resources:
            k = _key(h)
            if not k:
                continue
            seen[k] = h
            outcomes.setdefault(k, []).append(h.outcome)

    ok = moved = failed = never = 0
    findings: list[Finding] = []
    detail: list[dict[str, Any]] = []
    direct = {k: _find_direct(h, ctx.resources) for k, h in seen.items()}
    claimed = {m[0] for m in direct.values() if m is not None}
    for k, h in seen.items():
        label = h.name or h.url or h.ckan_id or k
        match = direct[k] or _find_successor(h, ctx.resources, claimed)
        ev, how = (ctx.resources[match[0]], match[1]) if match else (None, "")
        if ev is None:
            if not _was_reachable(outcomes[k]):
                detail.append({"resource": label, "state": "removed_broken"})
                continue  # a link that never worked was removed: nothing published was lost
            failed += 1
            detail.append({"resource": label, "state": "removed"})
            findings.append(Finding(
                Code.RECURSO_ELIMINADO, "Un recurso publicado en una revisión anterior ya no aparece en el conjunto.",
                "Restituya el recurso (por ejemplo, los periodos anteriores de la serie) y consérvelo con una URL estable.",
                resource=label, resource_id=h.ckan_id or h.url, observed=h.url))
            continue
        probe = ev.probe
        if probe is not None and not probe.reachable and not _was_reachable(outcomes[k]):
            never += 1  # listed in every revision but never downloadable: nothing has been kept available
            detail.append({"resource": label, "state": "never_available", "outcome": probe.outcome})
            findings.append(Finding(
                Code.RECURSO_NUNCA_DISPONIBLE,
                "Un recurso listado en revisiones anteriores nunca se ha podido descargar: no se conserva disponible.",
                "Publique el archivo en una URL pública y estable, y manténgalo disponible en las siguientes revisiones.",
                resource=ev.label, resource_id=ev.id, observed=probe.reason or probe.outcome))
            continue
        if probe is not None and not probe.reachable and _was_reachable(outcomes[k]):
            failed += 1
            detail.append({"resource": label, "state": "now_failing", "outcome": probe.outcome})
            findings.append(Finding(
                Code.RECURSO_YA_NO_DISPONIBLE, "Un recurso que antes se descargaba ahora falla.",
                "Restablezca el archivo en su URL o publique la nueva dirección en el portal.",
                resource=ev.label, resource_id=ev.id, observed=probe.reason or probe.outcome))
            continue
        moved_how: tuple[str, str] | None = None
        if how == "hash":
            moved_how = (Code.RECURSO_RENOMBRADO, "El recurso cambió de nombre, identificador o URL con el mismo contenido.")
        elif how == "name":
            moved_how = (Code.RECURSO_REEMPLAZADO, "El recurso se reemplazó por otro con el mismo nombre y distinta URL.")
        elif h.url and ev.resource.get("url") and ev.resource.get("url") != h.url:
            moved_how = (Code.RECURSO_MOVIDO, "La URL del recurso cambió respecto de la revisión anterior.")
        elif h.name and str(ev.resource.get("name") or "").strip() and str(ev.resource.get("name")).strip() != h.name.strip():
            moved_how = (Code.RECURSO_RENOMBRADO, "El recurso cambió de nombre respecto de la revisión anterior.")
        elif params.redirect_is_moved and probe is not None and probe.reachable and _redirected(ev, h):
            moved_how = (Code.RECURSO_REDIRIGIDO, "La URL del recurso ahora redirige a otra dirección.")
        if moved_how:
            moved += 1
            detail.append({"resource": label, "state": "moved", "how": moved_how[0]})
            if moved_how[0] == Code.RECURSO_REDIRIGIDO and ev.probe is not None:
                observed = f"{ev.resource.get('url')} → {ev.probe.final_url}"
            elif moved_how[0] == Code.RECURSO_MOVIDO:
                observed = f"antes: {h.url} → ahora: {ev.resource.get('url')}"
            else:
                observed = f"antes: {h.name or h.url} → ahora: {ev.label}"
            findings.append(Finding(
                moved_how[0], moved_how[1],
                "Mantenga identificadores y URL estables; si debe moverlo, conserve la dirección anterior.",
                resource=ev.label, resource_id=ev.id, observed=observed))
        else:
            ok += 1
            detail.append({"resource": label, "state": "kept"})
    total = ok + moved + failed + never
    evidence = {"history_runs": len(history), "resources_before": total, "kept": ok, "moved": moved,
                "lost": failed, "never_available": never, "detail": detail}
    if failed or (never and not ok + moved):
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    if moved or never:
        return make_result(ID, Status.PARTIAL, score=(ok + 0.5 * moved) / total, findings=findings, evidence=evidence)
    return make_result(ID, Status.PASS, findings=findings, evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="Permanentes",
    short_title_es="Per",
    description_es=(
        "Requiere revisiones anteriores: en la primera auditoría del portal no aplica («sin historial»). Se compara "
        "con todas las revisiones de los últimos 365 días: cumple si todo recurso visto antes sigue listado y "
        "accesible; parcial si alguno se movió (redirección, nueva URL, o renombrado con el mismo contenido) o si "
        "alguno sigue listado pero nunca se ha podido descargar; no cumple si un recurso publicado antes desapareció "
        "o ahora falla (por ejemplo, se retiraron periodos anteriores de una serie), o si ningún recurso se ha "
        "podido descargar en ninguna revisión. Un conjunto que existía y ya no aparece queda como «retirado»: no cumple esta "
        "característica y las demás no aplican."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
)
