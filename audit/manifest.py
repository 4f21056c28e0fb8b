"""Archival identity of an evaluation: its folio, the method version, and ``MANIFEST.sha256``.

An archived evaluation (``OUT/<year>/``) can be verified years later: ``MANIFEST.sha256`` lists every output file
with its SHA-256 in the format ``sha256sum -c`` reads (``<hex>  <relative path>``), and every report and scores.json
carry the same folio and method version (software, rules and configuration digests).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

MANIFEST_NAME = "MANIFEST.sha256"
_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def evaluation_folio(portal_url: str, year: int, run_id: int) -> str:
    """A stable identifier of one evaluation (the run that is the year's snapshot): «DA-2026-0012-3F9A1C».

    The same run always gets the same folio; the hash part tells apart runs numbered alike in two databases."""
    digest = hashlib.sha256(f"{portal_url.rstrip('/')}|{year}|{run_id}".encode()).hexdigest()[:6].upper()
    return f"DA-{year}-{run_id:04d}-{digest}"


def software_version() -> str:
    from audit import __version__

    return __version__


@lru_cache(maxsize=1)
def rules_version() -> str:
    """Digest of the evaluation rules' source (``rules/*.py`` and their vocabularies): changes when a rule does."""
    h = hashlib.sha256()
    for path in sorted(_RULES_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".json", ".csv"} and "__pycache__" not in path.parts:
            h.update(path.relative_to(_RULES_DIR).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(year_dir: Path) -> Path:
    """Write ``year_dir/MANIFEST.sha256`` listing every file under ``year_dir`` (sorted, relative paths).

    Called once, after all of the year's outputs are written (exports and reports). Temporary files (``*.tmp``)
    and the manifest itself are left out."""
    year_dir = Path(year_dir)
    lines = []
    for path in sorted(p for p in year_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(year_dir).as_posix()
        if rel == MANIFEST_NAME or path.suffix == ".tmp":
            continue
        lines.append(f"{_sha256(path)}  {rel}\n")
    target = year_dir / MANIFEST_NAME
    tmp = target.with_suffix(".sha256.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(target)
    return target


def verify_manifest(year_dir: Path) -> list[str]:
    """Files whose hash no longer matches (or that are missing), as relative paths; empty when all match."""
    year_dir = Path(year_dir)
    bad = []
    for line in (year_dir / MANIFEST_NAME).read_text(encoding="utf-8").splitlines():
        digest, _, rel = line.partition("  ")
        path = year_dir / rel
        if not path.is_file() or _sha256(path) != digest:
            bad.append(rel)
    return bad
