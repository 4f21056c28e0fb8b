"""Agency suites: GX expectation configurations kept in ``content.suites_dir``.

File names select what a suite applies to (see ``rules/suites/README.md``):

* ``<dataset-name>.json|.yaml|.yml`` — every tabular resource of the dataset;
* ``<dataset-name>__<resource>.json|.yaml|.yml`` — one resource, by CKAN id, exact name or name slug.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from audit.errors import InputFileError
from audit.textnorm import slug

SUFFIXES = (".json", ".yaml", ".yml")


def load_suite_file(path: Path) -> dict[str, Any]:
    """Parse one suite file; a malformed file raises InputFileError naming the file and the fix."""
    from audit.csvfiles import LIMITS, check_size

    try:
        check_size(path, "suite", LIMITS.suite_max_bytes)
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"No se puede leer la suite {path}: {exc}") from exc
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputFileError(
            f"La suite {path} no es JSON/YAML válido: {exc}",
            hint="Revise comas y comillas; vea rules/suites/README.md para un ejemplo.",
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations"), list):
        raise InputFileError(
            f"La suite {path} debe ser un objeto con la lista 'expectations'.",
            hint='Formato: {"name": "...", "expectations": [{"type": "expect_...", "kwargs": {...}}]}',
        )
    name = doc.get("name") or doc.get("expectation_suite_name") or path.stem
    return {"name": str(name), "expectations": doc["expectations"], "meta": {"source": "agency", "file": path.name}}


def suite_files_for(suites_dir: str | Path, dataset_name: str, resource_name: str | None, resource_id: str | None) -> list[Path]:
    base = Path(suites_dir)
    if not base.is_dir() or not dataset_name:
        return []
    stems = [dataset_name]
    for key in {k for k in (resource_id, resource_name, slug(resource_name or "")) if k}:
        stems.append(f"{dataset_name}__{key}")
    found = []
    for stem in stems:
        for suffix in SUFFIXES:
            candidate = base / f"{stem}{suffix}"
            if candidate.is_file():
                found.append(candidate)
    return found


def suites_for(
    suites_dir: str | Path, dataset_name: str, resource_name: str | None, resource_id: str | None,
    *, dataset_wide: bool = True,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(suites, errors) for a resource; a broken file becomes an error message plus an 'invalid' suite entry.

    ``dataset_wide=False`` keeps only the files that name the resource: a dataset's suite describes its data
    files, not its data dictionary (every column it names would be missing there).
    """
    suites, errors = [], []
    for path in suite_files_for(suites_dir, dataset_name, resource_name, resource_id):
        if not dataset_wide and "__" not in path.stem[len(dataset_name):]:
            continue
        try:
            suites.append(load_suite_file(path))
        except InputFileError as exc:
            errors.append(str(exc))
            suites.append({"name": path.stem, "expectations": [], "meta": {"source": "agency", "file": path.name,
                                                                            "error": exc.message}})
    return suites, errors


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
