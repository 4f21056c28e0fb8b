"""Resource probing stage: what an anonymous citizen gets when downloading each resource.

``client`` does the HTTP work (one aiohttp session, politeness, SSRF guard, byte caps); ``classify`` turns an
exchange into an outcome; ``stage`` reads resources from the store and writes ``Probe`` rows.
"""

from __future__ import annotations

from audit.probe.client import ProbeCrash, Prober, ProbeRequest, fetch_bytes, probe_urls, with_previous
from audit.probe.stage import (
    OUTCOME_LABELS_ES,
    probe_evidence_for_run,
    probe_summary,
    probe_summary_table,
    run_probe_stage,
)

__all__ = [
    "OUTCOME_LABELS_ES",
    "ProbeCrash",
    "ProbeRequest",
    "Prober",
    "fetch_bytes",
    "probe_evidence_for_run",
    "probe_summary",
    "probe_summary_table",
    "probe_urls",
    "run_probe_stage",
    "with_previous",
]
