"""oportunos — the data are updated periodically, as they are generated.

The declared frequency gives a period P; the last *real* update is the newest of the resources' ``last_modified``,
the HTTP ``Last-Modified`` header and a content-hash change seen between runs (resource ``created`` when none of
those exists, the dataset's ``metadata_modified`` only as a last resort: metadata edits are not data updates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from audit.evidence import DatasetContext, HistoricResource, ResourceEvidence
from rules._common import (
    RuleParams,
    aware,
    data_resources,
    find_metadata,
    make_result,
    parse_datetime,
    retired_result,
    short,
)
from rules.base import Finding, Rule, RuleResult, Status
from rules.frequency import (
    CONTINUOUS,
    DEFAULT_FREQUENCY_WORDS,
    IRREGULAR,
    Frequency,
    describe_days,
    iso_duration_days,
    parse_frequency,
)
from rules.integrales import FREQUENCY_KEYS

ID = "oportunos"


class Params(RuleParams):
    frequency_keys: list[str] = Field(default_factory=lambda: list(FREQUENCY_KEYS),
                                      description="Claves de metadatos con la frecuencia de actualización.")
    frequency_words: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_FREQUENCY_WORDS),
        description="Palabra o frase de frecuencia → duración ISO 8601 (P1M), «irregular» o «continuous».",
    )
    pass_factor: float = Field(1.25, gt=0, description="Cumple si la antigüedad ≤ factor × periodo.")
    partial_factor: float = Field(2.0, gt=0, description="Cumple parcialmente si la antigüedad ≤ factor × periodo.")
    irregular_max_age_days: int = Field(
        730, ge=0, description="Frecuencia irregular/eventual: parcial si la última actualización es más antigua."
    )
    no_frequency_max_age_days: int = Field(
        365, ge=0, description="Sin frecuencia declarada: parcial si se actualizó dentro de este plazo, si no, no cumple."
    )

    @field_validator("frequency_words")
    @classmethod
    def _known_codes(cls, value: dict[str, str]) -> dict[str, str]:
        for word, code in value.items():
            if code not in (IRREGULAR, CONTINUOUS) and not iso_duration_days(code):
                raise ValueError(
                    f"la frecuencia «{word}» debe ser una duración ISO 8601 (p. ej. P1M), «irregular» o «continuous»; "
                    f"se recibió «{code}»"
                )
        return value

    @model_validator(mode="after")
    def _factors_ordered(self) -> Params:
        if self.partial_factor < self.pass_factor:
            raise ValueError("partial_factor debe ser mayor o igual que pass_factor")
        return self


def _match_history(ev: ResourceEvidence, historic: tuple[HistoricResource, ...]) -> HistoricResource | None:
    rid = ev.resource.get("id")
    for h in historic:
        if rid and h.ckan_id == rid:
            return h
    url = ev.resource.get("url")
    for h in historic:
        if url and h.url == url:
            return h
    return None


def _hash_change(ev: ResourceEvidence, ctx: DatasetContext) -> datetime | None:
    """When a change of content hash was first seen (the run that saw the new hash)."""
    seen: list[tuple[datetime, str]] = []
    for entry in ctx.history:
        h = _match_history(ev, entry.resources)
        if h is not None and h.sha256:
            seen.append((aware(entry.run_started), h.sha256))
    if ev.probe is not None and ev.probe.sha256:
        seen.append((aware(ctx.audit_date), ev.probe.sha256))
    seen.sort(key=lambda x: x[0])
    changed: datetime | None = None
    for (_, before), (when, after) in zip(seen, seen[1:], strict=False):
        if before != after:
            changed = when
    return changed


def last_update(ctx: DatasetContext, params: RuleParams) -> tuple[datetime | None, str, str | None]:
    """(date, source, resource label) of the newest real data update; source explains which tier decided."""
    resources = data_resources(ctx, params) or list(ctx.resources)
    primary: list[tuple[datetime, str, str | None]] = []
    created: list[tuple[datetime, str, str | None]] = []
    for ev in resources:
        lm = parse_datetime(ev.resource.get("last_modified"))
        if lm:
            primary.append((lm, "last_modified", ev.label))
        if ev.probe is not None and ev.probe.last_modified is not None:
            primary.append((aware(ev.probe.last_modified), "http_last_modified", ev.label))
        changed = _hash_change(ev, ctx)
        if changed:
            primary.append((changed, "hash_change", ev.label))
        cr = parse_datetime(ev.resource.get("created"))
        if cr:
            created.append((cr, "resource_created", ev.label))
    for tier in (primary, created):
        if tier:
            return max(tier, key=lambda x: x[0])
    mm = parse_datetime(ctx.dataset.get("metadata_modified")) or parse_datetime(ctx.dataset.get("metadata_created"))
    if mm:
        return mm, "metadata_modified", None
    return None, "none", None


_SOURCE_ES = {
    "last_modified": "fecha de modificación del recurso",
    "http_last_modified": "encabezado HTTP Last-Modified",
    "hash_change": "cambio de contenido detectado entre revisiones",
    "resource_created": "fecha de creación del recurso",
    "metadata_modified": "fecha de modificación de los metadatos",
}


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    ds = ctx.dataset
    declared = find_metadata(ds, params.frequency_keys)
    freq = parse_frequency(declared[1], params.frequency_words) if declared else Frequency("unknown")
    when, source, label = last_update(ctx, params)
    audit_date = aware(ctx.audit_date)
    findings: list[Finding] = []
    evidence: dict[str, Any] = {
        "frequency_key": declared[0] if declared else None,
        "frequency": short(declared[1]) if declared else None,
        "frequency_kind": freq.kind,
        "period_days": round(freq.days, 3) if freq.days else None,
        "last_update": when.isoformat() if when else None,
        "last_update_source": source,
    }
    if declared and freq.kind == "unknown":
        findings.append(Finding(
            "frecuencia_no_reconocida", f"La frecuencia declarada «{short(declared[1], 60)}» no se reconoce.",
            "Declare la frecuencia con un término estándar (diaria, semanal, mensual, trimestral, anual, irregular) "
            "o una duración ISO 8601 como R/P1M.", observed=short(declared[1], 60), manual_review=True))
    if source == "metadata_modified":
        findings.append(Finding(
            "fecha_solo_metadatos",
            "Los recursos no informan su fecha de actualización; se usó la fecha de modificación de los metadatos.",
            "Registre la fecha de última modificación de cada recurso (last_modified) al actualizar los datos.",
            observed=f"metadata_modified={when.date().isoformat()}" if when else None))
    if when is None:
        findings.append(Finding("sin_fecha_actualizacion", "No hay ninguna fecha de actualización de los datos.",
                                "Registre la fecha de última modificación de cada recurso."))
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    age = max(0.0, (audit_date - when).total_seconds() / 86400)
    evidence["age_days"] = round(age, 1)
    observed = f"última actualización {when.date().isoformat()} ({age:.0f} días)"
    where = _SOURCE_ES.get(source, source)

    if freq.kind in ("periodic", "continuous"):
        period = freq.days or 1.0
        label_p = describe_days(period)
        if age <= params.pass_factor * period:
            return make_result(ID, Status.PASS, findings=findings, evidence=evidence)
        finding = Finding(
            "desactualizado",
            f"Frecuencia declarada «{short(declared[1] if declared else '', 40)}» (cada {label_p}), pero la última "
            f"actualización fue hace {age:.0f} días (según {where}).",
            f"Actualice los datos (se esperan cada {label_p}) o corrija la frecuencia declarada.",
            resource=label, observed=observed)
        findings.append(finding)
        if age <= params.partial_factor * period:
            span = (params.partial_factor - params.pass_factor) * period
            score = 1 - (age - params.pass_factor * period) / span if span else 0.5
            return make_result(ID, Status.PARTIAL, score=score, findings=findings, evidence=evidence)
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)

    if freq.kind == IRREGULAR:
        if age > params.irregular_max_age_days:
            findings.append(Finding(
                "irregular_antiguo",
                f"Frecuencia irregular/eventual y sin actualizar hace {age:.0f} días "
                f"(más de {params.irregular_max_age_days}).",
                "Actualice los datos o declare una frecuencia y respétela.", resource=label, observed=observed))
            return make_result(ID, Status.PARTIAL, score=0.5, findings=findings, evidence=evidence)
        return make_result(ID, Status.PASS, findings=findings, evidence=evidence)

    # no (recognised) frequency
    if not declared:
        findings.append(Finding("sin_frecuencia", "No se declara la frecuencia de actualización.",
                                "Declare la frecuencia de actualización (por ejemplo «mensual» o R/P1M).",
                                observed="(vacío)"))
    if age <= params.no_frequency_max_age_days:
        return make_result(ID, Status.PARTIAL, score=0.5, findings=findings, evidence=evidence)
    findings.append(Finding(
        "desactualizado", f"Sin frecuencia reconocible y la última actualización fue hace {age:.0f} días "
        f"(según {where}).", "Actualice los datos y declare su frecuencia de actualización.",
        resource=label, observed=observed))
    return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="Oportunos",
    legal_text_es=(
        "LGTAIP, art. 3, fr. VI, inciso e): «Oportunos: Son actualizados, periódicamente, conforme se generen»."
    ),
    description_es=(
        "Se interpreta la frecuencia declarada (palabras en español o inglés, duraciones ISO 8601 como R/P1M o "
        "R/P0.5M, URI de frecuencias de la UE) como un periodo P. La última actualización real es la más reciente "
        "entre la fecha de modificación de los recursos, el encabezado HTTP Last-Modified y un cambio de contenido "
        "(hash) detectado entre revisiones; la fecha de los metadatos solo como último recurso. Con antigüedad A a la "
        "fecha de la auditoría: cumple si A ≤ 1.25 P, parcial si A ≤ 2 P, no cumple después. Irregular o eventual: "
        "parcial si tiene más de dos años, si no cumple. Sin frecuencia declarada: parcial si se actualizó en el "
        "último año, si no, no cumple."
    ),
    evaluate=evaluate,
    params_model=Params,
)
