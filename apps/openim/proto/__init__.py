"""OpenIM's protobuf messages (generated from ``openim.proto``; see scripts/openim_protos.sh)."""

from apps.openim.proto import openim_pb2 as pb

__all__ = ["pb"]
