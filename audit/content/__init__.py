"""Content validation: load tabular resources and check them with Great Expectations.

Public API: :func:`load_table`, :func:`validate`, :func:`check_bytes`, :func:`run_content_stage`,
:func:`content_evidence_for_run`. GX itself is imported lazily (it takes seconds), never at package import.
"""

from __future__ import annotations

from audit.content.expectations import validate
from audit.content.load import LoadedTable, load_table
from audit.content.stage import check_bytes, content_evidence_for_run, run_content_stage

__all__ = ["LoadedTable", "check_bytes", "content_evidence_for_run", "load_table", "run_content_stage", "validate"]
