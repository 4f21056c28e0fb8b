"""Evaluator-made CSV files (commitments, manual reviews) as a spreadsheet on a government PC writes them."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from audit.errors import InputFileError
from audit.indicator import load_commitments
from audit.reviews import load_reviews

ROWS = [("Secretaría de Finanzas", "Ingresos estatales", "30/06/2025"), ("SALUD", "casos-de-dengue", "2025-12-31")]


def _write(tmp_path, data: bytes, name: str = "compromisos.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("encoding", "delimiter", "header"), [
    ("utf-8-sig", ",", "organization,dataset,due_date"),
    ("cp1252", ";", "organization;dataset;due_date"),  # Excel es-MX "CSV (delimitado por comas)"
    ("utf-16", "\t", "organization\tdataset\tdue_date"),  # Excel "Texto Unicode"
    ("utf-8", ";", "Organización;Conjunto de datos;Fecha compromiso"),  # Spanish column names
])
def test_commitments_from_the_spreadsheets_evaluators_use(tmp_path, encoding, delimiter, header):
    lines = [header, "", *(delimiter.join(r) for r in ROWS), ""]
    rows = load_commitments(_write(tmp_path, "\r\n".join(lines).encode(encoding)))
    assert [(c.organization, c.dataset, c.due_date) for c in rows] == [
        ("Secretaría de Finanzas", "Ingresos estatales", date(2025, 6, 30)),
        ("SALUD", "casos-de-dengue", date(2025, 12, 31))]
    assert rows[0].line == 3  # the blank line after the header still counts for the line numbers


def test_bytes_that_are_not_windows_1252_are_read_not_a_traceback(tmp_path):
    data = "organization,dataset,due_date\nSecretaría,Datos\x81,2025-06-30\n".encode("latin-1")
    assert load_commitments(_write(tmp_path, data))[0].organization == "Secretaría"


def test_a_workbook_saved_with_a_csv_name_is_a_clear_error(tmp_path):
    bio = io.BytesIO()
    pd.DataFrame({"organization": ["a"], "dataset": ["b"], "due_date": ["2025-06-30"]}).to_excel(bio, index=False)
    with pytest.raises(InputFileError) as err:
        load_commitments(_write(tmp_path, bio.getvalue()))
    assert "libro de Excel" in err.value.message and "Guardar como" in (err.value.hint or "")


def test_an_unclosed_quote_names_the_line(tmp_path):
    data = b'organization,dataset,due_date\nSalud,"Casos de dengue,2025-06-30\nSalud,Otro,2025-06-30\n'
    with pytest.raises(InputFileError) as err:
        load_commitments(_write(tmp_path, data))
    assert "línea" in err.value.message or "fecha inválida" in err.value.message


@pytest.mark.parametrize("due", ["2025", "2025-06", "junio 2025", "31/02/2025"])
def test_a_due_date_without_a_day_is_refused_not_guessed(tmp_path, due):
    with pytest.raises(InputFileError) as err:
        load_commitments(_write(tmp_path, f"organization,dataset,due_date\nSalud,Dengue,{due}\n".encode()))
    assert f"'{due}'" in err.value.message and "línea 2" in err.value.message


def test_spanish_long_dates_are_read(tmp_path):
    rows = load_commitments(_write(tmp_path, "organización,conjunto,fecha\nSalud,Dengue,30 de junio de 2025\n".encode()))
    assert rows[0].due_date == date(2025, 6, 30)


def test_reviews_accept_spanish_headers_and_characteristic_titles(tmp_path):
    data = ("Conjunto;Característica;Estado;Justificación;Revisor;Fecha\n"
            "casos-de-dengue;De libre uso;No cumple;Licencia con restricción;Lic. Ana Pérez;02/06/2025\n"
            "casos-de-dengue;Legibles por máquinas;Cumple;Se abre con LibreOffice;Lic. Ana Pérez;2025-06-02\n")
    reviews = load_reviews(_write(tmp_path, data.encode("cp1252"), "revisiones.csv"))
    assert [(r.characteristic, r.status, r.review_date) for r in reviews] == [
        ("libre_uso", "fail", date(2025, 6, 2)), ("legibles_por_maquinas", "pass", date(2025, 6, 2))]


def test_a_review_naming_the_dataset_by_its_title_is_applied(tmp_path, metadata_audit_cfg):
    from sqlalchemy import select

    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal
    from audit.store import DatasetSnapshot, RuleResultRecord, open_store

    reviews = _write(tmp_path, ("dataset,characteristic,status,justification,reviewer,date\n"
                                "RUTAS DE TRANSPORTE PÚBLICO,accesibles,Cumple,El visor entrega el CSV,Lic. Ana Pérez,"
                                "2026-06-02\n").encode(), "revisiones.csv")
    with SamplePortal() as portal:
        cfg = metadata_audit_cfg(portal.url)
        store = open_store(cfg.database_url)
        run = run_audit(cfg, store, portal_url=portal.url, year=2026, kind="periodic", out_dir=tmp_path,
                        reviews=str(reviews))
        with store.session() as s:
            rec = s.scalar(select(RuleResultRecord).join(DatasetSnapshot, DatasetSnapshot.id == RuleResultRecord.dataset_snapshot_id)
                           .where(RuleResultRecord.run_id == run.run_id, RuleResultRecord.characteristic == "accesibles",
                                  DatasetSnapshot.name == "rutas-de-transporte-publico"))
            assert rec.status == "pass" and rec.automatic_status == "partial" and rec.manual_review_id is not None
        store.close()
