"""Generate docs/configuration.md from the config models (a test keeps it up to date).

    python -m audit.config_docs > docs/configuration.md
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from audit.config import AuditConfig


def _rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and ann.model_fields:
            rows.extend(_rows(ann, key + "."))
            continue
        default: Any = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel) or (
                isinstance(default, dict) and any(isinstance(v, BaseModel) for v in default.values())):
            default = "{…}"
        elif isinstance(default, str) and len(default) > 70:
            default = default[:60] + "…"
        type_name = getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
        rows.append((key, type_name, repr(default) if default != {} else "{}", field.description or ""))
    return rows


def render() -> str:
    lines = [
        "# Configuración (`config.yaml`)",
        "",
        "Generado desde `audit/config.py` con `python -m audit.config_docs`; no lo edite a mano.",
        "Las opciones de la línea de comandos (`--db`, `--portal`, `--out`) tienen prioridad sobre el archivo.",
        "Secretos sólo por variables de entorno: `CKAN_API_TOKEN`, `AUDIT_SMTP_PASSWORD`, `AUDIT_ADMIN_USER`, "
        "`AUDIT_ADMIN_PASSWORD`.",
        "",
        "Las claves del bloque `rules:` (vocabularios y umbrales de cada característica) se describen en "
        "[reglas.md](reglas.md).",
        "",
        "| clave | tipo | valor por omisión | descripción |",
        "|---|---|---|---|",
    ]
    for key, type_name, default, desc in _rows(AuditConfig):
        if key == "rules":
            continue
        cells = [f"`{key}`", type_name, f"`{default}`", desc]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
