#!/usr/bin/env bash
# Installs the project and its test tools, then runs lint (ruff, the import layers), the migrations check and
# the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/network -x). The tests run in TEST_PROCESSES processes
# (default: one per core; each file in one process, each process with its own test database and Redis database).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh dev
# Browser tests drive Debian's Chromium (Playwright uses it as is: no browser download).
command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
# The translation checks extract messages with GNU gettext (xgettext, msgmerge) as makemessages does.
command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
.venv/bin/ruff check --quiet .
# The app layers (.importlinter): payouts -> commissions -> tracking -> programs -> network -> core.
.venv/bin/lint-imports --no-logo --no-cache .importlinter
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "Model changes without migrations: run manage.py makemigrations" >&2; exit 1; }
exec .venv/bin/python -m pytest -n "${TEST_PROCESSES:-$(nproc)}" --dist loadfile "$@"
