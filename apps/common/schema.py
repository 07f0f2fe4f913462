"""OpenAPI naming: unique component names for nested Input/Output serializers and
operation ids taken from the view class, so every app can use the same conventions."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class AutoSchema(BaseAutoSchema):
    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        cls = serializer.__class__
        qualname = cls.__qualname__
        if "." in qualname and "<locals>" not in qualname:
            outer, inner = qualname.rsplit(".", 1)
            outer = outer.split(".")[-1]
            for suffix in ("Api", "View", "APIView"):
                if outer.endswith(suffix):
                    outer = outer[: -len(suffix)]
            return f"{outer}{inner}"
        return super().get_serializer_name(serializer, direction)  # type: ignore[arg-type]  # drf-spectacular passes "request" or "response"

    def get_operation_id(self) -> str:
        name = self.view.__class__.__name__
        for suffix in ("Api", "View", "APIView"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        return f"{_snake(name)}_{self.method.lower()}"
