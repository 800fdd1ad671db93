#!/usr/bin/env bash
# Installs the project and its test tools, then runs lint, the migrations check and the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/network -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev
# Browser tests drive Debian's Chromium (Playwright uses it as is: no browser download).
command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
.venv/bin/ruff check --quiet .
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "Model changes without migrations: run manage.py makemigrations" >&2; exit 1; }
exec .venv/bin/python -m pytest "$@"
