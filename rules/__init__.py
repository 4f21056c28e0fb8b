"""The ten characteristics of open data (LGTAIP art. 3 fr. VI), one module each."""

from __future__ import annotations

from typing import Any

CHARACTERISTICS: tuple[str, ...] = (
    "accesibles",
    "integrales",
    "gratuitos",
    "no_discriminatorios",
    "oportunos",
    "permanentes",
    "primarios",
    "legibles_por_maquinas",
    "formatos_abiertos",
    "libre_uso",
)


def validate_params(rules_section: dict[str, Any], source: str) -> None:
    """Validate ``config.yaml``'s ``rules:`` block (filled in by the rules registry)."""
    return None
