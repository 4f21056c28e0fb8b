"""schemathesis against the dashboard's OpenAPI schema: generated requests never cause a 500 and responses
conform to the documented schema. Bounded (a handful of examples per operation) to stay a few seconds."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from audit.config import AuditConfig
from audit.store import open_store
from audit.web import create_app
from audit.web.sample import build_sample_store

# built at collection: schemathesis needs the schema when it parametrizes the test
_DIR = Path(tempfile.mkdtemp(prefix="audit-webschema-"))
_DB = _DIR / "audit.db"
_STORE = open_store(f"sqlite:///{_DB}")
atexit.register(shutil.rmtree, _DIR, True)
atexit.register(_STORE.close)
build_sample_store(_STORE, organizations=4, datasets=12, runs=2)
APP = create_app(AuditConfig(), _STORE)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_never_fails_with_server_error_and_matches_its_schema(case: Any) -> None:
    case.call_and_validate()
