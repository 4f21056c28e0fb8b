"""Results store: SQLAlchemy 2 models and the database handle (SQLite by default, PostgreSQL in production)."""

from audit.store.db import Store, open_store
from audit.store.models import (
    AuditRun,
    Base,
    CommitmentRecord,
    ContentCheck,
    DatasetSnapshot,
    GroupSnapshot,
    LicenseSnapshot,
    ManualReview,
    OrganizationResult,
    OrganizationSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
    RunError,
)

__all__ = [
    "AuditRun",
    "Base",
    "CommitmentRecord",
    "ContentCheck",
    "DatasetSnapshot",
    "GroupSnapshot",
    "LicenseSnapshot",
    "ManualReview",
    "OrganizationResult",
    "OrganizationSnapshot",
    "Portal",
    "Probe",
    "ResourceSnapshot",
    "RuleResultRecord",
    "RunError",
    "Store",
    "open_store",
]
