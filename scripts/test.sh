#!/usr/bin/env bash
# Set up and run the whole GitLeague test suite on a fresh machine:
# a virtualenv with every dependency, PostgreSQL and Redis running,
# lint and type checks, then pytest (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

ensure_services() {
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        echo "starting PostgreSQL" >&2
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    fi
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        echo "starting Redis" >&2
        mkdir -p /var/lib/redis /var/log/redis
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
            --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "PostgreSQL or Redis did not come up" >&2
    exit 1
}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ./cli_client -e ".[test]"

ensure_services

"$VENV/bin/ruff" check app cli_client scripts tests bench
"$VENV/bin/ruff" format --check app cli_client scripts tests bench
"$VENV/bin/mypy" app/sync_methods cli_client/gitleague_client

# Tests run in one process per CPU (pytest-xdist): much of the suite waits on
# real servers, workers and timers, and each process gets its own databases,
# ports and temporary folders. GITLEAGUE_TEST_WORKERS=0 runs them in this one.
exec "$VENV/bin/python" -m pytest -n "${GITLEAGUE_TEST_WORKERS:-auto}" --dist worksteal "$@"
