#!/usr/bin/env bash
# A working demo on a fresh machine: install, migrate, load the demo data, serve on BIND (127.0.0.1:8000).
# With no environment variables it uses the embedded default (SQLite, in-process tasks).
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo's printed links and e-mails use this address too (config/settings.py: SITE_URL follows BIND); pages and
# the API build links on the address each request came to.
export BIND="${BIND:-127.0.0.1:8000}"
scripts/install.sh
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
# runserver answers each request in its own thread (SQLite in WAL mode, IMMEDIATE transactions: see config/settings.py)
# and, with no broker, runs the recovery jobs Celery beat would run (core/embedded.py).
echo "Serving on http://$BIND (Ctrl-C stops)"
exec .venv/bin/python manage.py runserver "$BIND"
