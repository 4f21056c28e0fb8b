#!/usr/bin/env bash
# Quick start 1: install, then audit the embedded sample portal end to end (no internet needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python run_audit.py demo "$@"
