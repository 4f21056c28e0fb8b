"""Heavy libraries are imported only by the stages that use them: a crawl never loads pandas or GX."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "great_expectations", "weasyprint")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True,
                         timeout=120).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def test_crawl_rules_and_cli_do_not_import_heavy_libraries() -> None:
    # what `run_audit.py crawl` imports: the CLI, the pipeline, the crawl, and the rule registry (config validation)
    assert _loaded_after("import audit.crawl, rules, audit.cli, audit.pipeline, audit.config") == []


def test_the_content_stage_still_imports_pandas() -> None:
    # the check above means something only if the probe sees pandas where it is really used
    assert "pandas" in _loaded_after("import audit.content.load")
