"""The request limits in front of the WSGI application (the HTTP unit), called as a WSGI server calls it."""

from __future__ import annotations

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.wsgi import get_wsgi_application

from imserver.limits import RequestLimitsWSGIMiddleware

pytestmark = pytest.mark.django_db


def _call(path: str = "/healthz", *, method: str = "GET", body: bytes = b"", **extra: str) -> tuple[str, dict]:
    environ: dict = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body), **extra}
    setup_testing_defaults(environ)
    seen: dict = {}

    def start_response(status: str, headers: list, exc_info=None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    app = RequestLimitsWSGIMiddleware(get_wsgi_application())
    chunks = app(environ, start_response)
    content = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return seen["status"], json.loads(content)


def test_a_plain_request_reaches_django():
    assert _call() == ("200 OK", {"status": "ok"})


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"QUERY_STRING": "a=" + "x" * 9_000}, "414 URI Too Long", 1008),
        ({"RAW_URI": "/healthz?" + "y" * 9_000}, "414 URI Too Long", 1008),
        ({"HTTP_X_BIG": "h" * 40_000}, "431 Request Header Fields Too Large", 1009),
        ({"CONTENT_LENGTH": "12abc"}, "400 Bad Request", 1001),
        ({"CONTENT_LENGTH": str(60 * 1024 * 1024)}, "413 Content Too Large", 1007),
    ],
)
def test_a_request_over_a_limit_gets_json_before_django(extra, status, code):
    got_status, body = _call(method="POST", path="/api/v1/users", **extra)
    assert (got_status, body["code"]) == (status, code) and body["msg"]


def test_a_chunked_body_is_counted_and_refused_past_the_limit(settings):
    settings.IM_HTTP_MAX_BODY_BYTES = 70_000
    status, body = _call(method="POST", path="/api/v1/users", body=b"x" * 80_000,
                         HTTP_TRANSFER_ENCODING="chunked", CONTENT_TYPE="application/json")
    assert (status, body["code"]) == ("413 Content Too Large", 1007)


def test_a_chunked_body_under_the_limit_reaches_django_whole():
    def post(raw: bytes) -> tuple[str, dict]:
        return _call(method="POST", path="/api/v1/auth/admin-token", body=raw,
                     HTTP_TRANSFER_ENCODING="chunked", CONTENT_TYPE="application/json")

    status, body = post(b'{"secret": ')  # cut short: Django's parser says so
    assert (status, body["code"]) == ("400 Bad Request", 1001) and "malformed" in body["msg"]
    assert post(b'{"secret": "wrong", "user_id": "imAdmin"}') == ("403 Forbidden", {"code": 1002, "msg": "wrong secret"})
