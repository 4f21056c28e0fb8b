"""config.yaml: validated, documented, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit.config import AuditConfig, load_config
from audit.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_repository_config_yaml_is_valid():
    cfg = load_config(REPO / "config.yaml")
    assert cfg.timezone == "America/Mexico_City"
    assert "@" in cfg.http.user_agent  # a contact address


def test_defaults_without_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None)
    assert cfg.database_url.startswith("sqlite")
    assert cfg.http.per_host_concurrency == 4
    assert cfg.crawl.page_size <= 1000


def test_unknown_key_is_named(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("http:\n  timeout_s: 5\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "http.timeout_s" in str(err.value)
    assert "desconocida" in str(err.value)


def test_wrong_type_names_key_and_value(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("crawl:\n  page_size: muchos\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "crawl.page_size" in str(err.value)
    assert "muchos" in str(err.value)


def test_page_size_above_ckan_cap_is_rejected(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("crawl:\n  page_size: 5000\n")
    with pytest.raises(ConfigError, match="crawl.page_size"):
        load_config(p)


def test_missing_file_is_clear(tmp_path):
    with pytest.raises(ConfigError, match="No existe el archivo de configuración"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_reports_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("http:\n  retries: [1, 2\n")
    with pytest.raises(ConfigError, match="línea"):
        load_config(p)


def test_cli_overrides_win_over_file(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("database_url: sqlite:///a.db\nportal_url: https://a.invalid\n")
    cfg = load_config(p, {"database_url": "sqlite:///b.db", "portal_url": None})
    assert cfg.database_url == "sqlite:///b.db"
    assert cfg.portal_url == "https://a.invalid"


def test_secret_token_comes_from_environment(monkeypatch):
    monkeypatch.setenv("CKAN_API_TOKEN", "secreto")
    assert load_config(None).ckan_api_token == "secreto"
    assert "ckan_api_token" not in AuditConfig.model_fields  # never a file key


def test_configuration_doc_is_up_to_date():
    from audit.config_docs import render

    assert (REPO / "docs" / "configuration.md").read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `python -m audit.config_docs > docs/configuration.md`")


def test_bad_config_on_cli_is_one_message_not_a_traceback(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("http:\n  retries: -1\n")
    proc = subprocess.run([sys.executable, str(REPO / "run_audit.py"), "crawl", "--config", str(p),
                           "--portal", "http://127.0.0.1:9"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60)
    assert proc.returncode == 2
    assert "http.retries" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(("given", "base"), [
    ("https://datos.edomex.gob.mx/api/3/action", "https://datos.edomex.gob.mx"),
    (" https://datos.edomex.gob.mx/ ", "https://datos.edomex.gob.mx"),
    ("http://127.0.0.1:5000/dataset/casos-de-dengue", "http://127.0.0.1:5000"),
    ("https://gob.mx/catalogo/api/3", "https://gob.mx/catalogo"),
    ("https://gob.mx/catalogo/organization/salud", "https://gob.mx/catalogo"),
])
def test_portal_url_is_cut_to_the_portal_base(given, base):
    assert load_config(None, {"portal_url": given}).portal_url == base


def test_portal_url_without_scheme_is_a_clear_error():
    with pytest.raises(ConfigError) as err:
        load_config(None, {"portal_url": "datos.edomex.gob.mx"})
    assert "portal_url" in str(err.value) and "https://datos.edomex.gob.mx" in str(err.value)
