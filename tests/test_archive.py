"""The evidence archive (content-addressed, deduplicated, capped, retained by years) and the appeal package."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from audit.archive import EvidenceArchive, maybe_prune, prune
from audit.config import AuditConfig
from audit.store.db import open_store
from audit.store.models import AuditRun, ContentCheck, DatasetSnapshot, Portal, Probe, ResourceSnapshot

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
    long_ago = (NOW - timedelta(days=2)).timestamp()  # not a file a running stage just wrote
    for sha in shas.values():
        os.utime(archive.path_of(sha), (long_ago, long_ago))
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
        # a «generado» column with the moment of each request) comes back with new bytes, to the probe and to the
        # content check's download alike
        files_after_second, bytes_after_second = archive.usage()
        assert files_after_second == files_after_first + 2 and bytes_after_second > bytes_after_first
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
    entries = json.loads(members[f"revisiones/{revisions[0]}/recursos.json"])
    both = [e for e in entries if (e.get("archivo") or {}).get("incluido") and "bytes_sondeo" in e]
    assert both, "a resource both probed and checked"
    for e in both:  # the probe read the same small file: one copy in the package, pointed to
        assert e["bytes_sondeo"]["mismo_archivo_que"] == e["archivo"]["ruta"]
    index = json.loads(members["archivos.json"])
    assert {e["ruta"] for e in index} == set(files) and all(e["completo"] for e in index)


def test_a_file_written_while_a_stage_has_not_committed_its_rows_survives_a_prune(tmp_path):
    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev")}})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    fresh = archive.put(b"just probed, rows not written yet" * 100)["sha256"]
    prune(store, cfg)  # type: ignore[arg-type]
    assert archive.has(fresh) and not archive.has(shas["orphan"])


def test_probe_rows_keep_their_bytes_in_the_archive_too(tmp_path):
    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev")}})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    page = archive.put(b"<html>pagina en vez de datos</html>" * 50)["sha256"]
    os.utime(archive.path_of(page), (0, 0))
    with store.session() as s:  # type: ignore[attr-defined]
        res = s.scalars(select(ResourceSnapshot).order_by(ResourceSnapshot.id.desc())).first()  # the recent run
        s.add(Probe(run_id=res.run_id, resource_snapshot_id=res.id, outcome="landing_page", sha256=page,
                    checked_at=NOW))
    prune(store, cfg, now=NOW)  # type: ignore[arg-type]
    assert archive.has(page)


def test_the_full_prune_runs_only_over_the_cap_or_when_due(tmp_path):
    cfg = AuditConfig.model_validate({"archive": {"dir": str(tmp_path / "ev"), "prune_interval_hours": 24}})
    archive = EvidenceArchive.from_config(cfg)
    assert archive is not None
    store, shas = _store_with_runs(tmp_path, archive)
    first = maybe_prune(store, cfg, now=NOW)  # type: ignore[arg-type]
    assert "skipped" not in first and not archive.has(shas["orphan"])  # never pruned before: due
    state = archive.usage_state()
    assert state["bytes"] == archive.usage()[1] and state["files"] == archive.usage()[0]
    orphan = archive.put(b"nobody again" * 1000)["sha256"]
    os.utime(archive.path_of(orphan), (0, 0))
    assert archive.usage_state()["bytes"] == archive.usage()[1]  # new files add to the running total
    later = maybe_prune(store, cfg, now=NOW + timedelta(hours=2))  # type: ignore[arg-type]
    assert later == {"skipped": True, "bytes": archive.usage()[1]} and archive.has(orphan)
    next_day = maybe_prune(store, cfg, now=NOW + timedelta(hours=25))  # type: ignore[arg-type]
    assert "skipped" not in next_day and not archive.has(orphan)
    tight = cfg.model_copy(update={"archive": cfg.archive.model_copy(update={"max_total_bytes": 1})})
    over = maybe_prune(store, tight, now=NOW + timedelta(hours=26))  # type: ignore[arg-type]
    assert "skipped" not in over and archive.usage()[1] <= 1  # over the cap: pruned at once


def _probe_only_cfg(portal_url: str, tmp_path: Path, **overrides: object) -> AuditConfig:
    return AuditConfig.model_validate({
        "portal_url": portal_url, "database_url": f"sqlite:///{tmp_path / 'a.db'}", "output_dir": str(tmp_path / "out"),
        "content": {"enabled": False}, "reports": {"enabled": False}, "http": {"retries": 0}, **overrides,
    })


def _probes_of(store, run_id: int, dataset: str) -> list[Probe]:  # type: ignore[no-untyped-def]
    with store.session() as s:
        return list(s.scalars(select(Probe).join(ResourceSnapshot, ResourceSnapshot.id == Probe.resource_snapshot_id)
                              .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
                              .where(Probe.run_id == run_id, DatasetSnapshot.name == dataset)))


@pytest.mark.slow
def test_what_the_probe_read_of_a_pdf_and_of_a_page_is_archived_once_and_goes_into_the_package(tmp_path):
    from audit.appeal import build_appeal_package
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal

    with SamplePortal() as portal:
        cfg = _probe_only_cfg(portal.url, tmp_path)
        store = open_store(cfg.database_url)
        first = run_audit(cfg, store, portal_url=portal.url, year=NOW.year, out_dir=tmp_path / "out")
        archive = EvidenceArchive.from_config(cfg)
        assert archive is not None
        after_first = archive.usage()
        second = run_audit(cfg, store, portal_url=portal.url, year=NOW.year, out_dir=tmp_path / "out")
        assert first.status == second.status == "complete"
        # the prober read each file once per run; unchanged bytes are not stored again (only the sample's file
        # generated anew on every request comes back different)
        assert after_first[0] >= 40 and archive.usage()[0] == after_first[0] + 1
        pdf = _probes_of(store, first.run_id, "catalogo-de-artesanias")[0]
        page = _probes_of(store, first.run_id, "rutas-de-transporte-publico")[0]
        assert (pdf.outcome, pdf.sniffed_type, pdf.truncated) == ("ok", "pdf", False)
        assert page.outcome == "landing_page"
        assert archive.read(str(pdf.sha256), 5) == b"%PDF-" and b"<html" in (archive.read(str(page.sha256)) or b"").lower()
        assert hashlib.sha256(archive.read(str(pdf.sha256)) or b"").hexdigest() == pdf.sha256

        packages = {}
        for name in ("catalogo-de-artesanias", "rutas-de-transporte-publico"):
            out = tmp_path / f"{name}.zip"
            counts = build_appeal_package(store, cfg, name, NOW.year, out)
            assert counts["revisions"] == 2 and counts["files"] >= 1 and counts["files_missing"] == 0
            with zipfile.ZipFile(out) as zf:
                packages[name] = {n: zf.read(n) for n in zf.namelist()}
        store.close()
    members = packages["catalogo-de-artesanias"]
    assert members[f"archivos/{pdf.sha256}.pdf"].startswith(b"%PDF-")
    index = json.loads(members["archivos.json"])
    assert [(e["ruta"], e["completo"], e["origen"], len(e["revisiones"])) for e in index] == [
        (f"archivos/{pdf.sha256}.pdf", True, ["sondeo"], 2)]  # seen in both revisions, included once
    resources = json.loads(next(v for k, v in members.items() if k.endswith("recursos.json")))
    assert resources[0]["bytes_sondeo"]["ruta"] == f"archivos/{pdf.sha256}.pdf"
    manifest = members["MANIFEST.sha256"].decode()
    assert f"{pdf.sha256}  archivos/{pdf.sha256}.pdf" in manifest and "archivos.json" in manifest
    html = packages["rutas-de-transporte-publico"][f"archivos/{page.sha256}.html"]
    assert hashlib.sha256(html).hexdigest() == page.sha256


@pytest.mark.slow
def test_a_probe_prefix_is_archived_as_partial_and_the_caps_hold(tmp_path):
    from audit.appeal import build_appeal_package
    from audit.pipeline import run_audit
    from audit.sample_portal import SamplePortal

    with SamplePortal() as portal:
        # the prober reads 600 bytes of each file: every larger file is kept as its first 600 bytes
        cfg = _probe_only_cfg(portal.url, tmp_path, probe={"sniff_bytes": 600, "use_range": False})
        store = open_store(cfg.database_url)
        run = run_audit(cfg, store, portal_url=portal.url, year=NOW.year, out_dir=tmp_path / "out")
        archive = EvidenceArchive.from_config(cfg)
        assert archive is not None and run.status == "complete"
        pdf = _probes_of(store, run.run_id, "catalogo-de-artesanias")[0]
        assert pdf.truncated and pdf.bytes_read == 600
        kept = archive.read(str(pdf.sha256))
        assert kept is not None and len(kept) == 600 and kept.startswith(b"%PDF-")
        out = tmp_path / "p.zip"
        counts = build_appeal_package(store, cfg, "catalogo-de-artesanias", NOW.year, out)
        with zipfile.ZipFile(out) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        entry = json.loads(next(v for k, v in members.items() if k.endswith("recursos.json")))[0]["bytes_sondeo"]
        assert counts["partial_files"] == 1 and entry["completo"] is False and "600 bytes" in entry["nota"]
        assert members[entry["ruta"]] == kept and entry["ruta"] == f"archivos/{pdf.sha256}.parcial.pdf"
        index = json.loads(members["archivos.json"])
        assert [(e["completo"], e["bytes"], e["bytes_declarados_por_el_servidor"]) for e in index] == [
            (False, 600, pdf.content_length)]
        assert "parcial" in members["LEEME.txt"].decode()

        # caps: nothing over archive.max_file_bytes is stored, and the total holds at the end of the stage
        (tmp_path / "b").mkdir()
        capped = _probe_only_cfg(portal.url, tmp_path / "b", archive={"max_file_bytes": 2_000, "max_total_bytes": 6_000})
        store_b = open_store(capped.database_url)
        assert run_audit(capped, store_b, portal_url=portal.url, year=NOW.year,
                         out_dir=tmp_path / "b" / "out").status == "complete"
        archive_b = EvidenceArchive.from_config(capped)
        assert archive_b is not None
        files, size = archive_b.usage()
        assert files >= 1 and size <= 6_000 and archive_b.usage_state()["bytes"] == size
        with store_b.session() as s:
            seen = set(s.scalars(select(Probe.sha256).where(Probe.sha256.is_not(None))))
        assert len(seen) > files  # some were over a cap
        assert all(len(archive_b.read(p.name[:-3]) or b"") <= 2_000 for p in archive_b.root.glob("??/??/*.gz"))
        store.close()
        store_b.close()


@pytest.mark.parametrize("content_enabled", [True, False])
def test_the_prober_keeps_a_tabular_prefix_only_when_no_content_check_will_keep_the_whole_file(
        tmp_path, sample_portal, content_enabled):
    import asyncio
    from urllib.parse import urlsplit

    from audit.probe import ProbeRequest, probe_urls

    cfg = AuditConfig.model_validate({"content": {"enabled": content_enabled}, "http": {"retries": 0},
                                      "probe": {"sniff_bytes": 600, "use_range": False}})
    archive = EvidenceArchive(tmp_path / "ev", max_file_bytes=1 << 20)
    pdf = next(r["url"] for d in sample_portal.catalog.iter_datasets() if d["name"] == "catalogo-de-artesanias"
               for r in d["resources"])
    reqs = [ProbeRequest(f"{sample_portal.url}/files/synthetic/1.csv", key="csv"), ProbeRequest(pdf, key="pdf")]

    async def go() -> dict[str, object]:
        host = urlsplit(sample_portal.url).hostname
        return {req.key: ev async for req, ev in probe_urls(reqs, cfg, allow_hosts=[host], archive=archive)}

    got = asyncio.run(go())
    csv, doc = got["csv"], got["pdf"]
    assert csv.truncated and csv.sniffed_type == "csv" and doc.truncated and doc.sniffed_type == "pdf"  # type: ignore[attr-defined]
    assert archive.has(doc.sha256)  # type: ignore[attr-defined]  # a PDF is never downloaded again: its bytes are kept
    assert archive.has(csv.sha256) is (not content_enabled)  # type: ignore[attr-defined]


def test_a_disk_that_refuses_the_copy_never_fails_the_caller(tmp_path):
    blocker = tmp_path / "no-es-carpeta"
    blocker.write_text("un archivo donde iría la carpeta de evidencias")
    archive = EvidenceArchive(blocker / "ev", max_file_bytes=1 << 20)
    result = archive.put(b"contenido" * 100)
    assert result["stored"] is False and result["reason"].startswith("os_error")
    assert archive.read(result["sha256"]) is None and archive.usage_state() == {}
