"""Likely personal data in published tables: each pattern found and validated, masked everywhere, no false alarms
on the sample portal's and the benchmark's files."""

from __future__ import annotations

import io
import json
import random

import pandas as pd
import pytest

from audit.config import AuditConfig, ContentSettings
from audit.content import personal
from audit.content.load import load_table
from audit.content.stage import check_bytes
from audit.sample_portal import files

SETTINGS = ContentSettings().personal_data


def curp(first17: str) -> str:
    return first17 + str(personal.curp_check_digit(first17))


def synthetic_curps(n: int, seed: int = 7) -> list[str]:
    """Real-shaped CURPs (valid dates, states, consonants and check digit) of nobody."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        first = r.choice("BCDFGHJLMNPRSTVZ") + r.choice("AEIOU") + r.choice("BCDFGHJLMNPRSTVZ") + r.choice("ABCDEFG")
        born = f"{r.randint(50, 99):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
        body = first + born + r.choice("HM") + r.choice(["MC", "DF", "JC", "NL", "PL"]) + "".join(
            r.choice("BCDFGHJKLMNPRSTVWXYZ") for _ in range(3)) + "0"
        out.append(curp(body))
    return out


def hits_of(frame: dict[str, list[str]]) -> dict[tuple[str, str], personal.PersonalDataHit]:
    return {(h.column, h.kind): h for h in personal.scan(pd.DataFrame(frame), SETTINGS)}


def test_curp_needs_its_check_digit_and_a_real_date():
    good = curp("GOMA850101HDFRRN0")
    wrong_digit = good[:17] + str((int(good[17]) + 1) % 10)
    bad_date = curp("GOMA851301HDFRRN0")  # month 13
    assert personal.is_curp(good)
    assert not personal.is_curp(wrong_digit)
    assert not personal.is_curp(bad_date)
    hits = hits_of({"clave": [good, wrong_digit, bad_date, "ABC"]})
    assert hits[("clave", "curp")].count == 1


def test_rfc_of_natural_persons_only_with_a_coherent_date():
    assert personal.is_person_rfc("GOMA850101AB1")
    assert not personal.is_person_rfc("GOM850101AB1")  # a company's RFC has 3 letters (12 characters)
    assert not personal.is_person_rfc("GOMA850230AB1")  # 30 February
    hits = hits_of({"rfc_proveedor": ["GOMA850101AB1", "ABC010203XY9", "ACM980101AB2"]})
    assert hits[("rfc_proveedor", "rfc")].count == 1


def test_ine_voter_keys_need_a_date_and_a_state_of_birth():
    assert personal.is_voter_key("GMRZAN85010115H100")
    assert not personal.is_voter_key("GMRZAN85010145H100")  # state 45 does not exist
    assert not personal.is_voter_key("GMRZAN85133115H100")  # month 13
    assert hits_of({"clave_ine": ["GMRZAN85010115H100"]})[("clave_ine", "voter_key")].count == 1


def test_personal_emails_and_phones_outside_institutional_contact_columns():
    hits = hits_of({
        "correo": ["ana.lopez@gmail.com", "dgsei@edomex.gob.mx", "x@hotmail.com"],
        "correo_institucional": ["jefe.oficina@gmail.com", "a@edomex.gob.mx", "b@edomex.gob.mx"],
        "telefono": ["(722) 123 45 67", "55-1234-5678", "n/d"],
        "telefono_oficina": ["7221234567", "7221234568", "7221234569"],
        "monto": ["7221234567", "1000000000", "2000000000"],  # ten-digit amounts are not phones
    })
    assert hits[("correo", "email")].count == 2
    assert hits[("telefono", "phone")].count == 2
    assert not any(col in ("correo_institucional", "telefono_oficina", "monto") for col, _ in hits)


def test_columns_named_like_personal_identifiers():
    hits = hits_of({"Nombre completo": ["Ana López", "Luis Pérez"], "nombre_unidad": ["Centro de Salud 1", "CS 2"],
                    "Fecha de Nacimiento": ["1985-01-01", "1990-02-02"]})
    assert hits[("Nombre completo", "column_name")].count == 2
    assert ("Fecha de Nacimiento", "column_name") in hits
    assert not any(col == "nombre_unidad" for col, _ in hits)


def test_examples_are_masked_in_every_stored_form():
    values = synthetic_curps(5)
    email = "ana.lopez@gmail.com"
    csv = "curp,correo,telefono\n" + "".join(f"{c},{email},7221234567\n" for c in values)
    ev = check_bytes(csv.encode(), "csv", settings=ContentSettings(), suites=[])
    dumped = json.dumps([h for h in ev.personal_data], ensure_ascii=False)
    assert {h["kind"] for h in ev.personal_data} == {"curp", "email", "phone"}
    assert all(c not in dumped for c in values) and email not in dumped and "7221234567" not in dumped
    assert "a•••@gmail.com" in dumped and "••••••••67" in dumped


def test_all_planted_real_shaped_curps_and_rfcs_are_found():
    curps = synthetic_curps(500)
    rfcs = [c[:10] + "A1" + str(i % 10) for i, c in enumerate(curps)]
    hits = hits_of({"curp": curps, "rfc": rfcs})
    assert hits[("curp", "curp")].count == 500
    assert hits[("rfc", "rfc")].count == 500


def _sample_portal_tables() -> list[tuple[str, bytes, str]]:
    out = [(f"{topic}.csv", files.csv_bytes(topic, 300, seed=topic), "csv") for topic in files.TOPICS]
    out += [(f"{topic}.xlsx", files.xlsx_bytes(topic, 200, seed=topic), "xlsx") for topic in files.TOPICS]
    out += [(f"{topic}.json", files.json_records_bytes(topic, 200, seed=topic), "json") for topic in files.TOPICS]
    out += [("unidades_economicas.xls", files.xls_bytes(), "xls")]
    return out


@pytest.mark.parametrize("name,data,kind", _sample_portal_tables(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_alerts_on_the_sample_portals_files(name, data, kind):
    table = load_table(data, kind, max_rows=200_000, filename=name)
    assert table.parsed_ok, name
    assert personal.scan(table.df, SETTINGS) == []


def test_no_alerts_on_the_benchmarks_synthetic_files():
    for n in range(1, 6):  # 96,046, 30,020, 74,709, 86,455 and 81,284 rows (docs/content.md)
        data = b"".join(files.synthetic_csv_chunks(n))
        frame = pd.read_csv(io.BytesIO(data), dtype=str)
        assert personal.scan(frame, SETTINGS) == [], n


def test_scanning_can_be_switched_off():
    cfg = AuditConfig.model_validate({"content": {"personal_data": {"enabled": False}}})
    assert personal.scan(pd.DataFrame({"curp": synthetic_curps(3)}), cfg.content.personal_data) == []


def test_the_content_stage_stores_masked_alerts_that_the_run_reports_per_dataset(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_content_stage import FileServer, _make_run, _serve_all

    from audit.config import load_config
    from audit.content.stage import run_content_stage
    from audit.privacy import personal_data_alerts
    from audit.store.db import open_store

    suites = tmp_path / "suites"
    suites.mkdir()
    cfg = load_config(None, {"probe": {"allow_hosts": ["127.0.0.1"]}, "http": {"retries": 0},
                             "content": {"workers": 1, "suites_dir": str(suites)}})
    srv = FileServer()
    try:
        _serve_all(srv)
        curps = synthetic_curps(40)
        srv.files["/files/padron.csv"] = ("folio,curp,municipio\n" + "".join(
            f"F{i},{c},Toluca\n" for i, c in enumerate(curps))).encode()
        store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
        run_id = _make_run(store, srv)
        run_content_stage(store, run_id, cfg)
        alerts = personal_data_alerts(store, run_id)
    finally:
        srv.close()
    assert [(a.dataset, a.resource, a.column, a.kind, a.count) for a in alerts] == [
        ("padron", "Padrón 2024", "curp", "curp", 40)]
    assert alerts[0].resource_url == f"{srv.url}/files/padron.csv"
    message = alerts[0].message_es
    assert "Posibles datos personales" in message and "40 valores con forma de CURP" in message
    assert not any(c in message for c in curps)
    with store.session() as s:
        from sqlalchemy import text

        stored = " ".join(str(row) for row in s.execute(text("SELECT details FROM content_check")))
    assert not any(c in stored for c in curps)
