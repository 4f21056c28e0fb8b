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

# The interpreter: $PYTHON if set, else the distribution's /usr/bin/python3 when it is 3.11 or newer (Debian builds
# it with profile-guided and link-time optimization: the reports render about 17 % faster than on a source build
# without --enable-optimizations, pyenv's default; docs/benchmarks.md), else the first python3 on PATH.
pick_python() {
  local c
  for c in /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"; return
    fi
  done
  echo python3
}
PY=${PYTHON:-$(pick_python)}
# a .venv made by another interpreter is made again (uv sync would replace it, and uv itself lives in it)
if [ -x .venv/bin/python ]; then
  want=$("$PY" -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)
  have=$(.venv/bin/python -c 'import sys; print(sys.base_prefix)' 2>/dev/null || true)
  if [ -n "$want" ] && [ "$want" != "$have" ]; then
    echo "bootstrap: .venv usa $have; se crea de nuevo con $PY" >&2
    rm -rf .venv
  fi
fi
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
