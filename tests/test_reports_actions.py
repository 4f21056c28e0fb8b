"""Organization and portal reports on a small real store: which action gets credit for which state, the counts
and their Spanish plurals, «Base de la evaluación» from the rules' evidence, and the partial shares.

The findings and evidence are those the rules write (codes, Spanish texts, evidence keys of oportunos, integrales
and libre_uso); organization aggregates are written by the scoring stage's own ``aggregate_organizations``.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from audit.config import AuditConfig
from audit.exports import write_exports
from audit.scoring import aggregate_organizations
from audit.store import models as m
from audit.store.db import open_store
from reports.model import build_organization_report, build_portal_report, state_causes
from reports.render import render_reports
from reports.wording import plain_es
from rules import CHARACTERISTICS

sys.path.insert(0, str(Path(__file__).parent))
from test_reports import check_html, needs_poppler  # noqa: E402

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
ORG = "secretaria-de-movilidad"

DECLARE = "Declare la frecuencia de actualización (por ejemplo «mensual» o R/P1M)."
UPDATE_AND_DECLARE = "Actualice los datos y declare su frecuencia de actualización."
UPDATE_MONTHLY = "Actualice los datos (se esperan cada 1 mes) o corrija la frecuencia declarada."
REGISTER_DATE = "Registre la fecha de última modificación de cada recurso (last_modified) al actualizar los datos."
TEMPORAL = "Indique el periodo que cubren los datos, por ejemplo «2019-01/2024-12»."
SPATIAL = "Indique el territorio que cubren los datos, por ejemplo «estatal, por municipio»."
SHARE_ALIKE = "Use una licencia que solo pida citar la fuente (CC BY 4.0 o Términos de Libre Uso MX)."


def finding(code: str, message: str, remediation: str, observed: str | None = None, resource: str | None = None,
            manual_review: bool = False) -> dict:
    return {"code": code, "message_es": message, "remediation_es": remediation, "resource": resource,
            "observed": observed, "manual_review": manual_review}


SIN_FRECUENCIA = finding("sin_frecuencia", "No se declara la frecuencia de actualización.", DECLARE, "(vacío)")


def oportunos_evidence(last_update: datetime, source: str, frequency: str | None, kind: str, period: float | None) -> dict:
    return {"frequency_key": "frequency" if frequency else None, "frequency": frequency, "frequency_kind": kind,
            "period_days": period, "last_update": last_update.isoformat(), "last_update_source": source,
            "age_days": round((NOW - last_update).total_seconds() / 86400, 1)}


def integrales(missing: list[str]) -> tuple[str, float, list[dict], dict]:
    items = {k: 1.0 for k in ("titulo", "descripcion", "etiquetas", "grupo", "licencia", "contacto", "frecuencia",
                              "cobertura_temporal", "cobertura_espacial", "recursos_descritos", "diccionario")}
    fs = []
    for item in missing:
        items[item] = 0.0
        fs.append({
            "frecuencia": SIN_FRECUENCIA,
            "cobertura_temporal": finding("sin_cobertura_temporal", "No se declara la cobertura temporal.", TEMPORAL),
            "cobertura_espacial": finding("sin_cobertura_espacial", "No se declara la cobertura espacial.", SPATIAL),
        }[item])
    completeness = round(sum(items.values()) / len(items), 4)
    status = "pass" if completeness >= 0.8 else "partial" if completeness >= 0.5 else "fail"
    return status, completeness, fs, {"completeness": completeness, "items": items, "frequency_key": None,
                                      "temporal_key": None, "spatial_key": None}


def build(path: Path, orgs: dict[str, str], *, retired: bool = True, datasets=None):  # type: ignore[no-untyped-def]
    """One complete 2026 run. The first organization has the interesting datasets (see ``DATASETS``); any other
    organization has one conforming dataset. Returns (store, run_id)."""
    store = open_store(f"sqlite:///{path}")
    pid = store.get_or_create_portal("http://127.0.0.1:5998", "Portal de Datos Abiertos de Prueba", "2.10")
    per_dataset: dict[int, dict[str, tuple[str, float]]] = {}
    with store.session() as s:
        run = m.AuditRun(portal_id=pid, started_at=NOW, finished_at=NOW + timedelta(minutes=5), status="complete",
                         year=2026, kind="annual", stages_done=["crawl", "probe", "score"], counts={})
        s.add(run)
        s.flush()
        for name, title in orgs.items():
            s.add(m.OrganizationSnapshot(run_id=run.id, name=name, title=title, package_count=3, raw={}))
        s.add(m.GroupSnapshot(run_id=run.id, name="movilidad", title="Movilidad", package_count=3, raw={}))
        first = next(iter(orgs))
        datasets = (DATASETS if datasets is None else datasets) if orgs else {}
        rows: list[tuple[str, str, str, dict[str, tuple[str, float, list[dict], dict]]]] = [
            (first, name, presence, results) for name, (presence, results) in datasets.items()
            if retired or presence == "listed"]
        for other in list(orgs)[1:]:
            rows.append((other, f"{other}-conjunto", "listed", {}))
        for org, name, presence, results in rows:
            ds = m.DatasetSnapshot(run_id=run.id, ckan_id=name, name=name, title=name.replace("-", " ").capitalize(),
                                   organization_name=org, private=False, state="active", presence=presence,
                                   license_id="cc-by", num_resources=1, raw={"notes": "Registro administrativo."})
            s.add(ds)
            s.flush()
            if presence == "listed":
                s.add(m.ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, ckan_id=f"{name}-r", position=0,
                                         name="Datos (CSV)", url=f"http://127.0.0.1:5998/files/{name}.csv",
                                         format="CSV", raw={}))
            cells: dict[str, tuple[str, float]] = {}
            for cid in CHARACTERISTICS:
                if presence != "listed":
                    status, score, fs, ev = ("fail", 0.0, [finding(
                        "retirado", "El conjunto de datos estaba publicado en una revisión anterior y ya no aparece "
                        "en el portal.", "Vuelva a publicar el conjunto o documente públicamente su retiro.")],
                        {"retired": True}) if cid == "permanentes" else ("not_applicable", 0.0, [], {"retired": True})
                elif cid == "permanentes":
                    status, score, fs, ev = "not_applicable", 0.0, [], {"history_runs": 0}
                else:
                    status, score, fs, ev = results.get(cid, ("pass", 1.0, [], {}))
                s.add(m.RuleResultRecord(run_id=run.id, dataset_snapshot_id=ds.id, characteristic=cid, status=status,
                                         score=score, findings=fs, evidence=ev))
                cells[cid] = (status, score)
            per_dataset[ds.id] = cells
        run_id = run.id
    aggregate_organizations(store, run_id, AuditConfig(), per_dataset, {}, None)
    return store, run_id


_STALE = NOW - timedelta(days=3000)
_RECENT = NOW - timedelta(days=100)
DATASETS: dict[str, tuple[str, dict[str, tuple[str, float, list[dict], dict]]]] = {
    # data 8 years old and no frequency: only updating the data (and declaring the frequency) lifts oportunos
    "padron-vehicular": ("listed", {
        "oportunos": ("fail", 0.0, [SIN_FRECUENCIA, finding(
            "desactualizado", "Sin frecuencia reconocible y la última actualización fue hace 3000 días (según "
            "encabezado HTTP Last-Modified).", UPDATE_AND_DECLARE, "última actualización 2018-09-09 (3000 días)",
            "Datos (CSV)")], oportunos_evidence(_STALE, "http_last_modified", None, "unknown", None)),
        "integrales": integrales(["frecuencia", "cobertura_temporal", "cobertura_espacial"])[:4],
        "libre_uso": ("partial", 0.5, [finding("licencia_compartir_igual", "La licencia pide compartir igual "
                                               "(compartir igual)", SHARE_ALIKE, "odc-odbl")],
                      {"category": "share_alike", "license_id": "odc-odbl", "matched_by": "license_id",
                       "matched_value": "odc-odbl"}),
    }),
    # updated 100 days ago, no frequency: declaring it is what lifts oportunos
    "licencias-de-conducir": ("listed", {
        "oportunos": ("partial", 0.5, [SIN_FRECUENCIA],
                      oportunos_evidence(_RECENT, "last_modified", None, "unknown", None)),
        "integrales": integrales(["frecuencia"])[:4],
        "libre_uso": ("partial", 0.5, [finding("licencia_compartir_igual", "La licencia pide compartir igual "
                                               "(compartir igual)", SHARE_ALIKE, "odc-odbl")],
                      {"category": "share_alike", "license_id": "odc-odbl"}),
    }),
    # monthly data 8 years old, dated only by the metadata: registering last_modified alone lifts nothing
    "infracciones-de-transito": ("listed", {
        "oportunos": ("fail", 0.0, [finding(
            "fecha_solo_metadatos", "Los recursos no informan su fecha de actualización; se usó la fecha de "
            "modificación de los metadatos.", REGISTER_DATE, "metadata_modified=2018-09-09"), finding(
            "desactualizado", "Frecuencia declarada «mensual» (cada 1 mes), pero la última actualización fue hace "
            "3000 días (según fecha de modificación de los metadatos).", UPDATE_MONTHLY,
            "última actualización 2018-09-09 (3000 días)", "Datos (CSV)")],
            oportunos_evidence(_STALE, "metadata_modified", "mensual", "periodic", 30.438)),
        "libre_uso": ("partial", 0.5, [finding("licencia_compartir_igual", "La licencia pide compartir igual "
                                               "(compartir igual)", SHARE_ALIKE, "odc-odbl")],
                      {"category": "share_alike", "license_id": "odc-odbl"}),
    }),
    # a retired dataset: evaluated (permanentes fails) and counted with the others everywhere
    "aforos-historicos": ("retired", {}),
}

#: states below "pass" in DATASETS: 3 oportunos + 1 integrales (10 of 11 items is a pass) + 3 libre_uso
#: + 1 permanentes (the retired dataset)
STATES_BELOW_PASS = 8


@pytest.fixture(scope="module")
def one_org(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("actions")
    store, run_id = build(tmp / "a.db", {ORG: "Secretaría de Movilidad"})
    out = render_reports(store, run_id, tmp / "reports", cfg=AuditConfig(), workers=1)
    assert out.errors == {}
    return store, run_id, tmp / "reports", out


def pdfplain(path: Path) -> str:
    """The PDF's text in reading order (no -layout: side-by-side boxes are not interleaved), on one line."""
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True, timeout=60).stdout
    return " ".join(out.split())


def htmltext(html: str) -> str:
    """The visible text of a report's HTML, on one line (KPI boxes read in document order)."""
    html = re.sub(r"<(style|title)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# ---------------------------------------------------------------------------------------------- actions


def test_stale_data_state_is_credited_to_updating_the_data_not_to_declaring_the_frequency(one_org):
    store, run_id, _out, _output = one_org
    report = build_organization_report(store, run_id, ORG)
    by_text = {a.remediation: a for a in report.actions}  # as the reader sees them: «cada mes», not R/P1M
    update = by_text[UPDATE_AND_DECLARE]
    assert (update.alone, update.alone_fails, update.shared, update.characteristics) == (1, 1, 0, ["Oportunos"])
    declare = by_text[plain_es(DECLARE)]
    assert "R/P1M" not in declare.remediation and "cada mes" in declare.remediation
    # it lifts the recent dataset's oportunos by itself and helps the stale one's integrales; never the stale state
    assert (declare.alone, declare.shared, declare.fails) == (1, 1, 0)
    assert declare.statuses == 2 and set(declare.characteristics) == {"Oportunos", "Integrales"}
    assert declare.weight == pytest.approx(1 + 1 / 3)  # integrales needs three fixes: a third of that state
    assert "Padron vehicular" in declare.datasets  # through integrales only
    # the metadata date advice does not claim the stale monthly dataset: updating the data does
    assert REGISTER_DATE not in by_text
    assert by_text[plain_es(UPDATE_MONTHLY)].alone_fails == 1
    assert "cada 1 mes" not in plain_es(UPDATE_MONTHLY)
    # every state below "pass" is counted exactly once across the actions
    assert sum(a.weight for a in report.actions) == pytest.approx(STATES_BELOW_PASS)
    assert sum(a.alone for a in report.actions) + report.unattributed <= STATES_BELOW_PASS
    # every state below "pass" is in exactly the actions it is credited to, and all of them are covered
    assert report.covered_states == report.states_below_pass == STATES_BELOW_PASS
    # most impact first: characteristics fixed × datasets affected, then weight
    keys = [(a.impact, a.weight) for a in report.actions]
    assert keys == sorted(keys, reverse=True)


def test_state_causes_keeps_the_decisive_finding_and_drops_advice():
    from reports.model import FindingView

    def fv(code: str, remediation: str = "Haga algo.") -> FindingView:
        return FindingView("oportunos", "Oportunos", "fail", code, "", remediation, None, None, False)

    assert [f.code for f in state_causes("oportunos", [fv("sin_frecuencia"), fv("desactualizado")])] == ["desactualizado"]
    assert [f.code for f in state_causes("oportunos", [fv("fecha_solo_metadatos"), fv("sin_frecuencia")])] == [
        "sin_frecuencia"]
    assert [f.code for f in state_causes("oportunos", [fv("fecha_solo_metadatos")])] == ["fecha_solo_metadatos"]
    assert state_causes("integrales", [fv("sin_grupo", ""), fv("sin_contacto")])[0].code == "sin_contacto"


def test_advisory_and_decisive_codes_come_from_the_rules_enums():
    from reports.actions import advisory_codes, decisive_codes
    from reports.model import FindingView
    from rules import RULES_BY_ID

    assert decisive_codes("oportunos") == {"desactualizado", "irregular_antiguo", "sin_fecha_actualizacion"}
    assert advisory_codes("oportunos") == RULES_BY_ID["oportunos"].advisory_codes
    assert decisive_codes("no_such_rule") == frozenset()
    assert {"fecha_solo_metadatos", "precio_por_revisar", "filas_de_titulo"} <= (
        advisory_codes("oportunos") | advisory_codes("gratuitos") | advisory_codes("legibles_por_maquinas"))
    assert advisory_codes("no_such_rule") == frozenset()
    # a structure observation on one file does not claim the state the unreadable file explains
    findings = [FindingView("legibles_por_maquinas", "Legibles", "partial", code, "", "Haga algo.", None, None, False)
                for code in ("filas_de_titulo", "no_legible")]
    assert [f.code for f in state_causes("legibles_por_maquinas", findings)] == ["no_legible"]


@needs_poppler
def test_first_action_and_ranking_rule_are_in_the_pdf(one_org):
    store, run_id, out_dir, _output = one_org
    report = build_organization_report(store, run_id, ORG)
    text = pdfplain(out_dir / f"{ORG}.pdf")
    first = report.actions[0]
    assert f"Primera acción: {first.remediation}" in text
    assert "Cada acción corrige una causa" in text and "se atribuye a actualizar los datos" in text
    assert "Corrige Oportunos en 1 conjunto: resuelve por sí sola 1 estado (1 «no cumple»)" in text
    assert re.search(r"Corrige (Integrales, Oportunos|Oportunos, Integrales) en 2 conjuntos: resuelve por sí sola 1 "
                     r"estado; necesaria, junto con otras correcciones, en 1 estado\.", text)
    assert "Registre la fecha de última modificación" not in text.split("Acciones prioritarias", 1)[1].split(
        "Conjuntos de datos", 1)[0]


# ---------------------------------------------------------------------------------------------- evidence


@needs_poppler
def test_each_dataset_shows_the_basis_of_its_verdicts(one_org):
    _store, _run_id, out_dir, _output = one_org
    html = (out_dir / f"{ORG}.html").read_text(encoding="utf-8")
    check_html(html)
    text = pdfplain(out_dir / f"{ORG}.pdf")
    assert "Base de la evaluación" in text
    stale = (NOW - timedelta(days=3000)).date()
    assert (f"Oportunos: última actualización: {stale.day} de septiembre de {stale.year} (según encabezado HTTP "
            "Last-Modified); antigüedad: 3,000 días; frecuencia declarada: ninguna") in text
    assert "(según fecha de modificación de los metadatos, no de los datos)" in text
    assert "frecuencia declarada: «mensual»; tipo de frecuencia: periódica; periodo: 30.4 días" in text
    assert ("Integrales: completitud: 72.7 %; elementos faltantes: frecuencia, cobertura temporal, cobertura espacial"
            in text)
    assert "De libre uso: licencia: «odc-odbl»; tipo de licencia: compartir igual" in text
    assert "matched_by" not in text and "frequency_key" not in text  # noisy keys skipped
    # the retired dataset has no basis line (its evidence only says it is retired)
    retired = html.split("Aforos historicos</bdi></h3>", 1)[1].split("</article>", 1)[0]
    assert "Base de la evaluación" not in retired


def test_action_annex_only_when_the_list_is_abridged(one_org, tmp_path):
    _store, _run_id, out_dir, _output = one_org
    complete = htmltext((out_dir / f"{ORG}.html").read_text(encoding="utf-8"))
    assert "La lista está completa" in complete and "Anexo de acciones" not in complete
    # the same share-alike licence in five datasets: one action naming 3 of them here, all five in the annex
    share_alike = {"libre_uso": ("partial", 0.5, [finding("licencia_compartir_igual", "La licencia pide compartir "
                                                          "igual (compartir igual)", SHARE_ALIKE, "odc-odbl")],
                                 {"category": "share_alike", "license_id": "odc-odbl"})}
    store, run_id = build(tmp_path / "c.db", {ORG: "Secretaría de Movilidad"}, retired=False,
                          datasets={f"conjunto-{i}": ("listed", share_alike) for i in range(5)})
    out = render_reports(store, run_id, tmp_path / "r", cfg=AuditConfig(), organizations=[ORG], pdf=False, workers=1)
    text = htmltext(out.organizations[ORG][0].read_text(encoding="utf-8"))
    listed = text.split("Acciones prioritarias", 2)[-1].split("Conjuntos de datos", 1)[0]
    assert "y 2 más (vea el anexo de acciones" in listed and "La lista está completa" not in listed
    annex = text.split("Anexo de acciones: todas las correcciones", 1)[1].split("Anexo metodológico", 1)[0]
    assert all(f"Conjunto {i}" in annex for i in range(5)), annex[:500]
    assert sum(f"Conjunto {i}" in listed for i in range(5)) == 3


def test_action_annex_lists_every_action_when_there_are_more_than_twelve(tmp_path):
    # fourteen different fixes, one dataset each: the list shows the 12 of most impact, the annex all 14
    datasets = {f"conjunto-{i:02d}": ("listed", {"integrales": ("partial", 0.5, [finding(
        f"falta_{i}", f"Falta el elemento {i}.", f"Registre el elemento número {i} del conjunto.")], {})})
        for i in range(14)}
    store, run_id = build(tmp_path / "d.db", {ORG: "Secretaría de Movilidad"}, retired=False, datasets=datasets)
    out = render_reports(store, run_id, tmp_path / "r", cfg=AuditConfig(), organizations=[ORG], pdf=False, workers=1)
    text = htmltext(out.organizations[ORG][0].read_text(encoding="utf-8"))
    listed = text.split("Acciones prioritarias", 2)[-1].split("Conjuntos de datos", 1)[0]
    annex = text.split("Anexo de acciones: todas las correcciones", 1)[1].split("Anexo metodológico", 1)[0]
    fixes = [f"Registre el elemento número {i} del conjunto." for i in range(14)]
    assert sum(f in listed for f in fixes) == 12 and all(f in annex for f in fixes)
    assert "Y 2 acciones más: todas están en el anexo de acciones" in listed
    assert "Las 14 acciones que abarcan los 14 estados" in annex


def test_a_finding_finds_its_file_by_id_when_names_repeat():
    from reports.resources import ResourceInfo, find_resource

    csv_file = ResourceInfo(name="Datos", url="http://127.0.0.1:5998/datos.csv", ckan_id="r-csv")
    xlsx_file = ResourceInfo(name="Datos", url="http://127.0.0.1:5998/datos.xlsx", ckan_id="r-xlsx")
    files = [csv_file, xlsx_file]
    assert find_resource(files, "Datos", "r-xlsx") is xlsx_file
    assert find_resource(files, "Datos", "http://127.0.0.1:5998/datos.xlsx") is xlsx_file  # a resource without id
    assert find_resource(files, "Datos") is csv_file  # findings stored before the id: by name, as before
    # a file no longer in the dataset (permanentes: «recurso eliminado») does not borrow a current file's facts
    assert find_resource(files, "Datos", "r-gone") is None and find_resource(files, None, None) is None


# ---------------------------------------------------------------------------------------------- counts and plurals


@needs_poppler
def test_counts_agree_and_singulars_are_singular(one_org):
    store, run_id, out_dir, _output = one_org
    portal = build_portal_report(store, run_id)
    assert (portal.summary.datasets, portal.summary.retired, portal.summary.evaluated) == (3, 1, 4)
    assert portal.ranking[0].datasets == 4 and portal.ranking[0].retired == 1  # same total as the summary
    cover = htmltext((out_dir / "index.html").read_text(encoding="utf-8")).split("Contenido", 1)[0]
    assert "0 de 4 conjuntos evaluados conformes" in cover and "1 organización evaluada" in cover
    text = pdfplain(out_dir / "portal.pdf")
    assert ("se evaluaron 4 conjuntos de datos de 1 organización: 3 publicados en el portal y 1 retirado (estaba "
            "publicado en una revisión anterior y ya no aparece; no cumple «Permanentes»)") in text
    assert "Se evaluaron 4 conjuntos (3 publicados y 1 retirado del portal) con 3 recursos" in text
    assert "desde la evaluación anterior" not in text  # there is none: 2025 was never evaluated
    assert "No existe una evaluación completa del año 2025" in text
    assert "1 organizaciones" not in text and "1 organización" in text
    summary = htmltext((out_dir / "index.html").read_text(encoding="utf-8")).split("Resumen ejecutivo", 2)[2]
    assert "1 organización, 1 con conjuntos publicados 1 grupo temático 0 conjuntos conformes (0.0 %)" in summary
    assert "de la única organización con conjuntos" in text
    assert "conjuntos del portal" in text and "de el " not in text
    org_text = pdfplain(out_dir / f"{ORG}.pdf")
    assert "lugar entre 1 organización" in org_text and "1 organizaciones" not in org_text
    org_html = htmltext((out_dir / f"{ORG}.html").read_text(encoding="utf-8"))
    assert "4 conjuntos de datos evaluados 3 publicados y 1 retirado del portal" in org_html
    assert "0 de 4 conjuntos evaluados conformes" in org_html


@needs_poppler
def test_two_organizations_are_plural(tmp_path):
    store, run_id = build(tmp_path / "b.db", {ORG: "Secretaría de Movilidad", "caem": "Comisión del Agua"},
                          retired=False)
    out = render_reports(store, run_id, tmp_path / "r", cfg=AuditConfig(), organizations=[], include_portal=True,
                         workers=1)
    text = pdfplain(out.portal_pdf)  # type: ignore[arg-type]
    assert "de 2 organizaciones" in text and "de las 2 organizaciones con conjuntos" in text
    assert "el portal publica 4 conjuntos de datos de 2 organizaciones." in text
    assert "retirado" not in text.split("Metodología", 1)[0].split("Resumen ejecutivo", 1)[1]


# ---------------------------------------------------------------------------------------------- partial shares


def test_all_partial_is_not_shown_like_all_fail(one_org, tmp_path):
    store, run_id, out_dir, _output = one_org
    report = build_organization_report(store, run_id, ORG)
    org = report.organization
    assert org.characteristic_pct["libre_uso"] == 0.0 and org.characteristic_partial_pct["libre_uso"] == 100.0
    assert report.portal_characteristic_partial_pct["libre_uso"] == 100.0
    html = (out_dir / f"{ORG}.html").read_text(encoding="utf-8")
    assert "Cumplen parcialmente" in html
    portal_html = (out_dir / "index.html").read_text(encoding="utf-8")
    assert '<span class="part" title="Cumplen parcialmente">◐&#160;100\u00a0%</span>' in portal_html
    paths = write_exports(store, run_id, tmp_path / "2026", {})
    rows = list(csv.DictReader(paths["organizations.csv"].open(encoding="utf-8")))
    row = next(r for r in rows if r["organization"] == ORG)
    assert (row["libre_uso_pct"], row["libre_uso_pct_parcial"]) == ("0.0", "100.0")
    assert (row["integrales_pct"], row["integrales_pct_parcial"]) == ("66.7", "33.3")
    assert row["permanentes_pct_parcial"] == "0.0" and row["datasets"] == "4"
