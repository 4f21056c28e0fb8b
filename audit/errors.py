"""One exception hierarchy for the whole service.

    AuditError                      base; ``str(err)`` is a complete, actionable message (Spanish first)
    ├── ConfigError                 config.yaml / flags / input files are wrong (names the key and what is expected)
    ├── PortalError                 the portal could not be used
    │   ├── PortalUnreachable       DNS, connection refused, timeouts after retries
    │   ├── NotCKANError            the URL answers but is not a CKAN Action API
    │   └── PortalResponseError     CKAN answered with an error or a malformed body
    ├── StoreError                  the database cannot be opened, migrated or written
    ├── LockHeldError               another process is auditing the same portal
    └── InputFileError              a commitments / reviews / suite file is malformed

Foreign exceptions (requests, ckanapi, SQLAlchemy, pydantic) are mapped to these at the module boundary
with ``raise ... from exc``; the CLI turns any ``AuditError`` into one message and a non-zero exit code.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class. Keyword-only context is kept for logs and tests."""

    exit_code = 1
    #: the run can be resumed once the cause is gone (portal back, disk freed, workers started): the run is
    #: recorded as «interrupted», not «failed»
    resumable = False

    def __init__(self, message: str, *, hint: str | None = None, **context: object) -> None:
        self.message = message
        self.hint = hint
        self.context = context
        super().__init__(message if not hint else f"{message}\n  → {hint}")


class ConfigError(AuditError):
    exit_code = 2


class InputFileError(AuditError):
    exit_code = 2


class PortalError(AuditError):
    exit_code = 3
    resumable = True


class PortalUnreachable(PortalError):
    pass


class NotCKANError(PortalError):
    pass


class PortalResponseError(PortalError):
    pass


class StoreError(AuditError):
    exit_code = 4


class LockHeldError(AuditError):
    exit_code = 5
