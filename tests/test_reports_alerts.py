"""The reports show personal-data alerts (masked) and datasets duplicated across organizations."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from audit.config import AuditConfig
from audit.store import models as m
from audit.store.db import utcnow
from reports.render import org_file, render_reports

sys.path.insert(0, str(Path(__file__).parent))
from test_reports_store import open_populated  # noqa: E402

SHARED = "ab" * 32


def test_alerts_reach_the_portal_and_organization_reports(tmp_path):
    built = open_populated(f"sqlite:///{tmp_path / 'audit.db'}", orgs=4, datasets_per_org=2)
    run_id = built.runs[2026]
    with built.store.session() as s:
        rows = s.execute(select(m.ResourceSnapshot.id, m.DatasetSnapshot.organization_name, m.DatasetSnapshot.title)
                         .join(m.DatasetSnapshot, m.DatasetSnapshot.id == m.ResourceSnapshot.dataset_snapshot_id)
                         .where(m.ResourceSnapshot.run_id == run_id)).all()
        first = rows[0]
        other = next(r for r in rows if r[1] != first[1])
        for rid, _org, _title in (first, other):
            s.query(m.ContentCheck).filter_by(run_id=run_id, resource_snapshot_id=rid).delete()
            s.add(m.ContentCheck(
                run_id=run_id, resource_snapshot_id=rid, sha256=SHARED, parsed_ok=True, expectations={},
                checked_at=utcnow(),
                details={"parsed_ok": True, "column_kinds": {"curp": "text", "monto": "numeric"},
                         "personal_data": [{"column": "curp", "kind": "curp", "count": 40,
                                            "examples": ["GOMA••••••••••••07"]}] if rid == first[0] else []}))
    out = tmp_path / "reports"
    render_reports(built.store, run_id, out, cfg=AuditConfig(), pdf=False, workers=1)
    portal = (out / "index.html").read_text(encoding="utf-8")
    assert "Posibles datos personales" in portal and "1 columna" in portal
    assert "Conjuntos duplicados entre organizaciones" in portal and "mismo archivo" in portal
    org_html = (out / f"{org_file(first[1])}.html").read_text(encoding="utf-8")
    assert "GOMA••••••••••••07" in org_html and ">40<" in org_html and "CURP" in org_html
    assert "Datos publicados también por otra organización" in org_html
    other_html = (out / f"{org_file(other[1])}.html").read_text(encoding="utf-8")
    assert "Datos publicados también por otra organización" in other_html
    assert "Posibles datos personales" not in other_html
    if shutil.which("tidy"):  # the new sections are valid HTML too
        for page in (out / "index.html", out / f"{org_file(first[1])}.html"):
            proc = subprocess.run(["tidy", "-errors", "-quiet", "-utf8", str(page)], capture_output=True, text=True,
                                  timeout=60)
            assert proc.returncode == 0, proc.stderr
