#!/usr/bin/env bash
# Set up a virtualenv and start imserver on embedded defaults:
# SQLite in var/, in-memory channel layer, Celery tasks run in-process. No servers needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
if [[ "${DATABASE_URL:-}" == mysql* ]]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-mysql.txt
fi
export DEBUG="${DEBUG:-1}"
HOST="${IM_HOST:-127.0.0.1}"
PORT="${IM_PORT:-8000}"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py im_bootstrap --host "$HOST" --port "$PORT"
exec .venv/bin/daphne -b "$HOST" -p "$PORT" imserver.asgi:application
