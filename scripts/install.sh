#!/usr/bin/env bash
# Creates the project's own virtual environment (.venv) and installs the pinned dependencies.
# Usage: scripts/install.sh [dev]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
if [ "${1:-}" = "dev" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check .
fi
