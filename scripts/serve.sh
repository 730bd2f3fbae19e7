#!/usr/bin/env bash
# Set up and start GitLeague on its embedded default: SQLite under
# instance/, no other service. Listens on $BIND (default 127.0.0.1:5000).
# First admin: .venv/bin/flask --app wsgi users create you@example.org --admin
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
export BIND="${BIND:-127.0.0.1:5000}"

# Install only when the venv is new or a package definition changed since the
# last install, so a restart is quick and quiet.
stamp="$VENV/.gitleague-installed"
wanted="$(cat setup.cfg pyproject.toml cli_client/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    echo "Installing GitLeague into $VENV ..." >&2
    log="$VENV/install.log"
    if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
        "$VENV/bin/python" -m pip install -q -e ./cli_client -e .; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "Installation failed; the full log is in $log" >&2
        exit 1
    fi
    echo "$wanted" >"$stamp"
fi

# Alembic says what it applied; its two lines of engine chatter are left out.
if ! out="$("$VENV/bin/flask" --app wsgi db upgrade 2>&1)"; then
    echo "$out" >&2
    exit 1
fi
grep -v -e 'Context impl' -e 'Will assume' <<<"$out" >&2 || true
echo "GitLeague on http://$BIND (settings: README.md, gunicorn.conf.py; Ctrl-C stops)" >&2
exec "$VENV/bin/gunicorn" wsgi:app
