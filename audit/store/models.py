"""Database records. History is never deleted: every audit invocation is an AuditRun and every stage writes
rows keyed by the run, so any stage can be re-run alone and the history rules can look back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Portal(Base):
    __tablename__ = "portal"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    ckan_version: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime]


class AuditRun(Base):
    """One invocation. status: running | interrupted | complete | failed."""

    __tablename__ = "audit_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portal.id"), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    stage: Mapped[str | None] = mapped_column(String(20))  # last stage reached: crawl, probe, content, score …
    stages_done: Mapped[list[Any]] = mapped_column(default=list)
    year: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(20), default="manual")  # manual | periodic | annual | demo
    config_digest: Mapped[str | None] = mapped_column(String(32))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # datasets, resources, errors …
    crawl_state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # resume cursor
    error: Mapped[str | None] = mapped_column(Text)
    output_dir: Mapped[str | None] = mapped_column(String(1000))  # OUT/<year> where exports/reports were written
    portal: Mapped[Portal] = relationship()


class OrganizationSnapshot(Base):
    __tablename__ = "organization_snapshot"
    __table_args__ = (UniqueConstraint("run_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    ckan_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    package_count: Mapped[int | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)


class GroupSnapshot(Base):
    __tablename__ = "group_snapshot"
    __table_args__ = (UniqueConstraint("run_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    ckan_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    package_count: Mapped[int | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LicenseSnapshot(Base):
    __tablename__ = "license_snapshot"
    __table_args__ = (UniqueConstraint("run_id", "license_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    license_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(1000))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DatasetSnapshot(Base):
    """A dataset as listed in one run. presence: listed | retired (seen before, absent now; added by scoring)."""

    __tablename__ = "dataset_snapshot"
    __table_args__ = (
        UniqueConstraint("run_id", "ckan_id"),
        Index("ix_dataset_snapshot_run_org", "run_id", "organization_name"),
        Index("ix_dataset_snapshot_name", "name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    ckan_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    organization_name: Mapped[str | None] = mapped_column(String(200))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str | None] = mapped_column(String(30))
    presence: Mapped[str] = mapped_column(String(20), default="listed")
    license_id: Mapped[str | None] = mapped_column(String(200))
    metadata_created: Mapped[datetime | None]
    metadata_modified: Mapped[datetime | None]
    num_resources: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resources: Mapped[list[ResourceSnapshot]] = relationship(
        back_populates="dataset", order_by="ResourceSnapshot.position", cascade="all, delete-orphan"
    )


class ResourceSnapshot(Base):
    __tablename__ = "resource_snapshot"
    __table_args__ = (UniqueConstraint("dataset_snapshot_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    dataset_snapshot_id: Mapped[int] = mapped_column(ForeignKey("dataset_snapshot.id", ondelete="CASCADE"), index=True)
    ckan_id: Mapped[str | None] = mapped_column(String(100), index=True)
    position: Mapped[int]
    name: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str | None] = mapped_column(String(100))
    last_modified: Mapped[datetime | None]
    created: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dataset: Mapped[DatasetSnapshot] = relationship(back_populates="resources")


class RunError(Base):
    """Something that went wrong for one item; the stage went on (collect, don't crash)."""

    __tablename__ = "run_error"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(500))  # dataset / resource / organization concerned
    code: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Probe(Base):
    __tablename__ = "probe"
    __table_args__ = (UniqueConstraint("run_id", "resource_snapshot_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    resource_snapshot_id: Mapped[int] = mapped_column(ForeignKey("resource_snapshot.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(30), index=True)
    reason: Mapped[str | None] = mapped_column(String(100))
    status_code: Mapped[int | None]
    final_url: Mapped[str | None] = mapped_column(Text)
    redirects: Mapped[list[Any]] = mapped_column(default=list)
    content_type: Mapped[str | None] = mapped_column(String(300))
    content_length: Mapped[int | None]
    content_disposition: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(String(300))
    sniffed_type: Mapped[str | None] = mapped_column(String(30))
    sniffed_detail: Mapped[str | None] = mapped_column(Text)
    encoding: Mapped[str | None] = mapped_column(String(50))
    bytes_read: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str | None] = mapped_column(String(64))
    elapsed_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime]


class ContentCheck(Base):
    __tablename__ = "content_check"
    __table_args__ = (UniqueConstraint("run_id", "resource_snapshot_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    resource_snapshot_id: Mapped[int] = mapped_column(ForeignKey("resource_snapshot.id", ondelete="CASCADE"))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    parsed_ok: Mapped[bool] = mapped_column(Boolean)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)  # copied from an earlier run (same hash)
    rows: Mapped[int | None]
    columns: Mapped[int | None]
    encoding: Mapped[str | None] = mapped_column(String(50))
    delimiter: Mapped[str | None] = mapped_column(String(5))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # ContentEvidence fields, sheets, dtypes …
    expectations: Mapped[dict[str, Any]] = mapped_column(default=dict)  # GX summary
    checked_at: Mapped[datetime]


class RuleResultRecord(Base):
    __tablename__ = "rule_result"
    __table_args__ = (
        UniqueConstraint("run_id", "dataset_snapshot_id", "characteristic"),
        Index("ix_rule_result_run_char", "run_id", "characteristic", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    dataset_snapshot_id: Mapped[int] = mapped_column(ForeignKey("dataset_snapshot.id", ondelete="CASCADE"), index=True)
    characteristic: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    findings: Mapped[list[Any]] = mapped_column(default=list)  # Finding.as_dict() items
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    automatic_status: Mapped[str | None] = mapped_column(String(20))  # before a manual review overrode it
    manual_review_id: Mapped[int | None] = mapped_column(ForeignKey("manual_review.id"))
    error: Mapped[str | None] = mapped_column(Text)  # the rule crashed; status is not_applicable


class ManualReview(Base):
    """An evaluator's override; kept across runs and applied to every later run until superseded."""

    __tablename__ = "manual_review"
    __table_args__ = (UniqueConstraint("portal_id", "dataset_name", "characteristic", "review_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portal.id"), index=True)
    dataset_name: Mapped[str] = mapped_column(String(200))
    characteristic: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    justification: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    review_date: Mapped[date] = mapped_column(Date)
    loaded_at: Mapped[datetime]


class CommitmentRecord(Base):
    """A row of the commitments inventory as evaluated in one run."""

    __tablename__ = "commitment"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    organization_key: Mapped[str] = mapped_column(String(500))
    dataset_key: Mapped[str] = mapped_column(String(500))
    due_date: Mapped[date] = mapped_column(Date)
    organization_name: Mapped[str | None] = mapped_column(String(200))  # resolved CKAN name
    matched_dataset: Mapped[str | None] = mapped_column(String(200))
    committed: Mapped[bool] = mapped_column(Boolean)  # due on or before the cut-off
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    conforme: Mapped[bool] = mapped_column(Boolean, default=False)


class OrganizationResult(Base):
    """Per-organization aggregate of one run (what organizations.csv holds)."""

    __tablename__ = "organization_result"
    __table_args__ = (UniqueConstraint("run_id", "organization_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    organization_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    datasets: Mapped[int]
    score: Mapped[float | None] = mapped_column(Float)
    conformes: Mapped[int]
    characteristic_pct: Mapped[dict[str, Any]] = mapped_column(default=dict)
    committed: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[int] = mapped_column(Integer, default=0)
    progress_pct: Mapped[float | None] = mapped_column(Float)
    quality_progress_pct: Mapped[float | None] = mapped_column(Float)


class AuditLock(Base):
    """Who is auditing a portal right now (audit.locking). On SQLite this row IS the lock (with an expiry);
    on PostgreSQL the lock is an advisory lock and this row only tells the loser who holds it."""

    __tablename__ = "audit_lock"
    portal_url: Mapped[str] = mapped_column(String(500), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))  # random per acquisition: only the owner releases it
    holder: Mapped[str] = mapped_column(String(300))
    pid: Mapped[int]
    hostname: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    heartbeat: Mapped[datetime]


class AdminLogEntry(Base):
    """Who did what in the dashboard's admin area (start an audit, upload a file, regenerate reports)."""

    __tablename__ = "admin_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))  # ok | rejected | error | started
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    client: Mapped[str | None] = mapped_column(String(100))  # remote address


class AdminSession(Base):
    """A signed-in admin session, so logging out ends it on the server (the cookie alone is not enough)."""

    __tablename__ = "admin_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's random id
    user: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class AlertDelivery(Base):
    """The change digest of one organization after one audit (audit.alerts). The row is written *before* sending
    (status ``sending``) and updated after, so a restart never sends a digest twice: only ``failed`` rows are
    retried. ``organization_name`` is "" for the evaluators' portal digest; ``recipient`` lists its addresses."""

    __tablename__ = "alert_delivery"
    __table_args__ = (UniqueConstraint("run_id", "organization_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    organization_name: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))  # sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300))
    changes: Mapped[int] = mapped_column(Integer, default=0)  # items in the digest
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class DatasetDemand(Base):
    """Usage a portal reports for a dataset in one run (CKAN tracking_summary, or view/download extras)."""

    __tablename__ = "dataset_demand"
    __table_args__ = (UniqueConstraint("run_id", "dataset_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id"), index=True)
    dataset_name: Mapped[str] = mapped_column(String(200))
    views_total: Mapped[int | None]
    views_recent: Mapped[int | None]
    downloads: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(50))  # tracking_summary | extras:<key>
