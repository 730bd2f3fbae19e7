#!/usr/bin/env bash
# Set up and start GitLeague on its embedded default: SQLite under
# instance/, no other service. Listens on http://127.0.0.1:5000.
# First admin: .venv/bin/flask --app wsgi users create you@example.org --admin
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ./cli_client -e .

"$VENV/bin/flask" --app wsgi db upgrade
exec "$VENV/bin/gunicorn" wsgi:app   # settings: gunicorn.conf.py (BIND, WORKERS)
