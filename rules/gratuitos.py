"""gratuitos — the data are obtained without any payment.

Payment signals: a resource answers 402 or leads to a payment page; the metadata declares a non-zero price
(``precio, costo, price, cost, tarifa`` …) or says so in words ("previo pago", "tiene un costo", "pago de derechos").
Datasets *about* costs (fares, fees, budgets) are not flagged: a phrase counts only in a sentence that also talks
about obtaining the data (descarga, acceso, archivo, entrega …); when the title is itself about costs, generic words
such as "información" or "datos" are not enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field

from audit.evidence import DatasetContext
from audit.outcomes import Outcome
from rules._common import (
    RuleParams,
    SharedCode,
    as_text,
    contains_any,
    data_resources,
    find_all_metadata,
    fold,
    fold_key,
    iter_metadata,
    make_result,
    retired_result,
    short,
)
from rules.base import Finding, Rule, RuleResult, Status

ID = "gratuitos"


class Code(StrEnum):
    NADA_DESCARGABLE = "nada_descargable"
    PAGO_EN_METADATOS = "pago_en_metadatos"
    PRECIO_DECLARADO = "precio_declarado"
    PRECIO_POR_REVISAR = "precio_por_revisar"  # advisory
    RECURSO_DE_PAGO = "recurso_de_pago"
    SOLO_PAGINAS_WEB = "solo_paginas_web"


PRICE_KEYS = ["precio", "costo", "price", "cost", "tarifa", "costo_acceso", "precio_acceso", "cuota", "fee",
              "costo_de_acceso", "access_cost"]
PAYMENT_PHRASES = [
    "previo pago", "previo el pago", "mediante pago", "mediante el pago", "requiere pago", "requiere el pago",
    "tiene un costo", "tienen un costo", "pago de derechos", "con costo", "de paga", "costo de recuperacion",
    "se cobra", "tiene costo", "paid access", "requires payment", "for a fee", "fee applies", "pago previo",
]
ACCESS_WORDS = [
    "datos", "informacion", "archivo", "archivos", "conjunto", "base de datos", "descarga", "descargar", "acceso",
    "acceder", "consulta", "consultar", "obtener", "obtenerse", "copia", "copias", "entrega", "entregan", "entregara",
    "solicitar", "solicitud", "recurso", "recursos", "data", "download", "access", "dataset", "disponible",
    "disponibles", "proporciona", "proporcionan", "proporcionara", "adquirir", "adquisicion", "obtencion",
    "reproduccion", "expide", "expedicion",
]
STRICT_ACCESS_WORDS = [
    "descarga", "descargar", "acceso", "acceder", "obtener", "obtenerse", "copia", "copias", "entrega", "entregan",
    "entregara", "solicitar", "solicitud", "archivo", "archivos", "este conjunto", "estos datos", "base de datos",
    "download", "access", "dataset",
]
COST_TOPIC_WORDS = [
    "costo", "costos", "tarifa", "tarifas", "precio", "precios", "derechos", "pago", "pagos", "cuota", "cuotas",
    "ingresos", "recaudacion", "presupuesto", "gasto", "gastos", "cobro", "cobros", "fees", "prices", "costs",
]
FREE_VALUES = ["0", "gratis", "gratuito", "gratuita", "sin costo", "libre", "free", "no", "ninguno", "ninguna",
               "n/a", "no aplica", "sin cargo", "0.00", "$0", "$0.00", "cero"]
YES_VALUES = ["si", "sí", "yes", "con costo", "de paga", "pagado", "paid"]


class Params(RuleParams):
    price_keys: list[str] = Field(default_factory=lambda: list(PRICE_KEYS),
                                  description="Claves de metadatos que declaran un precio o costo.")
    payment_phrases: list[str] = Field(default_factory=lambda: list(PAYMENT_PHRASES),
                                       description="Frases que declaran que obtener los datos tiene un costo.")
    access_words: list[str] = Field(default_factory=lambda: list(ACCESS_WORDS),
                                    description="Palabras sobre obtener los datos que deben acompañar a la frase de pago.")
    strict_access_words: list[str] = Field(
        default_factory=lambda: list(STRICT_ACCESS_WORDS),
        description="Palabras de acceso exigidas cuando el título del conjunto trata sobre costos.",
    )
    cost_topic_words: list[str] = Field(default_factory=lambda: list(COST_TOPIC_WORDS),
                                        description="Palabras del título que indican un conjunto *sobre* costos.")
    free_values: list[str] = Field(default_factory=lambda: list(FREE_VALUES),
                                   description="Valores de precio que significan «gratuito».")


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _amount_signal(value: Any, params: Params) -> bool | None:
    """True = a non-zero price, False = free, None = cannot tell (text without an amount)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    text = fold(as_text(value))
    if not text or text in {fold(v) for v in params.free_values}:
        return False
    if text in {fold(v) for v in YES_VALUES}:
        return True
    numbers = []
    for raw in _NUMBER.findall(text):
        try:
            numbers.append(float(raw.replace(",", "")))
        except ValueError:
            continue
    if numbers:
        return any(n > 0 for n in numbers)
    if contains_any(text, params.payment_phrases):
        return True
    if contains_any(text, ("gratis", "gratuito", "gratuita", "sin costo", "free")):
        return False
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;\n])\s+|\n+", text) if s.strip()]


def _about_costs(ds: Mapping[str, Any], params: Params) -> bool:
    title = as_text(ds.get("title"))
    tags = " ".join(as_text(t.get("name") if isinstance(t, Mapping) else t) for t in ds.get("tags") or [])
    return contains_any(title, params.cost_topic_words) or contains_any(tags, params.cost_topic_words)


def _phrase_signals(ctx: DatasetContext, params: Params) -> list[tuple[str, str]]:
    """(where, sentence) for every sentence declaring that obtaining the data costs money."""
    ds = ctx.dataset
    texts: list[tuple[str, str]] = [("notes", as_text(ds.get("notes")))]
    price_keys = {fold_key(k) for k in params.price_keys}
    skip = {"notes", "title", "name", "id", "url", "license_url", "license_title", "license_id", "tags", "groups",
            "organization", "owner_org", "metadata_created", "metadata_modified", "state", "type", "private"}
    for key, value in _iter_text_metadata(ds):
        if key in skip or fold_key(key) in price_keys:
            continue
        texts.append((key, as_text(value)))
    for ev in ctx.resources:
        texts.append((f"recurso «{ev.label}»", as_text(ev.resource.get("description"))))
    words = params.strict_access_words if _about_costs(ds, params) else params.access_words
    out: list[tuple[str, str]] = []
    for where, text in texts:
        if not text or not contains_any(text, params.payment_phrases):
            continue
        sentences = _sentences(text)
        for i, sentence in enumerate(sentences):
            # the access words may sit in the sentence before ("Se entregan los datos en CSV. Previo pago de …")
            context = " ".join(sentences[max(0, i - 1):i + 1])
            if contains_any(sentence, params.payment_phrases) and contains_any(context, words):
                if all(fold(sentence) != fold(seen) for _, seen in out):  # notes repeated under another key
                    out.append((where, sentence.strip()))
    return out


def _iter_text_metadata(ds: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in iter_metadata(ds):
        if isinstance(value, str) and value.strip():
            yield key, value


def evaluate(ctx: DatasetContext, params: Params) -> RuleResult:
    if ctx.retired:
        return retired_result(ID)
    ds = ctx.dataset
    findings: list[Finding] = []
    # 1. the resources themselves: 402 or a payment page
    for ev in ctx.resources:
        if ev.probe is not None and ev.probe.outcome == Outcome.PAYMENT_REQUIRED:
            findings.append(Finding(
                Code.RECURSO_DE_PAGO, "El recurso exige un pago para descargarlo.",
                "Publique el archivo para descarga libre, sin cobro.", resource=ev.label, resource_id=ev.id,
                observed=ev.probe.reason or (f"HTTP {ev.probe.status_code}" if ev.probe.status_code else "payment")))
    # 2. a declared price, at dataset or resource level
    uncertain: list[tuple[str, Any]] = []
    priced = list(find_all_metadata(ds, params.price_keys))
    for ev in ctx.resources:
        priced += [(f"{k} ({ev.label})", v) for k, v in find_all_metadata(ev.resource, params.price_keys)]
    for key, value in priced:
        signal = _amount_signal(value, params)
        if signal:
            findings.append(Finding(
                Code.PRECIO_DECLARADO, f"Los metadatos declaran un costo ({key} = «{short(value, 60)}»).",
                "Elimine el cobro: los datos abiertos se entregan sin contraprestación alguna.",
                observed=f"{key}={short(value, 60)}"))
        elif signal is None:
            uncertain.append((key, value))
    # 3. explicit phrases in the description or other metadata
    for where, sentence in _phrase_signals(ctx, params):
        findings.append(Finding(
            Code.PAGO_EN_METADATOS, f"La descripción indica que obtener los datos tiene un costo ({where}).",
            "Retire el requisito de pago y publique los datos completos para descarga libre.",
            observed=short(sentence, 160)))
    evidence: dict[str, Any] = {"payment_signals": len(findings)}
    if findings:
        return make_result(ID, Status.FAIL, findings=findings, evidence=evidence)
    review = [Finding(Code.PRECIO_POR_REVISAR, f"Valor de costo no interpretable ({k} = «{short(v, 60)}»).",
                      "Aclare en los metadatos que el acceso a los datos es gratuito.",
                      observed=f"{k}={short(v, 60)}", manual_review=True, advisory=True)  # never decides
              for k, v in uncertain]
    data = data_resources(ctx, params)
    if not ctx.resources:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            SharedCode.SIN_RECURSOS, "No hay recursos que descargar y no hay señales de cobro.",
            "Publique los archivos de datos del conjunto.")] + review, evidence=evidence)
    if all(ev.probe is None for ev in ctx.resources):
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            SharedCode.SIN_EVIDENCIA, "Sin evidencia: no se sondearon los recursos de este conjunto.",
            "Ejecute la etapa de sondeo y vuelva a calificar.")] + review, evidence=evidence)
    # only a downloaded file shows the data are obtained free; a web page where the file should be proves nothing
    obtained = [ev for ev in data if ev.probe is not None and ev.probe.outcome == Outcome.OK]
    pages = [ev for ev in data if ev.probe is not None and ev.probe.outcome == Outcome.LANDING_PAGE]
    evidence["reachable_data_resources"] = len(obtained)
    if obtained:
        return make_result(ID, Status.PASS, findings=review, evidence=evidence)
    if pages:
        return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
            Code.SOLO_PAGINAS_WEB,
            "Los enlaces de datos llevan a páginas web, no a los archivos: no se pudo confirmar que los datos se "
            "obtengan sin pago (no hay señales de cobro).",
            "Enlace los recursos directamente a los archivos de datos (ver «Accesibles»).",
            resource=pages[0].label, resource_id=pages[0].id, observed=f"{len(pages)} página(s) web",
            manual_review=True)] + review,
            evidence=evidence)
    return make_result(ID, Status.NOT_APPLICABLE, findings=[Finding(
        Code.NADA_DESCARGABLE,
        "No se pudo descargar ningún recurso de datos, por lo que no se puede confirmar la gratuidad "
        "(no hay señales de cobro).",
        "Corrija el acceso a los archivos (ver «Accesibles»).",
        observed=", ".join(sorted({str(ev.probe.outcome) for ev in data if ev.probe is not None})) or None)] + review,
        evidence=evidence)


RULE = Rule(
    id=ID,
    title_es="Gratuitos",
    short_title_es="Gra",
    description_es=(
        "No cumple si algún recurso responde 402 o lleva a una página de pago, o si los metadatos declaran un precio "
        "o costo distinto de cero (claves precio, costo, price, cost, tarifa) o frases como «previo pago», «tiene un "
        "costo» o «pago de derechos» referidas a obtener los datos (los conjuntos que tratan sobre costos o tarifas "
        "no se marcan). Cumple si al menos un recurso de datos se descarga de forma anónima y no hay señales de "
        "cobro. No aplica si nada pudo descargarse y no hay señales de cobro, incluido el caso en que los enlaces "
        "de datos solo llevan a páginas web (revisión manual)."
    ),
    evaluate=evaluate,
    params_model=Params,
    codes=Code,
    advisory_codes=frozenset({Code.PRECIO_POR_REVISAR}),
)
