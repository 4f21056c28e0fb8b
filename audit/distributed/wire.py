"""The JSON form of what a task carries: probe requests (with the earlier evidence that makes them conditional)
and content jobs. JSON, not pickle, so a message can be read and cannot carry code."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from audit.content.jobs import Job
from audit.evidence import ProbeEvidence
from audit.probe.client import ProbeRequest

_EVIDENCE_FIELDS = {f.name for f in fields(ProbeEvidence)}
_JOB_FIELDS = {f.name for f in fields(Job)}


def _date(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def evidence_to_json(ev: ProbeEvidence) -> dict[str, Any]:
    out = asdict(ev)
    out["redirects"] = list(ev.redirects)
    out["last_modified"] = ev.last_modified.isoformat() if ev.last_modified else None
    return out


def evidence_from_json(data: dict[str, Any]) -> ProbeEvidence:
    values = {k: v for k, v in data.items() if k in _EVIDENCE_FIELDS}
    values["redirects"] = tuple(values.get("redirects") or ())
    values["last_modified"] = _date(values.get("last_modified"))
    return ProbeEvidence(**values)


def request_to_json(req: ProbeRequest) -> dict[str, Any]:
    return {
        "url": req.url, "key": req.key, "declared_format": req.declared_format, "etag": req.etag,
        "last_modified": req.last_modified.isoformat() if req.last_modified else None,
        "previous": evidence_to_json(req.previous) if req.previous is not None else None,
    }


def request_from_json(data: dict[str, Any]) -> ProbeRequest:
    previous = data.get("previous")
    return ProbeRequest(
        url=data.get("url"), key=data.get("key"), declared_format=data.get("declared_format"),
        etag=data.get("etag"), last_modified=_date(data.get("last_modified")),
        previous=evidence_from_json(previous) if previous else None,
    )


def job_to_json(job: Job) -> dict[str, Any]:
    return asdict(job)


def job_from_json(data: dict[str, Any]) -> Job:
    return Job(**{k: v for k, v in data.items() if k in _JOB_FIELDS})
