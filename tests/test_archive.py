"""The evidence archive (content-addressed, deduplicated, capped, retained by years) and the appeal package."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.archive import EvidenceArchive, prune
from audit.config import AuditConfig
from audit.store.db import open_store
from audit.store.models import AuditRun, ContentCheck, DatasetSnapshot, Portal, ResourceSnapshot

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def test_a_file_is_stored_once_compressed_and_read_back_as_it_was(tmp_path):
    archive = EvidenceArchive(tmp_path / "ev", max_file_bytes=1 << 20)
    data = b"fecha,municipio,monto\n" + b"2026-01-01,Toluca,100\n" * 2000
    first, again = archive.put(data), archive.put(data)
    assert first["new"] is True and again["new"] is False and first["path"] == again["path"]
    assert archive.usage()[0] == 1
    assert first["stored_bytes"] < len(data) / 5  # tabular text compresses well even at gzip level 1
    assert archive.read(first["sha256"]) == data
    assert first["sha256"] == hashlib.sha256(data).hexdigest()
    assert not list((tmp_path / "ev").rglob(".tmp-*"))  # written under a temporary name, then renamed


def test_a_file_over_the_cap_is_not_stored_and_says_why(tmp_path):
    archive = EvidenceArchive(tmp_path / "ev", max_file_bytes=100)
    result = archive.put(b"x" * 101)
    assert result["stored"] is False and result["reason"] == "too_large"
    assert archive.usage() == (0, 0)


def test_paths_come_only_from_sha256_digests(tmp_path):
    archive = EvidenceArchive(tmp_path / "ev", max_file_bytes=100)
    with pytest.raises(ValueError):
        archive.path_of("../../etc/passwd")


def _store_with_runs(tmp_path: Path, archive: EvidenceArchive) -> tuple[object, dict[str, str]]:
    """Runs of several ages, each referencing one archived file; one file referenced by nobody."""
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    shas = {}
    with store.session() as s:
        portal = Portal(url="http://127.0.0.1:9", title="p", created_at=NOW)
        s.add(portal)
        s.flush()
        for label, age_days, kind, counts in (
            ("old_periodic", 3 * 365, "periodic", {}),
            ("old_annual", 3 * 365 + 1, "periodic", {"annual_evaluation": {"year": 2023}}),
            ("recent", 30, "periodic", {}),
        ):
            run = AuditRun(portal_id=portal.id, started_at=NOW - timedelta(days=age_days), status="complete",
                           kind=kind, counts=counts, year=(NOW - timedelta(days=age_days)).year)
            s.add(run)
            s.flush()
            ds = DatasetSnapshot(run_id=run.id, ckan_id="d", name="d", raw={})
            s.add(ds)
            s.flush()
            res = ResourceSnapshot(run_id=run.id, dataset_snapshot_id=ds.id, position=0, raw={})
            s.add(res)
            s.flush()
            shas[label] = archive.put(label.encode() * 1000)["sha256"]
            s.add(ContentCheck(run_id=run.id, resource_snapshot_id=res.id, sha256=shas[label], parsed_ok=True,
                               details={}, expectations={}, checked_at=run.started_at))
    shas["orphan"] = archive.put(b"nobody" * 1000)["sha256"]
    return store, shas


def test_retention_keeps_annual_evidence_longest_and_drops_what_no_run_needs(tmp_path):
    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev"), "retention_years": 2,
                                                  "annual_retention_years": 10}})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    result = prune(store, cfg, now=NOW)  # type: ignore[arg-type]
    left = {label for label, sha in shas.items() if archive.path_of(sha).exists()}
    assert left == {"old_annual", "recent"} and result["deleted"] == 2


def test_over_the_total_cap_periodic_evidence_goes_before_annual(tmp_path):
    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev"), "retention_years": 5,
                                                  "annual_retention_years": 10, "max_total_bytes": 1}})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    one_file = archive.path_of(shas["old_annual"]).stat().st_size
    cfg = cfg.model_copy(update={"archive": cfg.archive.model_copy(update={"max_total_bytes": one_file})})
    prune(store, cfg, now=NOW)  # type: ignore[arg-type]
    left = {label for label, sha in shas.items() if archive.path_of(sha).exists()}
    assert left == {"old_annual"}  # protected until 2033; the periodic files (until 2028/2031) went first


@pytest.mark.slow
def test_two_audits_store_each_file_once_and_the_appeal_package_holds_what_was_seen(tmp_path):
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal

    year = NOW.year
    with SamplePortal() as portal:
        cfg = AuditConfig.model_validate({
            "portal_url": portal.url, "database_url": f"sqlite:///{tmp_path / 'a.db'}",
            "output_dir": str(tmp_path / "out"), "reports": {"enabled": False}, "http": {"retries": 0},
            "content": {"workers": 2},
        })
        store = open_store(cfg.database_url)
        first = run_audit(cfg, store, portal_url=portal.url, year=year, out_dir=tmp_path / "out")
        archive = EvidenceArchive.from_config(cfg)
        assert archive is not None
        files_after_first, bytes_after_first = archive.usage()
        second = run_audit(cfg, store, portal_url=portal.url, year=year, out_dir=tmp_path / "out")
        assert first.status == second.status == "complete"
        # unchanged files are not stored again; only the sample's file generated on every download (vivienda-social,
        # a «generado» column with the moment of each request) comes back with new bytes
        files_after_second, bytes_after_second = archive.usage()
        assert files_after_second == files_after_first + 1 and bytes_after_second > bytes_after_first
        assert files_after_first >= 20

        config = tmp_path / "config.yaml"
        config.write_text(f"portal_url: {portal.url}\noutput_dir: {tmp_path / 'out'}\n", encoding="utf-8")
        package = tmp_path / "apelacion.zip"
        done = subprocess.run(
            [sys.executable, str(REPO / "run_audit.py"), "evidencia", "calidad-del-aire-zmvt", "--year", str(year),
             "--out", str(package), "--config", str(config), "--db", cfg.database_url],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        assert "2 revisiones" in " ".join(done.stdout.split())  # rich wraps long lines
        missing = subprocess.run(
            [sys.executable, str(REPO / "run_audit.py"), "evidencia", "no-existe", "--year", str(year),
             "--out", str(tmp_path / "x.zip"), "--config", str(config), "--db", cfg.database_url],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
        assert missing.returncode == 2 and "no aparece" in missing.stdout + missing.stderr
        assert "Traceback" not in missing.stdout + missing.stderr
    with zipfile.ZipFile(package) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = members.pop("MANIFEST.sha256").decode().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in manifest) == sorted(members)
    for line in manifest:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(members[name]).hexdigest() == digest
    revisions = sorted({n.split("/")[1] for n in members if n.startswith("revisiones/")})
    assert [r.split("_")[0] for r in revisions] == [str(first.run_id), str(second.run_id)]
    files = [n for n in members if n.startswith("archivos/")]
    assert files, "the archived file is in the package"
    for name in files:  # each included file is exactly what was evaluated (its name is its hash)
        assert hashlib.sha256(members[name]).hexdigest() == name.split("/")[1].split(".")[0]
    results = members[f"revisiones/{revisions[0]}/resultados.json"].decode()
    assert "accesibles" in results and "evidencia" in results
    assert b"url_solicitada" in members[f"revisiones/{revisions[0]}/recursos.json"]
