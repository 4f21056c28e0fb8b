"""The content stage: download every reachable tabular resource, load it, run the suites, store the evidence.

Work is split in two phases per run: data dictionaries first (their fields become expectations for the
other resources of the same dataset), then everything else. Each resource is one job in a process pool of
``content.workers`` (GX is imported once per worker). A resource whose content hash (the probe's, or the
downloaded bytes') and suite digest match an earlier run's check is not revalidated: the stored result is
copied with ``reused=True``. A hostile or broken file ends as ``parsed_ok=False`` with reason codes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy import delete, select

from audit.archive import EvidenceArchive, maybe_prune
from audit.clock import utcnow
from audit.config import AuditConfig, ContentSettings
from audit.content import expectations as gxsuite
from audit.content import personal
from audit.content.fetch import fetch_bytes_sync
from audit.content.jobs import Job, worker_time_limit
from audit.content.load import TABULAR_TYPES, column_kinds, load_table
from audit.content.pool import WatchedPool
from audit.content.suites import digest, suites_for
from audit.evidence import REACHABLE_OUTCOMES, ContentEvidence
from audit.httppolicy import allow_list
from audit.progress import stage_progress
from audit.sniff import sniff
from audit.store.db import Store
from audit.store.models import (
    AuditRun,
    ContentCheck,
    DatasetSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RunError,
)

log = logging.getLogger(__name__)

#: bumped whenever loading or the built-in checks change what they conclude, so stored results of unchanged files
#: are not reused across such an upgrade (it is part of every check's suite digest)
CHECKER_VERSION = "5"

#: problems that say the check itself did not finish: they say nothing about the file (see content_evidence_for_run)
TOOL_FAILURES = ("check_timeout", "worker_timeout", "worker_crashed", "check_error")
_TOOL_FAILURE_ES = {
    "check_timeout": "La validación del contenido excedió el tiempo por archivo (content.file_timeout_s); revise el archivo a mano.",
    "worker_timeout": "La validación del contenido no respondió y se detuvo su proceso; revise el archivo a mano.",
    "worker_crashed": "El proceso que validaba este archivo terminó de forma inesperada; revise el archivo a mano.",
    "check_error": "Error interno al validar el contenido de este archivo; revise el archivo a mano.",
}
_EVIDENCE_FIELDS = {f.name for f in fields(ContentEvidence)}
_TUPLE_FIELDS = {"empty_columns", "disaggregation_keys", "problems", "sheet_names", "invalid_codes", "personal_data"}


# --------------------------------------------------------------------------- one file → evidence


def check_bytes(
    data: bytes,
    sniffed_type: str,
    *,
    settings: ContentSettings,
    suites: list[dict[str, Any]],
    filename: str | None = None,
    dictionary_fields: list[dict[str, str]] | None = None,
) -> ContentEvidence:
    """Load ``data`` and run the built-in suite, ``suites`` (agency) and the dictionary's expectations."""
    table = load_table(
        data, sniffed_type, max_rows=settings.max_rows, filename=filename,
        max_line_bytes=settings.max_line_bytes, max_unzipped_bytes=settings.max_unzipped_bytes,
    )
    problems = list(table.problems)
    base: dict[str, Any] = {
        "encoding": table.encoding, "delimiter": table.delimiter, "quotechar": table.quotechar,
        "header_row": table.header_row, "sheet_names": tuple(table.sheet_names), "sheet_used": table.sheet_used,
        "kind": table.kind or sniffed_type,
    }
    if not table.parsed_ok:
        return ContentEvidence(parsed_ok=False, problems=tuple(problems), has_header=table.has_header, **base)
    df = table.df
    df.columns = [str(c) for c in df.columns]
    kinds = column_kinds(df, share_min=settings.type_share_min)
    extra = list(suites)
    dict_name = None
    if dictionary_fields:
        dict_name = "diccionario_de_datos"
        extra.append(gxsuite.dictionary_suite(dictionary_fields, df, name=dict_name))
    try:
        results = gxsuite.validate(df, settings=settings, extra_suites=extra, kinds=kinds)
    except Exception as exc:  # GX choking on an odd frame is a finding about this file, not a stage crash
        log.warning("GX validation failed: %r", exc)
        results = {"success": False, "failed": [], "suites": [], "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        problems.append("validation_error")

    # whole-frame facts (GX only sees a bounded sample)
    rows = len(df)
    null_frac = df.isna().mean() if rows else pd.Series(0.0, index=df.columns)
    empty_cols = tuple(c for c in df.columns if rows and null_frac[c] >= 1.0)
    high_null = {c: round(float(null_frac[c]), 4) for c in df.columns if rows and settings.null_share_max < null_frac[c] < 1.0}
    dup_share = duplicate_share(df)
    summary_rows = _count_summary_rows(df, kinds)
    keys = tuple(gxsuite.disaggregation_keys(df, kinds))
    problems.extend(local_format_problems(df, kinds))
    personal_hits = tuple(h.as_dict() for h in personal.scan(df, settings.personal_data))

    builtin: dict[str, Any] = next((s for s in results.get("suites", []) if s.get("name") == "builtin"), {"results": []})
    failed_checks = {(r.get("meta") or {}).get("check"): r for r in builtin.get("results", []) if not r.get("success")}
    type_checks = [r for r in builtin.get("results", []) if (r.get("meta") or {}).get("check") == "type_consistency"]
    type_consistent = not any(not r["success"] for r in type_checks)
    invalid_codes = tuple(
        str(r["kwargs"].get("column")) for r in builtin.get("results", [])
        if (r.get("meta") or {}).get("check") == "inegi_code" and not r.get("success")
    )
    if rows < settings.min_rows:
        problems.append("too_few_rows")
    if empty_cols:
        problems.append("empty_columns")
    if high_null:
        problems.append("high_null_share")
    if dup_share > settings.duplicate_share_max:
        problems.append("duplicate_rows")
    if summary_rows:
        problems.append("summary_rows")
    if not type_consistent:
        problems.append("type_inconsistent")
    if invalid_codes:
        problems.append("invalid_inegi_codes")
    if not keys:
        problems.append("no_disaggregation_keys")
    if "summary_rows" in failed_checks and not summary_rows:
        problems.append("summary_rows")
    agency = [s for s in results.get("suites", []) if s.get("source") == "agency"]
    agency_success = None if not agency else all(s.get("success") for s in agency)
    if agency_success is False:
        problems.append("agency_suite_failed")
    if any(s.get("invalid") for s in agency):
        problems.append("agency_suite_invalid")
    dict_result = next((s for s in results.get("suites", []) if s.get("name") == dict_name), None) if dict_name else None
    dictionary_conformance = None if dict_result is None else bool(dict_result.get("success"))
    if dictionary_conformance is False:
        problems.append("dictionary_mismatch")

    return ContentEvidence(
        parsed_ok=True,
        rows=rows,
        columns=df.shape[1],
        has_header=table.has_header,
        empty_columns=empty_cols,
        summary_rows=summary_rows,
        disaggregation_keys=keys,
        type_consistent=type_consistent,
        problems=tuple(dict.fromkeys(problems)),
        expectations=results,
        dictionary_conformance=dictionary_conformance,
        dtypes={c: str(t) for c, t in df.dtypes.items()},
        column_kinds=kinds,
        null_share=high_null,
        duplicate_share=round(dup_share, 4),
        invalid_codes=invalid_codes,
        agency_success=agency_success,
        sample_rows=results.get("sample_rows"),
        personal_data=personal_hits,
        **base,
    )


_DECIMAL_COMMA = re.compile(r"^\s*-?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+\s*$")


def local_format_problems(df: pd.DataFrame, kinds: dict[str, str], *, sample: int = 2000) -> list[str]:
    """Numbers and dates a program cannot use as such without knowing a convention: Excel serial numbers in a
    date column (45292 = 2024-01-01) and decimal commas («1.234,56»)."""
    out: list[str] = []
    for col in df.columns:
        values = df[col].head(4 * sample).dropna().head(sample)  # a sample: dropna on the whole column copies it
        if not len(values):
            continue
        kind = kinds.get(str(col))
        if kind == "numeric" and gxsuite.is_date_name(str(col)):
            numbers = pd.to_numeric(values, errors="coerce")
            if bool(((numbers >= 20_000) & (numbers <= 80_000) & (numbers % 1 == 0)).mean() >= 0.8):
                out.append("excel_serial_dates")
        elif kind == "text" and values.astype("str").str.match(_DECIMAL_COMMA).mean() >= 0.8:
            out.append("decimal_comma")
    return list(dict.fromkeys(out))


def duplicate_share(df: pd.DataFrame) -> float:
    """Share of rows that repeat an earlier row. Hashing rows to 64 bits first is twice as fast as
    ``DataFrame.duplicated`` on text columns; a collision (odds ≈ rows² / 2⁶⁵) could only overcount by a row."""
    if not len(df) or not df.shape[1]:
        return 0.0
    try:
        if any(pd.api.types.is_object_dtype(dtype) for dtype in df.dtypes):  # mixed cells: hashing would equate 1 and "1"
            return float(df.duplicated().mean())
        return float(pd.util.hash_pandas_object(df, index=False).duplicated().mean())
    except TypeError:  # unhashable cells (lists from JSON records)
        return float(df.astype("str").duplicated().mean())


def _count_summary_rows(df: pd.DataFrame, kinds: dict[str, str]) -> int:
    labels = gxsuite.label_columns(df, kinds)
    return int(gxsuite.summary_mask(df, labels, kinds).sum()) if labels else 0


def evidence_to_dict(ev: ContentEvidence) -> dict[str, Any]:
    d = asdict(ev)
    d.pop("expectations", None)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def evidence_from_row(details: dict[str, Any], expectations: dict[str, Any]) -> ContentEvidence:
    kw = {k: v for k, v in (details or {}).items() if k in _EVIDENCE_FIELDS and k != "expectations"}
    for k in _TUPLE_FIELDS & kw.keys():
        kw[k] = tuple(kw[k] or ())
    kw.setdefault("parsed_ok", False)
    return ContentEvidence(expectations=expectations or {}, **kw)


# --------------------------------------------------------------------------- jobs (run in worker processes)


def _worker_init() -> None:
    # with the fork start method GX arrives already imported from the parent; elsewhere it is imported lazily
    # by the worker's first validation (once per process)
    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)


class _CheckTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a check that runs too long (a hostile file must not stall a worker forever).

    SIGALRM is delivered between Python bytecodes, which covers pandas/GX loops driven from Python; it is only
    available in a process's main thread (pool workers; the CLI when ``content.workers`` is 1).
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _expired(_signum: int, _frame: Any) -> None:
        raise _CheckTimeout()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_job(job: Job, cfg_dump: dict[str, Any]) -> dict[str, Any]:
    cfg = AuditConfig.model_validate(cfg_dump)
    t0 = time.perf_counter()
    c0 = time.process_time()  # CPU of this worker: comparable across runs on a shared machine
    dl = fetch_bytes_sync(
        job.url, http=cfg.http, cap=cfg.probe.download_cap_bytes, allow_hosts=allow_list(cfg),
        max_redirects=cfg.probe.max_redirects, verify_tls=cfg.probe.verify_tls,
    )
    out: dict[str, Any] = {"id": job.resource_snapshot_id, "sha256": dl.sha256, "bytes": len(dl.data),
                           "download_ms": round(dl.elapsed_ms, 1), "truncated": dl.truncated}
    if not dl.ok:
        out["download_error"] = dl.error
        out["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    # the server may answer this second download with an error page where the probe got the file: that says
    # nothing about the file, so it is a failed download, not an unreadable CSV
    got = sniff(dl.data[: cfg.probe.sniff_bytes], truncated=len(dl.data) > cfg.probe.sniff_bytes).type
    if got == "html" and job.sniffed_type != "html":
        out["download_error"] = "html_instead_of_file"
        out["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    archive = EvidenceArchive.from_config(cfg)
    if archive is not None:  # before the reuse shortcut: an unchanged file is stored once, referenced again
        out["archive"] = archive.put(dl.data, dl.sha256)
    regenerated = _regenerated(job, dl.data)
    if job.previous_sha256 and dl.sha256 == job.previous_sha256 and not regenerated:
        out["reuse"] = True
        out["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    filename = urlsplit(dl.final_url or job.url).path.rsplit("/", 1)[-1] or None
    try:
        with _time_limit(cfg.content.file_timeout_s):
            ev = check_bytes(dl.data, job.sniffed_type, settings=cfg.content, suites=job.suites, filename=filename,
                             dictionary_fields=job.dictionary_fields)
        if job.is_dictionary:  # documentation, not records: record-level (primarios) codes do not apply
            ev = ContentEvidence(**{**{f: getattr(ev, f) for f in _EVIDENCE_FIELDS},
                                    "problems": tuple(p for p in ev.problems if p != "no_disaggregation_keys")})
        if dl.truncated:
            ev = ContentEvidence(**{**{f: getattr(ev, f) for f in _EVIDENCE_FIELDS},
                                    "problems": tuple(dict.fromkeys((*ev.problems, "download_truncated")))})
    except _CheckTimeout:
        log.warning("content check of %s exceeded %.0f s", job.url, cfg.content.file_timeout_s)
        ev = ContentEvidence(parsed_ok=False, problems=("check_timeout",))
    except Exception as exc:  # last line of defence: the stage goes on
        log.warning("content check crashed for %s: %r", job.url, exc)
        ev = ContentEvidence(parsed_ok=False, problems=("check_error", f"exception:{type(exc).__name__}"))
    out["evidence"] = {**evidence_to_dict(ev), "regenerated": regenerated}
    out["expectations"] = ev.expectations
    if job.is_dictionary and ev.parsed_ok:
        table = load_table(dl.data, job.sniffed_type, max_rows=5000, filename=filename)
        out["dictionary_fields"] = gxsuite.parse_dictionary(table.df) if table.parsed_ok else []
    out["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    out["cpu_ms"] = round((time.process_time() - c0) * 1000, 1)
    return out


def _regenerated(job: Job, data: bytes) -> bool | None:
    """Whether the file changed between the probe and this download minutes later: the same leading bytes the
    probe read hash differently. None when it cannot be told (no probe hash, or a shorter download)."""
    if not job.probe_sha256 or not job.probe_bytes or len(data) < job.probe_bytes:
        return None
    return hashlib.sha256(data[: job.probe_bytes]).hexdigest() != job.probe_sha256


# --------------------------------------------------------------------------- planning


def _is_dictionary(name: str | None, words: list[str]) -> bool:
    text = gxsuite.norm(name or "")
    return any(gxsuite.norm(w) in text for w in words)


def _plan(store: Store, run_id: int, cfg: AuditConfig, resume: bool) -> tuple[list[Job], dict[int, dict[str, Any]], int, list[str]]:
    """Jobs to run, reusable earlier checks by resource id, already-done count, suite errors."""
    settings = cfg.content
    with store.session() as s:
        rows = s.execute(
            select(ResourceSnapshot, Probe, DatasetSnapshot)
            .join(Probe, (Probe.resource_snapshot_id == ResourceSnapshot.id) & (Probe.run_id == run_id))
            .join(DatasetSnapshot, DatasetSnapshot.id == ResourceSnapshot.dataset_snapshot_id)
            .where(ResourceSnapshot.run_id == run_id)
            .order_by(ResourceSnapshot.id)
        ).all()
        done = set()
        if resume:
            done = set(s.scalars(select(ContentCheck.resource_snapshot_id).where(ContentCheck.run_id == run_id)))
        candidates = [
            (r, p, d) for r, p, d in rows
            if p.outcome in REACHABLE_OUTCOMES and (p.sniffed_type or "").lower() in TABULAR_TYPES
        ]
        # earlier checks of the same resources (by CKAN id, else URL), newest first
        ckan_ids = [r.ckan_id for r, _, _ in candidates if r.ckan_id]
        urls = [r.url for r, _, _ in candidates if not r.ckan_id and r.url]
        previous: dict[str, ContentCheck] = {}
        conds: list[Any] = [ResourceSnapshot.ckan_id.in_(ckan_ids[i : i + 500]) for i in range(0, len(ckan_ids), 500)]
        conds += [ResourceSnapshot.url.in_(urls[i : i + 500]) & ResourceSnapshot.ckan_id.is_(None)
                  for i in range(0, len(urls), 500)]
        for cond in conds:
            for check, rid_ckan, rurl in s.execute(
                select(ContentCheck, ResourceSnapshot.ckan_id, ResourceSnapshot.url)
                .join(ResourceSnapshot, ResourceSnapshot.id == ContentCheck.resource_snapshot_id)
                .where(ContentCheck.run_id < run_id, cond)
                .order_by(ContentCheck.run_id.desc())
            ):
                key = rid_ckan or f"url:{rurl}"
                previous.setdefault(key, check)
        s.expunge_all()

    builtin_digest = digest({"checker": CHECKER_VERSION,
                             **{k: v for k, v in settings.model_dump().items() if k not in ("workers", "enabled")}})
    dictionaries: dict[int, list[int]] = {}
    for r, _p, d in candidates:
        if _is_dictionary(r.name, settings.dictionary_words):
            dictionaries.setdefault(d.id, []).append(r.id)
    dict_hash = {r.id: p.sha256 for r, p, _ in candidates}

    jobs: list[Job] = []
    reuse: dict[int, dict[str, Any]] = {}
    suite_errors: list[str] = []
    for r, p, d in candidates:
        is_dict = r.id in dictionaries.get(d.id, [])
        suites, errors = suites_for(settings.suites_dir, d.name, r.name, r.ckan_id, dataset_wide=not is_dict)
        suite_errors.extend(errors)
        dict_key = [] if is_dict else sorted(str(dict_hash.get(i)) for i in dictionaries.get(d.id, []))
        sdigest = digest([builtin_digest, suites, dict_key])
        prev = previous.get(r.ckan_id or f"url:{r.url}")
        prev_ok = (prev is not None and (prev.details or {}).get("suite_digest") == sdigest
                   and "download_failed" not in ((prev.details or {}).get("problems") or []))
        if r.id in done:
            continue
        # the probe hashes only what it read (capped): its hash stands for the file only when not truncated
        validators = _validators(p)
        same_probe = prev is not None and _unchanged(validators, (prev.details or {}).get("probe_validators") or {},
                                                     (prev.details or {}).get("probe_sha256"))
        if prev_ok and prev is not None and (p.not_modified or same_probe):
            reuse[r.id] = {"check": prev, "probe_sha256": p.sha256, "probe_validators": validators}
            continue
        jobs.append(Job(
            resource_snapshot_id=r.id, url=p.final_url or r.url or "", sniffed_type=(p.sniffed_type or "").lower(),
            dataset_name=d.name, resource_name=r.name, probe_sha256=p.sha256, suite_digest=sdigest, suites=suites,
            probe_validators=validators,
            is_dictionary=is_dict, previous_sha256=prev.sha256 if prev_ok and prev is not None else None,
            previous_check_id=prev.id if prev_ok and prev is not None else None, dataset_snapshot_id=d.id,
            probe_bytes=None if p.not_modified else p.bytes_read,
        ))
    return jobs, reuse, len(done), suite_errors


def _validators(p: Probe) -> dict[str, Any]:
    """What the probe saw of the file: hash of what it read, whether that was all, and HTTP validators."""
    return {
        "sha256": p.sha256, "truncated": bool(p.truncated), "etag": p.etag,
        "last_modified": p.last_modified.isoformat() if p.last_modified else None,
        "content_length": p.content_length,
    }


def _unchanged(now: dict[str, Any], before: dict[str, Any], before_sha: str | None) -> bool:
    """Is the file the same as when it was last checked, judging only from the probes (no download)?

    The probe hashes at most ``probe.sniff_bytes``: a whole-file hash decides alone; a truncated one counts only
    together with an equal strong ETag, or an equal Last-Modified and Content-Length.
    """
    sha = now.get("sha256")
    if not sha or sha != (before.get("sha256") or before_sha):
        return False
    if not now.get("truncated"):
        return True
    etag = now.get("etag")
    if etag and not str(etag).startswith("W/") and etag == before.get("etag"):
        return True
    return bool(now.get("last_modified") and now.get("content_length")
                and now.get("last_modified") == before.get("last_modified")
                and now.get("content_length") == before.get("content_length"))


# --------------------------------------------------------------------------- the stage


def _copy_check(prev: ContentCheck, run_id: int, resource_snapshot_id: int, probe_sha256: str | None,
                validators: dict[str, Any] | None = None) -> ContentCheck:
    details = dict(prev.details or {})
    details["reused_from_run"] = prev.run_id
    if isinstance(details.get("archive"), dict):  # the same stored file, referenced again (not stored by this run)
        details["archive"] = {k: v for k, v in details["archive"].items() if k not in ("new", "ms")}
    if probe_sha256:
        details["probe_sha256"] = probe_sha256
    if validators:
        details["probe_validators"] = validators
    return ContentCheck(
        run_id=run_id, resource_snapshot_id=resource_snapshot_id, sha256=prev.sha256, parsed_ok=prev.parsed_ok,
        reused=True, rows=prev.rows, columns=prev.columns, encoding=prev.encoding, delimiter=prev.delimiter,
        details=details, expectations=prev.expectations or {}, checked_at=utcnow(),
    )


def _json_safe(obj: Any) -> Any:
    """NaN/Infinity are not JSON (PostgreSQL rejects them) and numpy scalars are not serialisable."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    if hasattr(obj, "item"):  # numpy scalar
        return _json_safe(obj.item())
    return str(obj)


def _record(run_id: int, job: Job, out: dict[str, Any]) -> ContentCheck:
    ev = out.get("evidence")
    details: dict[str, Any]
    if ev is None:  # download failed although the probe reached it: not the file's fault, say so
        reason = out.get("download_error") or out.get("error") or "unknown"
        ev_obj = ContentEvidence(parsed_ok=False, problems=("download_failed", f"download_{reason}"))
        details = evidence_to_dict(ev_obj)
        expectations: dict[str, Any] = {}
    else:
        details = dict(ev)
        expectations = out.get("expectations") or {}
    details.update(
        probe_sha256=job.probe_sha256, probe_validators=job.probe_validators, suite_digest=job.suite_digest,
        bytes=out.get("bytes"),
        truncated=out.get("truncated"), elapsed_ms=out.get("total_ms"), download_ms=out.get("download_ms"),
        cpu_ms=out.get("cpu_ms"),
        is_dictionary=job.is_dictionary,
    )
    if "dictionary_fields" in out:
        details["dictionary_fields"] = out["dictionary_fields"]
    if "archive" in out:
        details["archive"] = out["archive"]
    return ContentCheck(
        run_id=run_id, resource_snapshot_id=job.resource_snapshot_id, sha256=out.get("sha256"),
        parsed_ok=bool(details.get("parsed_ok")), reused=False, rows=details.get("rows"), columns=details.get("columns"),
        encoding=(details.get("encoding") or None), delimiter=(details.get("delimiter") or None),
        details=_json_safe(details), expectations=_json_safe(expectations), checked_at=utcnow(),
    )


def _error_result(job: Job, error: str, problem: str) -> dict[str, Any]:
    return {"id": job.resource_snapshot_id, "error": error,
            "evidence": evidence_to_dict(ContentEvidence(parsed_ok=False, problems=(problem,)))}


def _lost(job: Job, reason: str) -> dict[str, Any]:
    return _error_result(job, reason, reason)


def _safe(job: Job, cfg_dump: dict[str, Any]) -> dict[str, Any]:
    try:
        return _run_job(job, cfg_dump)
    except Exception as exc:
        return _error_result(job, type(exc).__name__, "check_error")


def run_content_stage(store: Store, run_id: int, cfg: AuditConfig, *, resume: bool = True) -> dict[str, int]:
    """Validate the content of every reachable tabular resource of ``run_id``; returns counts."""
    counts = {"candidates": 0, "checked": 0, "reused": 0, "parsed_ok": 0, "failed": 0, "download_failed": 0,
              "already_done": 0, "suite_errors": 0}
    if not cfg.content.enabled:
        return counts
    cfg = _with_portal_host(store, run_id, cfg)
    if not resume:
        with store.session() as s:
            s.execute(delete(ContentCheck).where(ContentCheck.run_id == run_id))
    jobs, reuse, already, suite_errors = _plan(store, run_id, cfg, resume)
    counts["already_done"] = already
    counts["candidates"] = len(jobs) + len(reuse) + already
    counts["suite_errors"] = len(suite_errors)
    with store.session() as s:
        for msg in dict.fromkeys(suite_errors):
            s.add(RunError(run_id=run_id, stage="content", subject=cfg.content.suites_dir, code="suite_invalid",
                           message=msg, created_at=utcnow()))
        for rid, item in reuse.items():
            s.add(_copy_check(item["check"], run_id, rid, item["probe_sha256"], item["probe_validators"]))
            counts["reused"] += 1
            counts["parsed_ok" if item["check"].parsed_ok else "failed"] += 1

    if cfg.execution.backend == "distributed":  # one file per task on the workers, which store the rows
        from audit.distributed.coordinator import run_content_distributed

        for phase in _phases(store, run_id, jobs):
            run_content_distributed(store, run_id, cfg, phase, counts)
        jobs = []
    if jobs:
        # import GX once here: forked workers (and replacements after a crash) inherit it instead of paying
        # seconds each
        gxsuite.warm_up()
    cfg_dump = cfg.model_dump(mode="json")
    pool: WatchedPool[Job, dict[str, Any]] = WatchedPool(
        functools.partial(_safe, cfg_dump=cfg_dump), workers=cfg.content.workers,
        time_limit_s=worker_time_limit(cfg), on_lost=_lost, initializer=_worker_init,
    )
    with stage_progress("Validando contenido", total=len(jobs)) as advance, pool:
        for phase in _phases(store, run_id, jobs):
            batch: list[tuple[Job, dict[str, Any]]] = []
            for job, out in pool.map(phase):
                batch.append((job, out))
                advance(1)
                if len(batch) >= 25:
                    _flush(store, run_id, batch, counts)
                    batch = []
            _flush(store, run_id, batch, counts)
    if cfg.archive.enabled:  # a full prune only over the cap or once per archive.prune_interval_hours
        counts["archive_deleted"] = int(maybe_prune(store, cfg).get("deleted", 0))
    log.info("content stage run=%d counts=%s", run_id, counts)
    return counts


def _phases(store: Store, run_id: int, jobs: list[Job]) -> Iterator[list[Job]]:
    """Data dictionaries first; the other files then get the fields of their dataset's dictionary."""
    dict_jobs = [j for j in jobs if j.is_dictionary]
    data_jobs = [j for j in jobs if not j.is_dictionary]
    if dict_jobs:
        yield dict_jobs
    if data_jobs:
        fields_by_dataset = _dictionary_fields(store, run_id)
        for j in data_jobs:
            j.dictionary_fields = fields_by_dataset.get(j.dataset_snapshot_id or -1)
        yield data_jobs


def _flush(store: Store, run_id: int, batch: list[tuple[Job, dict[str, Any]]], counts: dict[str, int]) -> None:
    if not batch:
        return
    with store.session() as s:
        for job, out in batch:
            if out.get("reuse"):
                prev = s.get(ContentCheck, job.previous_check_id) if job.previous_check_id else None
                if prev is not None:
                    copy = _copy_check(prev, run_id, job.resource_snapshot_id, job.probe_sha256, job.probe_validators)
                    if "archive" in out:
                        copy.details = {**copy.details, "archive": out["archive"]}
                    s.add(copy)
                    counts["reused"] += 1
                    counts["parsed_ok" if prev.parsed_ok else "failed"] += 1
                    continue
                out = {**out, "download_error": "reuse_lookup_failed"}
            check = _record(run_id, job, out)
            s.add(check)
            counts["checked"] += 1
            if out.get("download_error"):
                counts["download_failed"] += 1
                s.add(RunError(run_id=run_id, stage="content", subject=job.url[:500], code="download_failed",
                               message=f"No se pudo descargar para validar el contenido: {out['download_error']}",
                               created_at=utcnow()))
            counts["parsed_ok" if check.parsed_ok else "failed"] += 1
            failure = next((p for p in (check.details or {}).get("problems") or [] if p in TOOL_FAILURES), None)
            if failure:
                s.add(RunError(run_id=run_id, stage="content", subject=job.url[:500], code=failure,
                               message=_TOOL_FAILURE_ES[failure], created_at=utcnow()))


def _dictionary_fields(store: Store, run_id: int) -> dict[int, list[dict[str, str]]]:
    """dataset_snapshot_id → fields parsed from its data dictionary (this run's checks, reused or not)."""
    out: dict[int, list[dict[str, str]]] = {}
    with store.session() as s:
        for details, ds_id in s.execute(
            select(ContentCheck.details, ResourceSnapshot.dataset_snapshot_id)
            .join(ResourceSnapshot, ResourceSnapshot.id == ContentCheck.resource_snapshot_id)
            .where(ContentCheck.run_id == run_id)
        ):
            if details and details.get("is_dictionary") and details.get("dictionary_fields"):
                out.setdefault(ds_id, []).extend(details["dictionary_fields"])
    return out


def _with_portal_host(store: Store, run_id: int, cfg: AuditConfig) -> AuditConfig:
    """The run's portal host is always allowed (files served next to the API, e.g. the sample portal)."""
    with store.session() as s:
        url = s.scalar(select(Portal.url).join(AuditRun, AuditRun.portal_id == Portal.id).where(AuditRun.id == run_id))
    host = urlsplit(url).hostname if url else None
    if not host or host in cfg.probe.allow_hosts:
        return cfg
    probe = cfg.probe.model_copy(update={"allow_hosts": [*cfg.probe.allow_hosts, host]})
    return cfg.model_copy(update={"probe": probe})


def content_evidence_for_run(store: Store, run_id: int) -> dict[int, ContentEvidence]:
    """resource_snapshot_id → ContentEvidence for every content check of ``run_id`` (what scoring uses).

    A check whose download failed says nothing about the file itself (the probe evidence already tells whether
    it is reachable), and neither does a check that timed out or crashed (recorded as a run error for a manual
    look): both are left out rather than reported to the rules as "could not be parsed".
    """
    with store.session() as s:
        out = {
            rid: evidence_from_row(details, expectations)
            for rid, details, expectations in s.execute(
                select(ContentCheck.resource_snapshot_id, ContentCheck.details, ContentCheck.expectations)
                .where(ContentCheck.run_id == run_id)
            )
        }
    return {rid: ev for rid, ev in out.items()
            if "download_failed" not in ev.problems and not set(ev.problems) & set(TOOL_FAILURES)}
