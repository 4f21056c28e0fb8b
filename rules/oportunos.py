"""oportunos — the data are updated periodically, as they are generated.

The declared frequency gives a period P; the last *real* update is the most recent trustworthy date of the data:
per data resource its modification dates (CKAN ``last_modified``, the source's ``modified``/``issued``), the HTTP
``Last-Modified`` header and a content-hash change seen between runs, or its ``created`` date when it has none of
those; across resources and the dataset's own source dates (``dcat_modified``, ``modified``, ``issued`` …) the
newest wins. The dataset's ``metadata_modified`` is used only as a last resort (metadata edits are not data
updates). A *harvested* dataset (ckanext-harvest / ckanext-dcat) carries CKAN timestamps that record when the
harvester ran, so there ``created``, ``metadata_modified`` and ``metadata_created`` are never evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from audit.clock import to_utc
from audit.evidence import DatasetContext, HistoricResource, ResourceEvidence
from rules._common import (
    NO_DATA_RESOURCES,
    NO_RESOURCES,
    NONE_OBTAINED,
    RuleParams,
    data_availability,
    data_resources,
    find_all_metadata,
    find_metadata,
    fold_key,
    is_blank,
    make_result,
    no_data_finding,
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


class Code(StrEnum):
    ARCHIVO_GENERADO_EN_CADA_DESCARGA = "archivo_generado_en_cada_descarga"  # advisory
    DESACTUALIZADO = "desactualizado"  # decisive
    FECHA_SOLO_METADATOS = "fecha_solo_metadatos"  # advisory
    FRECUENCIA_NO_RECONOCIDA = "frecuencia_no_reconocida"
    IRREGULAR_ANTIGUO = "irregular_antiguo"  # decisive
    LAST_MODIFIED_NO_CONFIABLE = "last_modified_no_confiable"  # advisory
    SIN_FECHA_ACTUALIZACION = "sin_fecha_actualizacion"  # decisive
    SIN_FRECUENCIA = "sin_frecuencia"


#: phrases with which a publisher declares that the data are not (or no longer) updated: irregular, like
#: «eventual» or «no planeada» (the vocabulary of rules.frequency already has «no se actualiza» and "never")
NO_UPDATE_WORDS: dict[str, str] = {
    "no se actualiza": IRREGULAR, "no se actualizan": IRREGULAR, "no se actualizara": IRREGULAR,
    "no se actualizaran": IRREGULAR, "sin actualizaciones": IRREGULAR, "descontinuado": IRREGULAR,
    "descontinuada": IRREGULAR, "not updated": IRREGULAR, "no longer updated": IRREGULAR,
    "not being updated": IRREGULAR, "no longer maintained": IRREGULAR, "no further updates": IRREGULAR,
    "no updates": IRREGULAR, "discontinued": IRREGULAR, "as and when": IRREGULAR, "static": IRREGULAR,
}

#: the source's own modification date of the whole dataset: ckanext-dcat's JSON harvester (``dcat_modified``),
#: its RDF profiles and DCAT-AP schemas (``modified``), and the usual Spanish and English custom fields
DATASET_MODIFIED_KEYS = [
    "dcat_modified", "modified", "modified_date", "date_modified", "dateModified", "last_updated",
    "fecha_modificacion", "fecha_de_modificacion", "fecha_ultima_modificacion", "fecha_actualizacion",
    "fecha_de_actualizacion", "fecha_ultima_actualizacion", "fecha_de_ultima_actualizacion", "ultima_actualizacion",
]
#: the source's publication date of the dataset (dct:issued): the data are at least this recent
DATASET_ISSUED_KEYS = [
    "dcat_issued", "issued", "date_issued", "release_date", "fecha_publicacion", "fecha_de_publicacion",
]
#: a resource's modification date: CKAN's ``last_modified`` and the distribution's dct:modified
RESOURCE_MODIFIED_KEYS = [
    "last_modified", "modified", "dcat_modified", "fecha_modificacion", "fecha_actualizacion",
]
#: a resource's publication date (the distribution's dct:issued)
RESOURCE_ISSUED_KEYS = ["issued", "dcat_issued", "fecha_publicacion"]
#: extras that ckanext-harvest and ckanext-dcat add to every dataset they create
HARVEST_KEYS = [
    "harvest_object_id", "harvest_source_id", "harvest_source_title", "harvest_url", "guid", "source_hash",
    "harvest",
]


class Params(RuleParams):
    frequency_keys: list[str] = Field(default_factory=lambda: list(FREQUENCY_KEYS),
                                      description="Claves de metadatos con la frecuencia de actualización.")
    frequency_words: dict[str, str] = Field(
        default_factory=lambda: {**DEFAULT_FREQUENCY_WORDS, **NO_UPDATE_WORDS},
        description="Palabra o frase de frecuencia → duración ISO 8601 (P1M), «irregular» o «continuous». Además "
                    "se entienden un número y una unidad («cada 2 semanas», «30 días», «dos veces al año»).",
    )
    dataset_modified_keys: list[str] = Field(
        default_factory=lambda: list(DATASET_MODIFIED_KEYS),
        description="Claves de metadatos del conjunto con la fecha de modificación de los datos declarada por la "
                    "fuente (dcat_modified, modified …).",
    )
    dataset_issued_keys: list[str] = Field(
        default_factory=lambda: list(DATASET_ISSUED_KEYS),
        description="Claves de metadatos del conjunto con la fecha de publicación declarada por la fuente.",
    )
    resource_modified_keys: list[str] = Field(
        default_factory=lambda: list(RESOURCE_MODIFIED_KEYS),
        description="Campos del recurso con su fecha de modificación (last_modified, modified …).",
    )
    resource_issued_keys: list[str] = Field(
        default_factory=lambda: list(RESOURCE_ISSUED_KEYS),
        description="Campos del recurso con su fecha de publicación (issued …).",
    )
    harvest_keys: list[str] = Field(
        default_factory=lambda: list(HARVEST_KEYS),
        description="Claves de metadatos que identifican un conjunto cosechado de otro catálogo; en él no se usan "
                    "las fechas de CKAN (metadata_modified, metadata_created, created del recurso), que son las de "
                    "la cosecha.",
    )
    future_tolerance_days: float = Field(
        2, ge=0, description="Una fecha posterior a la auditoría en más de estos días no se cree (p. ej. 9999-12-31).",
    )
    pass_factor: float = Field(1.25, gt=0, description="Cumple si la antigüedad ≤ factor × periodo.")
    partial_factor: float = Field(2.0, gt=0, description="Cumple parcialmente si la antigüedad ≤ factor × periodo.")
    irregular_max_age_days: int = Field(
        730, ge=0, description="Frecuencia irregular/eventual: parcial si la última actualización es más antigua."
    )
    no_frequency_max_age_days: int = Field(
        365, ge=0, description="Sin frecuencia declarada: parcial si se actualizó dentro de este plazo, si no, no cumple."
    )
    http_generated_window_days: float = Field(
        1, ge=0,
        description="Un Last-Modified a menos de estos días de la revisión se considera generado por el servidor en "
                    "cada respuesta y no prueba una actualización.",
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


def _hash_history(ev: ResourceEvidence, ctx: DatasetContext) -> list[tuple[datetime, str]]:
    """(run start, content hash) of this resource in the earlier runs and now, oldest first."""
    seen: list[tuple[datetime, str]] = []
    for entry in ctx.history:
        h = _match_history(ev, entry.resources)
        if h is not None and h.sha256:
            seen.append((to_utc(entry.run_started), h.sha256))
    if ev.probe is not None and ev.probe.sha256:
        seen.append((to_utc(ctx.audit_date), ev.probe.sha256))
    seen.sort(key=lambda x: x[0])
    return seen


def regenerated(ev: ResourceEvidence) -> bool:
    """The file is generated on every request (it differed between two downloads minutes apart)."""
    return bool(ev.content is not None and ev.content.regenerated)


def _hash_change(ev: ResourceEvidence, ctx: DatasetContext) -> datetime | None:
    """When a change of content hash was last seen (the run that saw the new hash); never for a file generated on
    every request, whose hash changes without any new data."""
    if regenerated(ev):
        return None
    seen = _hash_history(ev, ctx)
    changed: datetime | None = None
    for (_, before), (when, after) in zip(seen, seen[1:], strict=False):
        if before != after:
            changed = when
    return changed


@dataclass(frozen=True, slots=True)
class DatedEvidence:
    """One date that says when the data last changed, and exactly where it was read."""

    when: datetime
    source: str  # evidence code: the field that gave it (dcat_modified, resource_last_modified, http_last_modified …)
    kind: str  # "modified" | "issued" | "http" | "hash" | "created" | "metadata"
    level: str  # "dataset" | "resource"
    resource: str | None = None


@dataclass(frozen=True, slots=True)
class LastUpdate:
    """The newest trustworthy date (None if there is none) and what the search saw on the way."""

    best: DatedEvidence | None
    harvested: str | None  # the metadata key that marks the dataset as harvested
    ignored_future: tuple[str, ...] = ()  # "source=date" of dates after the audit date (not believed)
    ignored_http: tuple[IgnoredHeader, ...] = ()  # Last-Modified headers that prove nothing
    regenerated: tuple[str, ...] = ()  # resources generated on every request (their hash is not an update)


@dataclass(frozen=True, slots=True)
class IgnoredHeader:
    """An HTTP Last-Modified not taken as an update, and why: ``generated`` (within a day of the revision: the
    server stamps every answer) or ``unchanged`` (the content hash is the one an earlier, older run saw)."""

    resource: str
    when: datetime
    reason: str
    since: datetime | None = None  # the earlier run that saw the same content


def http_last_modified(ev: ResourceEvidence, ctx: DatasetContext, params: Params) -> DatedEvidence | IgnoredHeader | None:
    """The HTTP Last-Modified of a resource as evidence of an update, or why it is not (HDX's lesson: many servers
    stamp the current time on every response)."""
    probe = ev.probe
    if probe is None or probe.last_modified is None:
        return None
    when = to_utc(probe.last_modified)
    if when >= to_utc(ctx.audit_date) - timedelta(days=params.http_generated_window_days):
        return IgnoredHeader(ev.label, when, "generated")
    if probe.sha256 and not regenerated(ev):
        for run_started, sha in _hash_history(ev, ctx):
            if run_started < when and sha == probe.sha256 and run_started < to_utc(ctx.audit_date):
                return IgnoredHeader(ev.label, when, "unchanged", run_started)
    return DatedEvidence(when, "http_last_modified", "http", "resource", ev.label)


def harvest_marker(dataset: dict[str, Any], params: Params) -> str | None:
    """The key that shows the dataset was created by a harvester (ckanext-harvest / ckanext-dcat), or None."""
    hit = find_metadata(dataset, params.harvest_keys)
    return hit[0] if hit else None


def _resource_dates(resource: dict[str, Any], keys: list[str], kind: str, label: str | None) -> list[DatedEvidence]:
    wanted = {fold_key(k) for k in keys}
    out = []
    for key, value in resource.items():
        if fold_key(key) in wanted and isinstance(value, (str, datetime)) and not is_blank(value):
            when = parse_datetime(value)
            if when:
                out.append(DatedEvidence(when, f"resource_{key}", kind, "resource", label))
    return out


def _dataset_dates(dataset: dict[str, Any], keys: list[str], kind: str) -> list[DatedEvidence]:
    out = []
    for key, value in find_all_metadata(dataset, keys):
        when = parse_datetime(value) if isinstance(value, (str, datetime)) else None
        if when:
            out.append(DatedEvidence(when, key, kind, "dataset"))
    return out


def last_update(ctx: DatasetContext, params: Params) -> LastUpdate:
    """The most recent trustworthy date of the data.

    Per data resource: the newest of its modification/publication fields, the HTTP Last-Modified header and a
    content-hash change; its CKAN ``created`` only when it has none of those (registering a link to an old file is
    not an update) and never on a harvested dataset. Across resources and the dataset's own source dates the
    newest wins, so a new upload is not hidden by an old file. ``metadata_modified`` / ``metadata_created`` only
    when nothing else exists, and never on a harvested dataset (they record when the harvester ran).
    """
    harvested = harvest_marker(ctx.dataset, params)
    limit = to_utc(ctx.audit_date) + timedelta(days=params.future_tolerance_days)
    ignored: list[str] = []

    def believable(items: list[DatedEvidence]) -> list[DatedEvidence]:
        kept = []
        for item in items:
            if item.when > limit:
                ignored.append(f"{item.source}={item.when.date().isoformat()}")
            else:
                kept.append(item)
        return kept

    candidates: list[DatedEvidence] = []
    ignored_http: list[IgnoredHeader] = []
    for ev in data_resources(ctx, params) or list(ctx.resources):
        res, label = ev.resource, ev.label
        own = _resource_dates(res, params.resource_modified_keys, "modified", label)
        own += _resource_dates(res, params.resource_issued_keys, "issued", label)
        header = http_last_modified(ev, ctx, params)
        if isinstance(header, IgnoredHeader):
            ignored_http.append(header)
        elif header is not None:
            own.append(header)
        changed = _hash_change(ev, ctx)
        if changed:
            own.append(DatedEvidence(changed, "hash_change", "hash", "resource", label))
        own = believable(own)
        if not own and not harvested:
            created = parse_datetime(res.get("created"))
            if created:
                own = believable([DatedEvidence(created, "resource_created", "created", "resource", label)])
        if own:
            candidates.append(max(own, key=lambda d: d.when))
    candidates += believable(_dataset_dates(ctx.dataset, params.dataset_modified_keys, "modified"))
    candidates += believable(_dataset_dates(ctx.dataset, params.dataset_issued_keys, "issued"))
    if not candidates and not harvested:
        for key in ("metadata_modified", "metadata_created"):
            when = parse_datetime(ctx.dataset.get(key))
            kept = believable([DatedEvidence(when, key, "metadata", "dataset")]) if when else []
            if kept:
                candidates = kept
                break
    best = max(candidates, key=lambda d: d.when) if candidates else None
    volatile = tuple(ev.label for ev in ctx.resources if regenerated(ev))
    return LastUpdate(best, harvested, tuple(ignored), tuple(ignored_http), volatile)


def describe_source(date: DatedEvidence, harvested: bool) -> str:
    """Where the date came from, in Spanish, naming the field: «la fecha de modificación declarada por la fuente
    (dcat_modified)»."""
    field = date.source.removeprefix("resource_") if date.level == "resource" else date.source
    if date.kind == "http":
        return "el encabezado HTTP Last-Modified del servidor del archivo"
    if date.kind == "hash":
        return f"un cambio de contenido del archivo detectado en la revisión del {date.when.date().isoformat()}"
    if date.kind == "created":
        return "la fecha de creación del recurso en el portal (created)"
    if date.kind == "metadata":
        return f"la fecha de los metadatos en el portal ({field}), no de los datos"
    what = "modificación" if date.kind == "modified" else "publicación"
    if date.level == "resource":
        by = " declarada por la fuente" if harvested else ""
        return f"la fecha de {what} del recurso{by} ({field})"
    by = "declarada por la fuente" if harvested else "declarada en los metadatos del conjunto"
    return f"la fecha de {what} {by} ({field})"


def _ignored_evidence_findings(found: LastUpdate, evidence: dict[str, Any]) -> list[Finding]:
    """Advisory findings for the evidence that was seen and not believed (so the agency knows why)."""
    out = []
    for h in found.ignored_http[:5]:
        if h.reason == "generated":
            message = (f"El servidor envía Last-Modified {h.when.date().isoformat()}, el mismo día de la revisión: "
                       "lo genera en cada respuesta y no prueba que los datos se hayan actualizado.")
        else:
            since = h.since.date().isoformat() if h.since else "?"
            message = (f"El servidor envía Last-Modified {h.when.date().isoformat()}, pero el contenido del archivo "
                       f"es el mismo que se descargó en la revisión del {since}: la fecha no es de una actualización.")
        out.append(Finding(
            Code.LAST_MODIFIED_NO_CONFIABLE, message,
            "Configure el servidor para enviar en Last-Modified la fecha real de modificación del archivo, y "
            "registre esa fecha en el recurso (last_modified).", resource=h.resource,
            observed=f"Last-Modified={h.when.isoformat()} ({h.reason})", advisory=True))
    for label in found.regenerated[:5]:
        out.append(Finding(
            Code.ARCHIVO_GENERADO_EN_CADA_DESCARGA,
            "El archivo cambia en cada descarga (dos descargas con minutos de diferencia no coinciden): un cambio de "
            "su contenido entre revisiones no se toma como actualización de los datos.",
            "Publique un archivo estable que cambie solo cuando cambian los datos, con su fecha de modificación.",
            resource=label, observed="contenido distinto entre dos descargas de la misma revisión", advisory=True))
    if found.ignored_http:
        evidence["ignored_http_last_modified"] = [f"{h.resource}: {h.when.isoformat()} ({h.reason})"
                                                  for h in found.ignored_http[:5]]
    if found.regenerated:
        evidence["regenerated"] = list(found.regenerated[:5])
    return out


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    ds = ctx.dataset
    declared = find_metadata(ds, params.frequency_keys)
    freq = parse_frequency(declared[1], params.frequency_words) if declared else Frequency("unknown")
    found = last_update(ctx, params)
    best, harvested = found.best, found.harvested is not None
    when = best.when if best else None
    label = best.resource if best else None
    audit_date = to_utc(ctx.audit_date)
    findings: list[Finding] = []
    evidence: dict[str, Any] = {
        "frequency_key": declared[0] if declared else None,
        "frequency": short(declared[1]) if declared else None,
        "frequency_kind": freq.kind,
        "period_days": round(freq.days, 3) if freq.days else None,
        "last_update": when.isoformat() if when else None,
        "last_update_source": best.source if best else "none",
        "harvested": harvested,
    }
    if found.harvested:
        evidence["harvest_key"] = found.harvested
    if found.ignored_future:
        evidence["ignored_future_dates"] = list(found.ignored_future[:5])
    if best is not None:
        evidence["last_update_evidence"] = describe_source(best, harvested)
    findings.extend(_ignored_evidence_findings(found, evidence))
    available = data_availability(ctx, params)
    evidence["data"] = available
    if available in (NO_RESOURCES, NO_DATA_RESOURCES, NONE_OBTAINED):
        # timeliness is a property of data someone can use: dates in the metadata alone prove nothing
        findings.insert(0, no_data_finding(
            available, "Sin datos que se puedan obtener, ninguna fecha de los metadatos prueba que se actualicen.",
            ctx))
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    if declared and freq.kind == "unknown":
        findings.append(Finding(
            Code.FRECUENCIA_NO_RECONOCIDA, f"La frecuencia declarada «{short(declared[1], 60)}» no se reconoce.",
            "Declare la frecuencia con un término estándar (diaria, semanal, mensual, trimestral, anual, irregular) "
            "o una duración ISO 8601 como R/P1M.", observed=short(declared[1], 60), manual_review=True))
    if best is not None and best.kind == "metadata":
        findings.append(Finding(
            Code.FECHA_SOLO_METADATOS,
            f"Los recursos no informan su fecha de actualización; se usó la fecha de los metadatos del conjunto "
            f"({best.source}), que cambia también al editar la ficha sin tocar los datos.",
            "Registre la fecha de última modificación de cada recurso (last_modified) al actualizar los datos.",
            observed=f"{best.source}={best.when.date().isoformat()}", advisory=True))  # the age decides, not this
    if best is None or when is None:
        if harvested:
            findings.append(Finding(
                Code.SIN_FECHA_ACTUALIZACION,
                f"El conjunto fue cosechado de otro catálogo ({found.harvested}) y la fuente no declara la fecha de "
                "modificación ni de publicación de los datos (dcat_modified, modified, issued), ni el servidor "
                "envía Last-Modified; las fechas de CKAN (metadata_modified, created) son las de la cosecha y no "
                "prueban que los datos se hayan actualizado.",
                "Declare en el catálogo de origen la fecha de modificación del conjunto y de cada distribución "
                "(dct:modified) y verifique que la cosecha la conserve (dcat_modified); mientras tanto, revise la "
                "fecha de los datos en el catálogo de origen.",
                observed=f"{found.harvested}; sin dcat_modified/modified/issued", manual_review=True))
        else:
            findings.append(Finding(Code.SIN_FECHA_ACTUALIZACION, "No hay ninguna fecha de actualización de los datos.",
                                    "Registre la fecha de última modificación de cada recurso."))
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    age = max(0.0, (audit_date - when).total_seconds() / 86400)
    evidence["age_days"] = round(age, 1)
    observed = f"última actualización {when.date().isoformat()} ({age:.0f} días, {best.source})"
    where = describe_source(best, harvested)
    update_where = "en el catálogo de origen y vuelva a cosecharlos" if harvested else ""

    if freq.kind in ("periodic", "continuous"):
        period = freq.days or 1.0
        label_p = describe_days(period)
        if age <= params.pass_factor * period:
            return make_result(ID, Status.PASS, findings=findings, evidence=evidence)
        finding = Finding(
            Code.DESACTUALIZADO,
            f"Frecuencia declarada «{short(declared[1] if declared else '', 40)}» (cada {label_p}), pero la última "
            f"actualización fue el {when.date().isoformat()}, hace {age:.0f} días, según {where}.",
            f"Actualice los datos{' ' + update_where if update_where else ''} (se esperan cada {label_p}) o corrija "
            "la frecuencia declarada.",
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
                Code.IRREGULAR_ANTIGUO,
                f"Frecuencia irregular/eventual y sin actualizar desde el {when.date().isoformat()}, hace {age:.0f} "
                f"días (más de {params.irregular_max_age_days}), según {where}.",
                f"Actualice los datos{' ' + update_where if update_where else ''} o declare una frecuencia y "
                "respétela.", resource=label, observed=observed))
            return make_result(ID, Status.PARTIAL, score=0.5, findings=findings, evidence=evidence)
        return make_result(ID, Status.PASS, findings=findings, evidence=evidence)

    # no (recognised) frequency
    if not declared:
        findings.append(Finding(Code.SIN_FRECUENCIA, "No se declara la frecuencia de actualización.",
                                "Declare la frecuencia de actualización (por ejemplo «mensual» o R/P1M).",
                                observed="(vacío)"))
    if age <= params.no_frequency_max_age_days:
        return make_result(ID, Status.PARTIAL, score=0.5, findings=findings, evidence=evidence)
    findings.append(Finding(
        Code.DESACTUALIZADO, f"Sin frecuencia reconocible y la última actualización fue el {when.date().isoformat()}, "
        f"hace {age:.0f} días, según {where}.",
        f"Actualice los datos{' ' + update_where if update_where else ''} y declare su frecuencia de actualización.",
        resource=label, observed=observed))
    return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="Oportunos",
    short_title_es="Opo",
    description_es=(
        "Se interpreta la frecuencia declarada (palabras en español o inglés, frases como «cada 2 semanas», "
        "duraciones ISO 8601 como R/P1M o R/P0.5M, URI de frecuencias de la UE) como un periodo P. La última "
        "actualización real es la fecha más reciente y confiable de los datos: la fecha de modificación o publicación "
        "de cada recurso, el encabezado HTTP Last-Modified, un cambio de contenido (hash) detectado entre revisiones "
        "y la fecha de modificación declarada por la fuente del conjunto (dcat_modified, modified); la fecha de "
        "creación de un recurso solo si este no tiene otra, y la de los metadatos solo como último recurso. En un "
        "conjunto cosechado de otro catálogo no se usan las fechas de CKAN, que son las de la cosecha. Con antigüedad "
        "A a la fecha de la auditoría: cumple si A ≤ 1.25 P, parcial si A ≤ 2 P, no cumple después. Irregular o "
        "eventual (incluye «no se actualiza»): parcial si tiene más de dos años; si no, cumple. Sin frecuencia "
        "declarada: parcial si se actualizó en el último año; si no, no cumple. Sin ninguna fecha: no cumple. El "
        "encabezado Last-Modified no prueba una actualización si cae a menos de un día de la revisión o si el "
        "contenido es el mismo que vio una revisión anterior más antigua; un archivo que cambia en cada descarga no "
        "cuenta como actualizado. Sin recursos o sin ningún archivo de datos obtenible: no cumple."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
    advisory_codes=frozenset({Code.ARCHIVO_GENERADO_EN_CADA_DESCARGA, Code.FECHA_SOLO_METADATOS,
                              Code.LAST_MODIFIED_NO_CONFIABLE}),
    decisive_codes=frozenset({Code.DESACTUALIZADO, Code.IRREGULAR_ANTIGUO, Code.SIN_FECHA_ACTUALIZACION}),
)
