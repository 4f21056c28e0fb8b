"""Shared fixtures: stores on SQLite and PostgreSQL, and the embedded sample portal."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("AUDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("AUDIT_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required here but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a throw-away database on the local PostgreSQL server (dropped at the end of the session)."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"audit_t_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc))
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def fresh_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """The session database, emptied before each test (schema recreated by migrations)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_server_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    engine.dispose()
    yield postgres_server_url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """Parametrises a test over both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'audit.db'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture
def fast_cfg(tmp_path):  # type: ignore[no-untyped-def]
    """A config tuned for tests: short timeouts and backoff, local output folder."""
    from audit.config import load_config

    return load_config(None, {
        "output_dir": str(tmp_path / "out"),
        "http": {"connect_timeout_s": 2, "read_timeout_s": 2, "total_timeout_s": 10, "retries": 2,
                 "backoff_base_s": 0.05, "retry_after_cap_s": 2},
        "reports": {"pdf": False},
    })


@pytest.fixture
def sample_portal():  # type: ignore[no-untyped-def]
    from audit.sample_portal import SamplePortal

    with SamplePortal() as portal:
        yield portal


@pytest.fixture
def metadata_audit_cfg(tmp_path):  # type: ignore[no-untyped-def]
    """Factory of a config that audits a local portal quickly: metadata and probes only (no content validation,
    no reports, no retries), its SQLite database and output under ``tmp_path``."""
    from audit.config import AuditConfig

    def make(portal_url: str, **overrides: object) -> AuditConfig:
        return AuditConfig.model_validate({
            "portal_url": portal_url, "database_url": f"sqlite:///{tmp_path / 'a.db'}", "output_dir": str(tmp_path),
            "content": {"enabled": False}, "reports": {"enabled": False}, "http": {"retries": 0}, **overrides,
        })

    return make


@pytest.fixture(autouse=True)
def _evidence_archive_off_the_repository(tmp_path_factory, monkeypatch):  # type: ignore[no-untyped-def]
    """Stages archive what they read under ``<output_dir>/evidencias``; a test config without an absolute
    ``output_dir`` (default ``salida``, relative to the working directory) would fill the checkout. Relative
    archive folders go to a temporary folder instead (forked content workers inherit this)."""
    import audit.archive as archive

    original = archive.archive_dir
    folder: list[Path] = []

    def archive_dir(cfg):  # type: ignore[no-untyped-def]
        path = original(cfg)
        if path.is_absolute():
            return path
        if not folder:
            folder.append(tmp_path_factory.mktemp("evidencias"))
        return folder[0] / path

    monkeypatch.setattr(archive, "archive_dir", archive_dir)
