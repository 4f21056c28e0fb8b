#!/usr/bin/env bash
# Quick start 2: install with test dependencies, then run the whole test suite (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_APT="chromium tidy nginx-light" UV_EXTRAS="--extra dev" bash scripts/bootstrap.sh
export AUDIT_TEST_POSTGRES_URL=${AUDIT_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
