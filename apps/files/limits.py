"""The upload size limit, enforced before Django reads the body.

Django's ASGI handler reads a whole request body (spooling it to a temporary file)
before any view runs, so a view alone cannot refuse a 2 GB upload without taking it in.
:class:`UploadLimit` wraps the HTTP application: a ``POST /api/v1/files`` whose
``Content-Length`` passes ``IM_UPLOAD_MAX_BYTES`` (plus room for the multipart framing)
is answered 413 at once; without a length (chunked) the body is counted as it is read
and the request is cut off with 413 as soon as it passes the limit.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from apps.common.errors import Code, DomainError

UPLOAD_PATH = "/api/v1/files"
MULTIPART_SLACK = 64 * 1024  # part headers, boundaries and the small form fields around the file


def body_limit() -> int:
    return int(settings.IM_UPLOAD_MAX_BYTES) + MULTIPART_SLACK


def too_large() -> DomainError:
    return DomainError(Code.FILE_TOO_LARGE, f"uploads are limited to {settings.IM_UPLOAD_MAX_BYTES} bytes")


async def _reply_413(send: Any) -> None:
    body = orjson.dumps(too_large().as_dict())
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})


class UploadLimit:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path", "").rstrip("/") != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        limit = body_limit()
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _reply_413(send)
                    return
        state = {"seen": 0, "over": False, "started": False}

        async def counting_receive() -> dict[str, Any]:
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["over"] = True
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if state["over"] and not state["started"]:
            await _reply_413(send)
