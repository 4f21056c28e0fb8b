#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine with Python 3.11:
# system libraries (WeasyPrint, poppler for PDF checks, Chromium for browser tests) and the locked Python
# environment in .venv (uv.lock). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils ${EXTRA_APT:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
# uv installs exactly the versions in uv.lock. If it is not on PATH, it is installed into .venv itself with pip
# (works on Debian's externally-managed Python too).
if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv 2>/dev/null || {
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO apt-get install -y -qq python3-venv >/dev/null && "$PY" -m venv .venv; }
  fi
  [ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q --disable-pip-version-check uv
  UV=.venv/bin/uv
fi
# --inexact: never remove what is already there (e.g. the test extras while the demo runs).
$UV sync --frozen --inexact ${UV_EXTRAS:-} --python "$PY" -q
