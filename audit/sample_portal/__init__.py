"""Embedded sample CKAN portal: the Estado de México catalogue with planted defects, or N synthetic datasets.

Public API (tests, the demo and the benchmarks code against exactly this)::

    from audit.sample_portal import SamplePortal, build_edomex_catalog, EXPECTED, EXPECTED_PROBE_OUTCOMES
    from audit.sample_portal import DEMO_COMMITMENTS_CSV, EXPECTED_PROGRESS   # demo commitments inventory
    from audit.sample_portal import DEMO_SUITE_JSON, DEMO_SUITE_DATASET        # demo agency suite
    with SamplePortal() as portal:       # or SamplePortal(synthetic=10_000, port=5000, token="…")
        portal.url, portal.catalog, portal.calls, portal.token, portal.faults
"""

from __future__ import annotations

from audit.sample_portal.catalog import Catalog, ServedFile
from audit.sample_portal.commitments import (
    DEMO_COMMITMENTS_CSV,
    EXPECTED_PROGRESS,
    EXPECTED_UNMATCHED,
    demo_commitments_csv,
)
from audit.sample_portal.demo_suite import (
    DEMO_SUITE,
    DEMO_SUITE_DATASET,
    DEMO_SUITE_FILE,
    DEMO_SUITE_JSON,
    DEMO_SUITE_ORGANIZATION,
    DEMO_SUITE_RESOURCE,
)
from audit.sample_portal.edomex import EMPTY_ORGANIZATION, build_edomex_catalog
from audit.sample_portal.expected import EXPECTED, EXPECTED_PROBE_OUTCOMES
from audit.sample_portal.server import Fault, Faults, SamplePortal

__all__ = [
    "DEMO_COMMITMENTS_CSV",
    "EXPECTED_PROGRESS",
    "EXPECTED_UNMATCHED",
    "demo_commitments_csv",
    "DEMO_SUITE",
    "DEMO_SUITE_DATASET",
    "DEMO_SUITE_FILE",
    "DEMO_SUITE_JSON",
    "DEMO_SUITE_ORGANIZATION",
    "DEMO_SUITE_RESOURCE",
    "EMPTY_ORGANIZATION",
    "EXPECTED",
    "EXPECTED_PROBE_OUTCOMES",
    "Catalog",
    "Fault",
    "Faults",
    "SamplePortal",
    "ServedFile",
    "build_edomex_catalog",
]
