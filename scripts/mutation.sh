#!/usr/bin/env bash
# Mutation testing of the critical modules (not in CI: minutes per module).
#   scripts/mutation.sh                      every module (SQLite; PostgreSQL for survivors of pg modules)
#   scripts/mutation.sh auth.py ingest.py    modules whose path contains these fragments
#   scripts/mutation.sh --sample 30 ingest   a random sample of 30 mutants per module
#   scripts/mutation.sh --list auth.py       the mutants and their ids, nothing run
# Works on a temporary copy of the tree; the checkout is never edited.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${VENV:-.venv}/bin/python" scripts/mutation.py "$@"
