"""What the content stage hands to a worker: one file to check (:class:`Job`) and how long it may take.

Apart from the stage itself so the distributed coordinator and its wire format can name them without importing
the stage, which hands work to that coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.config import AuditConfig


@dataclass
class Job:
    resource_snapshot_id: int
    url: str
    sniffed_type: str
    dataset_name: str
    resource_name: str | None
    probe_sha256: str | None
    suite_digest: str
    suites: list[dict[str, Any]] = field(default_factory=list)
    is_dictionary: bool = False
    dictionary_fields: list[dict[str, str]] | None = None
    previous_sha256: str | None = None  # content hash of the reusable earlier check (if the probe hash differed)
    previous_check_id: int | None = None
    probe_validators: dict[str, Any] = field(default_factory=dict)
    dataset_snapshot_id: int | None = None
    probe_bytes: int | None = None  # bytes the probe hashed (None: its hash was carried over by a 304)


def worker_time_limit(cfg: AuditConfig) -> float:
    """How long one job may hold a worker before the parent kills it: the download's own deadline (plus one
    read timeout: the deadline is checked between chunks), the per-file check limit, and a grace period for a
    check that the alarm did stop to report it."""
    return cfg.http.total_timeout_s + cfg.http.read_timeout_s + cfg.content.file_timeout_s + 5.0
