"""The upload size limit, enforced before Django reads the body.

Django's ASGI handler reads a whole request body (spooling it to a temporary file)
before any view runs, so a view alone cannot refuse a 2 GB upload without taking it in.
The project's request limits (:mod:`imserver.limits`, in front of Django and inside the
servers) give ``POST /api/v1/files`` this limit instead of the general body limit: a
``Content-Length`` past ``IM_UPLOAD_MAX_BYTES`` (plus room for the multipart framing) is
answered 413 at once; a chunked body is counted as it is read and cut off with 413 as soon
as it passes the limit.
"""

from __future__ import annotations

from django.conf import settings

from apps.common.errors import Code, DomainError

UPLOAD_PATH = "/api/v1/files"
MULTIPART_SLACK = 64 * 1024  # part headers, boundaries and the small form fields around the file


def body_limit() -> int:
    return int(settings.IM_UPLOAD_MAX_BYTES) + MULTIPART_SLACK


def too_large() -> DomainError:
    return DomainError(Code.FILE_TOO_LARGE, f"uploads are limited to {settings.IM_UPLOAD_MAX_BYTES} bytes")
