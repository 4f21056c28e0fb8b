"""Every resource of the embedded sample portal gets the outcome the portal's author planted."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest

from audit.config import AuditConfig
from audit.evidence import ProbeEvidence
from audit.probe import ProbeRequest, probe_urls


def test_probe_every_sample_portal_resource_matches_expected_outcomes(sample_portal: Any) -> None:
    from audit.sample_portal import EXPECTED_PROBE_OUTCOMES

    # EXPECTED_PROBE_OUTCOMES: URL path (portal files/faults) or full URL (other hosts) → outcome.
    expected: dict[str, str] = dict(EXPECTED_PROBE_OUTCOMES) or dict(
        getattr(sample_portal.catalog, "probe_outcomes", {})
    )
    if not expected:
        pytest.skip("the sample portal does not publish expected probe outcomes yet")
    cfg = AuditConfig.model_validate({"http": {"retries": 1, "backoff_base_s": 0.01, "total_timeout_s": 10}})
    reqs = [
        ProbeRequest(r.get("url"), key=(pkg["name"], i), declared_format=r.get("format"))
        for pkg in sample_portal.catalog.iter_datasets()
        for i, r in enumerate(pkg.get("resources", []))
    ]

    async def go() -> list[tuple[ProbeRequest, ProbeEvidence]]:
        host = urlsplit(sample_portal.url).hostname
        return [item async for item in probe_urls(reqs, cfg, allow_hosts=[host])]

    results = asyncio.run(go())
    assert len(results) == len(reqs)
    mismatches = []
    for req, ev in results:
        url = req.url or ""
        key = urlsplit(url).path if url.startswith(sample_portal.url) else url
        want = expected.get(key, expected.get(url, "ok"))
        if ev.outcome != want:
            mismatches.append(f"{url!r}: expected {want}, got {ev.outcome} ({ev.reason})")
        if ev.outcome == "ok":
            assert ev.sniffed_type not in (None, "unknown"), url
    assert not mismatches, "\n".join(mismatches)
