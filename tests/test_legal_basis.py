"""The legal basis is data: the 2025 LGTAIP by default, and every output quotes whatever ``legal_basis`` says."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from audit.config import AuditConfig, load_config
from audit.errors import ConfigError
from audit.legal import DEFAULT_LEGAL_BASIS
from audit.notify import Contact, build_message
from audit.publish import _notes
from audit.web import create_app
from reports.render import render_reports

sys.path.insert(0, str(Path(__file__).parent))
from test_reports_store import open_populated  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TEXT_DIRS = ("audit", "rules", "reports", "docs", "README.md", "config.yaml")

CUSTOM = {
    "law": "Ley de Prueba de Datos Abiertos",
    "short_name": "LPDA",
    "publication": "Gaceta de Prueba, 1 de enero de 2031",
    "in_force_since": "2031-01-02",
    "article": "7",
    "fraction": "XIV",
    "characteristics": {
        **{cid: {"inciso": p.inciso, "text": p.text} for cid, p in DEFAULT_LEGAL_BASIS.characteristics.items()},
        "accesibles": {"inciso": "z", "text": "Accesibles: Texto de prueba para la característica"},
    },
    "additional_instruments": [{"name": "Lineamientos Estatales de Prueba", "citation": "numeral 4"}],
}


def _current_law_text(path: Path) -> str:
    """A file's text without the paragraphs that mention the abrogated 2015 text on purpose (to explain it)."""
    return "\n\n".join(par for par in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
                       if "abroga" not in par)


def test_default_is_the_2025_law_article_3_fraction_viii():
    lb = AuditConfig().legal_basis
    assert lb.citation() == "LGTAIP, art. 3, fr. VIII"
    assert lb.citation("libre_uso") == "LGTAIP, art. 3, fr. VIII, inciso j)"
    assert lb.quote("no_discriminatorios") == (
        "LGTAIP, art. 3, fr. VIII, inciso d): «No discriminatorios: Están disponibles para cualquier persona, sin "
        "necesidad de registro»")
    assert "20 de marzo de 2025" in lb.full_citation() and "fracción VIII" in lb.full_citation()
    assert lb.open_formats_citation() == "LGTAIP, art. 3, fr. XII"
    assert lb.additional_instruments == []  # no state article is invented


def test_no_source_file_or_doc_cites_fraction_vi_as_the_current_law():
    paths: list[Path] = []
    for name in TEXT_DIRS:
        p = REPO / name
        paths.extend([p] if p.is_file() else [f for f in p.rglob("*") if f.suffix in (".py", ".md", ".html", ".yaml")])
    offenders = [str(p.relative_to(REPO)) for p in paths
                 if re.search(r"fr(?:\.|acción) VI\b(?!I)", _current_law_text(p))]
    assert not offenders, f"cite legal_basis instead of «fr. VI»: {offenders}"
    assert "reproduce la misma definición" not in (REPO / "docs" / "reglas.md").read_text(encoding="utf-8")


def test_a_legal_basis_without_every_characteristic_is_a_clear_error(tmp_path):
    chars = {k: v for k, v in CUSTOM["characteristics"].items() if k != "primarios"}  # type: ignore[union-attr]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"legal_basis": {**CUSTOM, "characteristics": chars}}), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "legal_basis.characteristics" in str(err.value) and "primarios" in str(err.value)


def test_changing_the_block_changes_reports_dashboard_api_mail_and_published_notes(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"legal_basis": CUSTOM, "reports": {"pdf": False}}), encoding="utf-8")
    cfg = load_config(path)

    built = open_populated(f"sqlite:///{tmp_path / 'audit.db'}", orgs=4, datasets_per_org=2)
    out = tmp_path / "reports"
    render_reports(built.store, built.runs[2026], out, cfg=cfg, pdf=False, workers=1)
    portal_html = (out / "index.html").read_text(encoding="utf-8")
    assert "LPDA, art. 7, fr. XIV, inciso z): «Accesibles: Texto de prueba para la característica»" in portal_html
    assert "Lineamientos Estatales de Prueba, numeral 4" in portal_html
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "Ley de Prueba de Datos Abiertos" in text, page.name
        assert "fr. VIII" not in text and "fracción VIII" not in text, page.name

    with TestClient(create_app(cfg, built.store)) as client:
        assert "Ley de Prueba de Datos Abiertos" in client.get("/").text
        assert "LPDA, art. 7, fr. XIV" in client.get("/openapi.json").json()["info"]["description"]

    mail = build_message(cfg, year=2026, contact=Contact("org-a", "Ana", "ana@example.org"),
                         row={"title": "Org A"}, pdf=None)
    assert "Ley de Prueba de Datos Abiertos" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Ley de Prueba de Datos Abiertos, Gaceta de Prueba" in _notes(2026, "http://127.0.0.1", "", cfg.legal_basis)
