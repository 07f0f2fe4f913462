#!/usr/bin/env bash
# Set up a virtualenv and run the whole test suite (lint, import contracts, types, checks, migrations, pytest).
# Embedded by default (SQLite, in-memory layer, eager tasks). Point DATABASE_URL,
# REDIS_URL and CELERY_BROKER_URL at real services to run against them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${PIP[@]}" -r requirements-dev.txt
if [[ "${DATABASE_URL:-}" == mysql* ]]; then
  "${PIP[@]}" -r requirements-mysql.txt
fi
if command -v npm >/dev/null 2>&1 && [ ! -d tests/openim/js/node_modules/@openim/client-sdk ]; then
  echo "== npm ci (OpenIM SDK test driver)"
  (cd tests/openim/js && npm ci --no-audit --no-fund --silent) || echo "npm ci failed: the OpenIM SDK test will skip"
fi
# Redis pub/sub channels are global to a Redis server, not per database: a run gets a channel
# prefix of its own, so test runs sharing one Redis never hear each other's pushes
export IM_CHANNEL_PREFIX="${IM_CHANNEL_PREFIX:-imt$$}"
echo "== ruff"; .venv/bin/ruff check .
echo "== import contracts"; .venv/bin/lint-imports --no-cache
echo "== mypy"; .venv/bin/mypy
echo "== django checks"; .venv/bin/python manage.py check --fail-level WARNING
echo "== migrations"; .venv/bin/python manage.py makemigrations --check --dry-run
echo "== pytest (DATABASE_URL=${DATABASE_URL:-sqlite} REDIS_URL=${REDIS_URL:-none} CELERY_BROKER_URL=${CELERY_BROKER_URL:-eager})"
exec .venv/bin/python -m pytest "$@"
