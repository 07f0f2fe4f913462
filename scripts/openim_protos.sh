#!/usr/bin/env bash
# Regenerate apps/openim/proto/openim_pb2.py from openim.proto with the pinned protoc of
# grpcio-tools (requirements-dev.txt); the runtime needs only `protobuf` (requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
"$PY" -m grpc_tools.protoc -I apps/openim/proto --python_out=apps/openim/proto --pyi_out=apps/openim/proto apps/openim/proto/openim.proto
