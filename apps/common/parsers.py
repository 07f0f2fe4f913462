"""The JSON request parser: DRF's, bounded in size and in depth.

DRF's own parser reads the whole body, however long (``DATA_UPLOAD_MAX_MEMORY_SIZE`` is
not checked on that path), and the standard library's decoder recursed until a body of
1,500 ``[`` raised ``RecursionError``, a 500. This one reads at most
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``IM_HTTP_MAX_BODY_BYTES``) bytes, a longer body being
413 with code 1007 (under daphne and uvicorn the server refuses it before it is read:
``imserver.limits``), and answers a body nested deeper than the decoder can go like any
other malformed one: 400, code 1001. Integers of any size stay exact (the content checks
refuse those that cannot be stored).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raw = b""
        else:  # never more than the limit (and one byte to tell)
            raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context or {})
        except RecursionError as exc:  # the decoder's own guard: raised cleanly, nothing half-built kept
            raise ParseError("JSON parse error - nested too deeply") from exc
