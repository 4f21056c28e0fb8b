"""The evidence archive: the bytes every probe and content check received, kept for appeals.

Content-addressed by SHA-256 of the bytes stored — the same hash the probe row (what the prober read: the whole
file, or its first ``probe.sniff_bytes`` when ``truncated``) and the content check (the download it evaluated)
record — so a file that did not change between runs or is published by two resources is stored once; gzip-compressed (level 1: the content stage pays for it on every
new file, and tabular text compresses ≈ 5× even at that level). Bytes live on disk under ``archive.dir``
(``<output_dir>/evidencias`` by default) so the database stays small; the check's ``details["archive"]`` records
the path and sizes. Files are written to a temporary name and renamed, so a crash never leaves a partial blob under
its final name and concurrent workers storing the same file do not collide.

Retention (:func:`prune`): files referenced only by runs older than ``archive.retention_years`` are deleted; those
of an annual evaluation's snapshot run are kept ``archive.annual_retention_years``; when the archive exceeds
``archive.max_total_bytes``, files referenced only by the oldest periodic runs go first. A full prune reads every
reference in the database and lists the whole archive, so stages call :func:`maybe_prune`, which prunes only when
the running total kept in ``.usage.json`` (bytes at the last prune plus every new file since) exceeds the cap, or
the last prune is older than ``archive.prune_interval_hours``. A stored file is only ever read back as bytes
(appeal package, dashboard download): nothing here parses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from audit.clock import utcnow
from audit.store.db import Store
from audit.store.models import AuditRun, ContentCheck, Probe

if TYPE_CHECKING:
    from audit.config import AuditConfig

log = logging.getLogger(__name__)

_SHA256_HEX = frozenset("0123456789abcdef")
_USAGE = ".usage.json"  # {"bytes": on disk, "files": n, "pruned_at": ISO time of the last full prune}
#: an unreferenced file younger than this may belong to a stage still writing its rows: a prune keeps it
_IN_FLIGHT = timedelta(hours=6)


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def archive_dir(cfg: AuditConfig) -> Path:
    return Path(cfg.archive.dir) if cfg.archive.dir else Path(cfg.output_dir) / "evidencias"


@dataclass(frozen=True, slots=True)
class EvidenceArchive:
    root: Path
    max_file_bytes: int
    compresslevel: int = 1

    @classmethod
    def from_config(cls, cfg: AuditConfig) -> EvidenceArchive | None:
        if not cfg.archive.enabled:
            return None
        return cls(archive_dir(cfg), cfg.archive.max_file_bytes)

    @staticmethod
    def relpath(sha256: str) -> str:
        if len(sha256) != 64 or not set(sha256) <= _SHA256_HEX:
            raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.gz"

    def path_of(self, sha256: str) -> Path:
        return self.root / self.relpath(sha256)

    def put(self, data: bytes, sha256: str | None = None) -> dict[str, Any]:
        """Store ``data`` (once per content); returns what the content check records in ``details["archive"]``."""
        t0 = time.perf_counter()
        digest = sha256 or hashlib.sha256(data).hexdigest()
        if len(data) > self.max_file_bytes:
            return {"sha256": digest, "stored": False, "reason": "too_large", "bytes": len(data)}
        path = self.path_of(digest)
        if path.exists():
            with contextlib.suppress(OSError):  # a newer reference: retention reads the database; this helps a human
                os.utime(path)
            return {"sha256": digest, "stored": True, "path": self.relpath(digest), "bytes": len(data),
                    "stored_bytes": path.stat().st_size, "new": False, "ms": _ms(t0)}
        tmp = ""
        try:  # a full or read-only disk costs the copy, never the probe or check that asked for it
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".gz")
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=self.compresslevel,
                                                          mtime=0) as gz:
                gz.write(data)
            os.replace(tmp, path)
            stored = path.stat().st_size
            self._grow(stored)
        except OSError as exc:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            log.warning("archive: could not store %s: %s", digest, exc)
            return {"sha256": digest, "stored": False, "reason": f"os_error: {exc.strerror or exc}", "bytes": len(data)}
        return {"sha256": digest, "stored": True, "path": self.relpath(digest), "bytes": len(data),
                "stored_bytes": stored, "new": True, "ms": _ms(t0)}

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    # ------------------------------------------------------------------ running total (what maybe_prune reads)

    def _update_usage(self, change: Any) -> dict[str, Any]:
        """Read-modify-write ``.usage.json`` under an exclusive lock (workers in several processes add to it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / _USAGE, "a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            try:
                state = json.loads(fh.read() or "{}")
            except ValueError:
                state = {}
            state = change(state if isinstance(state, dict) else {})
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(state))
            return state  # type: ignore[no-any-return]

    def _grow(self, stored_bytes: int) -> None:
        def add(state: dict[str, Any]) -> dict[str, Any]:
            return {**state, "bytes": int(state.get("bytes", 0)) + stored_bytes, "files": int(state.get("files", 0)) + 1}

        try:
            self._update_usage(add)
        except OSError as exc:  # the total is an estimate; the daily prune recounts it
            log.warning("archive: could not update the running total: %s", exc)

    def usage_state(self) -> dict[str, Any]:
        """The running total: ``bytes``, ``files`` and ``pruned_at`` (absent before the first prune)."""
        try:
            state = json.loads((self.root / _USAGE).read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def read(self, sha256: str, limit: int | None = None) -> bytes | None:
        """The stored bytes (or their first ``limit`` bytes); None when not archived."""
        path = self.path_of(sha256)
        if not path.exists():
            return None
        with gzip.open(path, "rb") as fh:
            return fh.read() if limit is None else fh.read(limit)

    def usage(self) -> tuple[int, int]:
        """(files, bytes on disk)."""
        files = size = 0
        if self.root.is_dir():
            for path in self.root.glob("??/??/*.gz"):
                files += 1
                size += path.stat().st_size
        return files, size


def _is_annual(run: AuditRun) -> bool:
    return run.kind == "annual" or "annual_evaluation" in (run.counts or {})


def prune(store: Store, cfg: AuditConfig, *, now: datetime | None = None) -> dict[str, int]:
    """Apply the retention rules and the total cap; returns how many files were deleted and kept."""
    archive = EvidenceArchive.from_config(cfg)
    if archive is None or not archive.root.is_dir():
        return {"deleted": 0, "kept": 0, "bytes": 0}
    now = now or utcnow()
    settings = cfg.archive
    kept_until: dict[str, datetime] = {}  # sha256 → the date until which some run still needs it
    with store.session() as s:
        runs = {r.id: r for r in s.scalars(select(AuditRun))}
        until_of_run: dict[int, datetime] = {}
        for run in runs.values():
            started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=now.tzinfo)
            years = settings.annual_retention_years if _is_annual(run) else settings.retention_years
            until_of_run[run.id] = started + timedelta(days=365.25 * years)
        never = datetime.min.replace(tzinfo=now.tzinfo)
        for table in (ContentCheck, Probe):  # the content check's download and the probe's bytes
            for run_id, sha in s.execute(select(table.run_id, table.sha256).where(table.sha256.is_not(None))
                                         .distinct()):
                until = until_of_run.get(run_id)
                if until is not None and sha and until > kept_until.get(sha, never):
                    kept_until[sha] = until
    deleted = 0
    in_flight_since = (now - _IN_FLIGHT).timestamp()
    survivors: list[tuple[datetime, int, Path]] = []  # (expiry, size, path) of files still within retention
    for path in archive.root.glob("??/??/*.gz"):
        sha = path.name.removesuffix(".gz")
        expiry = kept_until.get(sha)
        stat = path.stat()
        if expiry is None and stat.st_mtime >= in_flight_since:
            expiry = now  # just written by a stage whose rows are not committed yet: kept, first to go over the cap
        elif expiry is None or expiry < now:
            path.unlink(missing_ok=True)
            deleted += 1
            continue
        survivors.append((expiry, stat.st_size, path))
    total = sum(size for _u, size, _p in survivors)
    # over the cap: files whose protection ends first go first (periodic runs before annual snapshots)
    for _until, size, path in sorted(survivors, key=lambda item: item[0]):
        if total <= settings.max_total_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size
        deleted += 1
    files, size = archive.usage()
    stamp = now.astimezone(UTC).isoformat()
    try:
        archive._update_usage(lambda _old: {"bytes": size, "files": files, "pruned_at": stamp})
    except OSError as exc:  # a full disk: the next stage prunes again, which is what a full disk needs
        log.warning("archive: could not record the prune: %s", exc)
    log.info("archive prune deleted=%d kept=%d bytes=%d", deleted, files, size)
    return {"deleted": deleted, "kept": files, "bytes": size}


def maybe_prune(store: Store, cfg: AuditConfig, *, now: datetime | None = None) -> dict[str, Any]:
    """:func:`prune` only when the running total exceeds ``archive.max_total_bytes`` or the last prune is older than
    ``archive.prune_interval_hours`` (or unknown); otherwise nothing is scanned. Returns prune's counts, or
    ``{"skipped": True, "bytes": estimate}``."""
    archive = EvidenceArchive.from_config(cfg)
    if archive is None or not archive.root.is_dir():
        return {"skipped": True, "bytes": 0}
    now = now or utcnow()
    state = archive.usage_state()
    estimate = int(state.get("bytes", 0))
    try:
        last = datetime.fromisoformat(str(state["pruned_at"]))
    except (KeyError, ValueError):
        last = None
    due = last is None or now - last >= timedelta(hours=cfg.archive.prune_interval_hours) or last > now
    if not due and estimate <= cfg.archive.max_total_bytes:
        return {"skipped": True, "bytes": estimate}
    return prune(store, cfg, now=now)
