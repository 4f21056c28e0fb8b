"""The progress indicator: matching commitments ignoring case/accents/spacing, cut-off, no commitments."""

from __future__ import annotations

from datetime import date

import pytest

from audit.errors import InputFileError
from audit.indicator import (
    Commitment,
    DatasetRef,
    OrgRef,
    evaluate_commitments,
    in_term,
    load_commitments,
    progress_pct,
)
from audit.textnorm import match_key

ORGS = [OrgRef("secretaria-de-finanzas", "Secretaría de Finanzas"), OrgRef("secretaria-de-salud", "Secretaría de Salud")]
DATASETS = [
    DatasetRef("secretaria-de-finanzas", "ingresos-estatales", "Ingresos Estatales", published=True, conforme=True),
    DatasetRef("secretaria-de-finanzas", "deuda-publica", "Deuda Pública", published=True, conforme=False),
    DatasetRef("secretaria-de-finanzas", "egresos", "Egresos", published=False, conforme=False),  # nothing reachable
    DatasetRef("secretaria-de-salud", "camas-hospitalarias", "Camas hospitalarias", published=True, conforme=True),
]


def test_match_key_ignores_case_accents_and_spacing():
    assert match_key("Secretaría  de Finanzas") == match_key("secretaria-de-finanzas") == match_key("SECRETARIA DE FINANZAS")
    assert match_key("Deuda Pública") == match_key("deuda-publica")


def test_commitments_match_by_title_or_name_with_accents_and_case():
    rows = [
        Commitment("SECRETARIA DE FINANZAS", "ingresos estatales", date(2026, 3, 1)),
        Commitment("secretaria-de-finanzas", "Deuda  Publica", date(2026, 6, 30)),
        Commitment("Secretaría de Finanzas", "egresos", date(2026, 12, 31)),
        Commitment("Secretaría de Finanzas", "Padrón de proveedores", date(2026, 1, 1)),  # unmatched
        Commitment("Secretaría de Finanzas", "Presupuesto 2027", date(2027, 1, 31)),  # future: not committed
    ]
    out = evaluate_commitments(rows, ORGS, DATASETS, year=2026)
    assert [o.organization_name for o in out] == ["secretaria-de-finanzas"] * 5
    assert [o.matched_dataset for o in out] == ["ingresos-estatales", "deuda-publica", "egresos", None, None]
    assert [o.committed for o in out] == [True, True, True, True, False]
    assert [o.published for o in out] == [True, True, False, False, False]
    assert [o.conforme for o in out] == [True, False, False, False, False]
    committed = sum(o.committed for o in out)
    published = sum(o.published for o in out)
    assert progress_pct(published, committed) == 50.0


def test_dataset_of_another_organization_does_not_count():
    out = evaluate_commitments([Commitment("Secretaría de Finanzas", "Camas hospitalarias", date(2026, 1, 1))],
                               ORGS, DATASETS, year=2026)
    assert out[0].matched_dataset is None and not out[0].published


def test_unknown_organization_is_unresolved():
    out = evaluate_commitments([Commitment("Secretaría de Marina", "x", date(2026, 1, 1))], ORGS, DATASETS, year=2026)
    assert out[0].organization_name is None


def test_commitments_not_yet_due_when_the_portal_was_read_do_not_count_yet():
    """Read on 7 December with the cut-off on 31 December: a commitment due on 6 December counts (published or not);
    one due on 7 December or later, by the cut-off, is still in term — neither published nor missing yet; one due after
    the cut-off belongs to next year. Read after the cut-off (the annual evaluation in January), all count."""
    rows = [Commitment("Secretaría de Finanzas", "Ingresos estatales", date(2026, 12, 6)),
            Commitment("Secretaría de Finanzas", "egresos", date(2026, 12, 7)),
            Commitment("Secretaría de Salud", "Camas hospitalarias", date(2026, 12, 31)),
            Commitment("Secretaría de Salud", "Consultas", date(2027, 1, 15))]
    during = evaluate_commitments(rows, ORGS, DATASETS, year=2026, as_of=date(2026, 12, 7))
    assert [o.committed for o in during] == [True, False, False, False]  # only the first counts in the indicator
    assert [o.published for o in during] == [True, False, True, False]  # what is published is still said
    assert all(o.issue is None for o in during)  # being in term is not an error of the inventory
    after = evaluate_commitments(rows, ORGS, DATASETS, year=2026, as_of=date(2027, 1, 20))
    assert [o.committed for o in after] == [True, True, True, False]
    assert in_term(date(2026, 12, 7), date(2026, 12, 31), date(2026, 12, 7))
    assert not in_term(date(2026, 12, 6), date(2026, 12, 31), date(2026, 12, 7))
    assert not in_term(date(2027, 1, 1), date(2026, 12, 31), date(2026, 12, 7))
    assert not in_term(date(2026, 12, 7), date(2026, 12, 31), None)


def test_configurable_cutoff():
    rows = [Commitment("secretaria-de-salud", "camas-hospitalarias", date(2026, 9, 1))]
    assert evaluate_commitments(rows, ORGS, DATASETS, year=2026, cutoff_month_day="06-30")[0].committed is False
    assert evaluate_commitments(rows, ORGS, DATASETS, year=2026)[0].committed is True


@pytest.mark.parametrize(("published", "committed", "expected"), [(0, 0, None), (0, 3, 0.0), (3, 3, 100.0), (1, 3, 33.3), (2, 3, 66.7)])
def test_progress_pct_rounding_and_no_commitments(published, committed, expected):
    assert progress_pct(published, committed) == expected


def test_load_commitments_accepts_bom_semicolons_and_latin1(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes("organization;dataset;due_date\r\nSecretaría de Salud;Camas;2026-05-01\r\n".encode("cp1252"))
    rows = load_commitments(p)
    assert rows[0].organization == "Secretaría de Salud"
    assert rows[0].due_date == date(2026, 5, 1)
    q = tmp_path / "d.csv"
    q.write_text("\ufefforganization,dataset,due_date\nSalud,Camas,31/12/2026\n", encoding="utf-8")
    assert load_commitments(q)[0].due_date == date(2026, 12, 31)


def test_load_commitments_reports_every_bad_line(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("organization,dataset,due_date\nA,B,mañana\n,B,2026-01-01\nA,B,2026-01-01\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_commitments(p)
    msg = str(err.value)
    assert "línea 2" in msg and "línea 3" in msg and "2 error" in msg


def test_load_commitments_missing_columns(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("org,dataset\nA,B\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="organization"):
        load_commitments(p)


def test_two_organizations_differing_only_by_an_accent_are_told_apart():
    orgs = [OrgRef("promexico", "PROMEXICO"), OrgRef("promexico-2", "PROMÉXICO")]
    datasets = [DatasetRef("promexico-2", "exportaciones", "Exportaciones", published=True, conforme=True)]
    exact = evaluate_commitments([Commitment("PROMÉXICO", "Exportaciones", date(2026, 1, 1))], orgs, datasets, year=2026)
    assert exact[0].organization_name == "promexico-2" and exact[0].published and exact[0].issue is None
    loose = evaluate_commitments([Commitment("Promexíco", "Exportaciones", date(2026, 1, 1))], orgs, datasets, year=2026)
    assert loose[0].organization_name is None and not loose[0].published
    assert "puede ser promexico o promexico-2" in (loose[0].issue or "")


def test_a_repeated_commitment_counts_once():
    rows = [Commitment("Secretaría de Salud", "Camas hospitalarias", date(2026, 1, 1), line=2),
            Commitment("secretaria de salud", "camas-hospitalarias", date(2026, 3, 1), line=7)]
    out = evaluate_commitments(rows, ORGS, DATASETS, year=2026)
    assert [o.committed for o in out] == [True, False]
    assert out[1].issue == "compromiso repetido (ya registrado en la línea 2)"


def test_a_dataset_that_appeared_after_the_cut_off_was_not_published_that_year():
    late = [DatasetRef("secretaria-de-salud", "camas-hospitalarias", "Camas hospitalarias", published=True,
                       conforme=True, created=date(2027, 2, 10))]
    out = evaluate_commitments([Commitment("Secretaría de Salud", "Camas hospitalarias", date(2026, 6, 30))],
                               ORGS, late, year=2026)
    assert out[0].committed and not out[0].published and "después del corte (2026-12-31)" in (out[0].issue or "")


def test_a_commitment_of_an_organization_not_on_the_portal_is_reported():
    out = evaluate_commitments([Commitment("Secretaría de Marina", "x", date(2026, 1, 1))], ORGS, DATASETS, year=2026)
    assert out[0].committed and not out[0].published
    assert out[0].issue == "no hay en el portal una organización «Secretaría de Marina» (cuenta como no publicado)"


def test_portal_totals_keep_commitments_of_organizations_not_on_the_portal(tmp_path):
    from audit.indicator import portal_commitment_totals
    from audit.store import AuditRun, CommitmentRecord, open_store
    from audit.store.db import utcnow

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    pid = store.get_or_create_portal("http://127.0.0.1:1")
    with store.session() as s:
        run = AuditRun(portal_id=pid, started_at=utcnow(), status="complete", counts={}, crawl_state={}, stages_done=[])
        s.add(run)
        s.flush()
        for org, published, committed in (("salud", True, True), ("salud", False, True), (None, False, True),
                                          ("salud", False, False)):
            s.add(CommitmentRecord(run_id=run.id, organization_key=org or "Secretaría de Marina", dataset_key="x",
                                   due_date=date(2026, 1, 1), organization_name=org, matched_dataset=None,
                                   committed=committed, published=published, conforme=published))
        run_id = run.id
    with store.session() as s:
        assert portal_commitment_totals(s, run_id) == (3, 1, 1)  # the unknown organization's row counts
    store.close()


def test_an_audit_without_an_inventory_measures_progress_against_the_last_one_loaded(tmp_path, metadata_audit_cfg):
    """Scheduled audits and the annual evaluation run without --commitments: the inventory is kept in the database."""
    from sqlalchemy import func, select

    from audit.pipeline import run_audit
    from audit.sample_portal import DEMO_COMMITMENTS_CSV, SamplePortal
    from audit.store import CommitmentRecord, OrganizationResult, open_store

    inventory = tmp_path / "compromisos.csv"
    inventory.write_text(DEMO_COMMITMENTS_CSV, encoding="utf-8")
    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url)
        store = open_store(cfg.database_url)
        first = run_audit(cfg, store, portal_url=portal.url, year=2026, kind="periodic", out_dir=tmp_path,
                          commitments=str(inventory))
        second = run_audit(cfg, store, portal_url=portal.url, year=2026, kind="periodic", out_dir=tmp_path)

        def progress(run_id: int) -> tuple[int, list[tuple[str, int, int]]]:
            with store.session() as s:
                rows = s.scalar(select(func.count()).select_from(CommitmentRecord).where(CommitmentRecord.run_id == run_id))
                orgs = s.execute(select(OrganizationResult.organization_name, OrganizationResult.committed,
                                        OrganizationResult.published).where(OrganizationResult.run_id == run_id)
                                 .order_by(OrganizationResult.organization_name)).all()
            return rows, [tuple(o) for o in orgs]

        assert progress(first.run_id)[0] == len(DEMO_COMMITMENTS_CSV.strip().splitlines()) - 1
        assert progress(second.run_id) == progress(first.run_id)
        store.close()


@pytest.mark.parametrize(
    ("requires", "outcome", "documentation", "published"),
    [
        ("data_file", "ok", False, True),
        ("data_file", "ok", True, False),  # only the dictionary downloads: the data are not published
        ("data_file", "landing_page", False, False),  # a query page is not «datos subidos»
        ("reachable_resource", "landing_page", False, True),
        ("reachable_resource", "ok", True, True),
        ("reachable_resource", "not_found", False, False),
        ("listed", "dns_error", False, True),
    ],
)
def test_published_requires_decides_what_publishes_a_dataset(requires, outcome, documentation, published):
    from audit.indicator import resource_publishes

    assert resource_publishes(requires, outcome=outcome, documentation=documentation, probed=True) is published


def test_published_requires_is_applied_to_the_commitments_of_a_real_audit(tmp_path, metadata_audit_cfg):
    """The same audit re-scored under each definition of «publicado» (indicator.published_requires)."""
    from sqlalchemy import select

    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.scoring import run_score_stage
    from audit.store import CommitmentRecord, open_store

    due = date(2026, 6, 30)
    commitments = [
        Commitment("Secretaría de Finanzas", "ingresos-estatales-mensuales", due),  # a CSV downloads
        Commitment("Secretaría de Educación, Ciencia, Tecnología e Innovación", "becas-otorgadas", due),  # dictionary only
        Commitment("Secretaría de Movilidad", "rutas-de-transporte-publico", due),  # a web page where the CSV should be
        Commitment("Secretaría de Movilidad", "concesiones-de-transporte", due),  # no resources at all
    ]
    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url)
        store = open_store(cfg.database_url)
        run = run_audit(cfg, store, portal_url=portal.url, year=2026, out_dir=tmp_path)
    published: dict[str, list[str]] = {}
    for requires in ("data_file", "reachable_resource", "listed"):
        variant = cfg.model_copy(update={"indicator": cfg.indicator.model_copy(update={"published_requires": requires})})
        run_score_stage(store, run.run_id, variant, commitments=commitments)
        with store.session() as s:
            published[requires] = sorted(s.scalars(select(CommitmentRecord.matched_dataset).where(
                CommitmentRecord.run_id == run.run_id, CommitmentRecord.published.is_(True))))
    store.close()
    assert published["data_file"] == ["ingresos-estatales-mensuales"]
    assert published["reachable_resource"] == ["becas-otorgadas", "ingresos-estatales-mensuales",
                                               "rutas-de-transporte-publico"]
    assert published["listed"] == ["becas-otorgadas", "concesiones-de-transporte", "ingresos-estatales-mensuales",
                                   "rutas-de-transporte-publico"]


def test_an_evaluation_during_the_year_shows_its_period_and_the_commitments_still_in_term(tmp_path, metadata_audit_cfg):
    """A real audit of the sample portal read during the year it evaluates: the report's period ends on the day the
    portal was read, the progress counts only the commitments already due, and the table says which ones are still
    in term or belong to next year (instead of «✘ No»)."""
    import re
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from audit.clock import assume_utc
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.store import AuditRun, OrganizationResult, open_store
    from reports.format import fmt_date
    from reports.model import build_organization_report
    from reports.render import organization_charts, render_html

    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url)
        store = open_store(cfg.database_url)
        # scored without commitments first, to learn the day the portal was read; then scored with them
        run = run_audit(cfg, store, portal_url=portal.url, out_dir=tmp_path)
    from audit.scoring import run_score_stage

    with store.session() as s:
        started = s.get(AuditRun, run.run_id).started_at  # type: ignore[union-attr]
    day = assume_utc(started).astimezone(ZoneInfo(cfg.timezone)).date()
    cutoff = date(run.year, 12, 31)
    org, org_title = "secretaria-de-finanzas", "Secretaría de Finanzas"
    run_score_stage(store, run.run_id, cfg, commitments=[
        Commitment(org_title, "ingresos-estatales-mensuales", day - timedelta(days=1)),  # due: counts, published
        Commitment(org_title, "cuenta-publica-estatal", day),  # due today: still in term
        Commitment(org_title, "deuda-publica-estatal", cutoff + timedelta(days=1)),  # next year's
    ])
    with store.session() as s:
        result = s.query(OrganizationResult).filter_by(run_id=run.run_id, organization_name=org).one()
        assert (result.committed, result.published, result.progress_pct) == (1, 1, 100.0)
    report = build_organization_report(store, run.run_id, org)
    html = render_html("organization.html", report=report, charts=organization_charts(report))
    store.close()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    if day < cutoff:  # 31 December itself reads the whole year
        assert f"Periodo evaluado 1 de enero al {fmt_date(day)} (hasta la revisión del portal; el año se cierra el " \
               f"{fmt_date(cutoff)})" in text
        assert f"1 conjunto comprometido con fecha anterior a la revisión del portal ({fmt_date(day)}); 1 publicado " \
               f"(100.0 %). 1 compromiso más vence entre la revisión y el corte ({fmt_date(cutoff)}): aún está en " \
               "plazo y no cuenta todavía. «Publicado» significa aquí: público, en el portal el día de la revisión y con al " \
               "menos un archivo de datos descargable" in text.replace("\u00a0", " ")
    assert "en plazo: no cuenta todavía" in text
    assert "posterior al corte: no cuenta este año" in text


def test_a_commitment_in_term_whose_dataset_has_no_data_file_yet_is_still_a_reminder(tmp_path, metadata_audit_cfg):
    """In term it does not count in the indicator, but the change alerts still warn the liaison that the dataset
    found on the portal has no downloadable data file yet (and one commitment written twice is one reminder)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from audit.changes import compute_changes
    from audit.clock import assume_utc
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.scoring import run_score_stage
    from audit.store import AuditRun, open_store

    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url)
        store = open_store(cfg.database_url)
        run_audit(cfg, store, portal_url=portal.url, out_dir=tmp_path, kind="periodic")
        run = run_audit(cfg, store, portal_url=portal.url, out_dir=tmp_path, kind="periodic")
    with store.session() as s:
        started = s.get(AuditRun, run.run_id).started_at  # type: ignore[union-attr]
    day = assume_utc(started).astimezone(ZoneInfo(cfg.timezone)).date()
    due = min(day + timedelta(days=5), date(run.year, 12, 31))  # in term: on or after the review day, by the cut-off
    run_score_stage(store, run.run_id, cfg, commitments=[
        Commitment("Secretaría de Movilidad", "concesiones-de-transporte", due),  # on the portal, no resources
        Commitment("secretaria-de-movilidad", "Concesiones de transporte", due),  # the same, written again
        Commitment("Secretaría de Finanzas", "ingresos-estatales-mensuales", due),  # published: nothing to say
    ])
    changes = compute_changes(store, cfg, run.run_id, as_of=day)
    store.close()
    soon = {org: [(c.dataset, c.matched_dataset) for c in o.commitments] for org, o in changes.organizations.items()
            if o.commitments}
    assert soon == {"secretaria-de-movilidad": [("concesiones-de-transporte", "concesiones-de-transporte")]}
