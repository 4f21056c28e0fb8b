"""Placeholder, filled below."""
from __future__ import annotations

EXPECTED: dict[str, dict[str, str]] = {}
EXPECTED_PROBE_OUTCOMES: dict[str, str] = {}
