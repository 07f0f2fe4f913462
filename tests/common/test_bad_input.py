"""Bad input at the HTTP edge gets a clear ``{"code", "msg"}`` answer, never a 500 or an HTML page.

These run in-process (Django's test client and the ASGI application); tests/common/
test_bad_input_live.py sends the same kind of requests to real daphne and uvicorn processes.
"""

from __future__ import annotations

import re

import orjson
import pytest
from django.test import Client

from imserver.limits import RequestLimitsMiddleware

pytestmark = pytest.mark.django_db


def _json(resp) -> dict:
    assert resp["Content-Type"].startswith("application/json"), (resp.status_code, resp.content[:200])
    return orjson.loads(resp.content)


# ------------------------------------------------------------------ JSON parser
@pytest.mark.parametrize("depth", [1_500, 100_000])
def test_deeply_nested_json_is_400_1001_not_a_recursion_error(admin_api, depth):
    resp = admin_api.post("/api/v1/users", data=b"[" * depth, content_type="application/json")
    assert resp.status_code == 400
    assert _json(resp)["code"] == 1001


def test_deeply_nested_json_without_a_token_is_400_too(client):
    resp = client.post("/api/v1/auth/admin-token", data=b'{"secret":' + b"[" * 5000, content_type="application/json")
    assert (resp.status_code, _json(resp)["code"]) == (400, 1001)


@pytest.mark.parametrize("body", [b"{", b'{"users": NaN}', b"\xff\xfe", b"[1,]"])
def test_malformed_json_bodies_are_400_1001(admin_api, body):
    resp = admin_api.post("/api/v1/users", data=body, content_type="application/json")
    assert (resp.status_code, _json(resp)["code"]) == (400, 1001)
    assert "malformed request body" in _json(resp)["msg"]


def test_valid_json_still_parses(admin_api):
    resp = admin_api.post("/api/v1/users", data=b'{"users": [{"user_id": "zoe"}]}', content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert _json(resp)["users"][0]["user_id"] == "zoe"


# ------------------------------------------------------------------ body size
def test_body_over_the_limit_is_413_1007(admin_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = orjson.dumps({"users": [{"user_id": f"u{i}", "nickname": "x" * 100} for i in range(2_000)]})
    resp = admin_api.post("/api/v1/users", data=body, content_type="application/json")
    assert resp.status_code == 413
    assert _json(resp)["code"] == 1007 and "100000 bytes" in _json(resp)["msg"]


# ------------------------------------------------------------- unknown routes
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_json_404_with_debug_on_or_off(client, settings, debug):
    settings.DEBUG = debug
    for path in ("/api/v1/nope", "/api/nope/deeper", "/api/v2/users", "/api/"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert _json(resp) == {"code": 1004, "msg": f"no such endpoint: GET {path}"}


def test_wrong_method_is_json_405(admin_api, client):
    resp = admin_api.delete("/api/v1/auth/admin-token")
    assert resp.status_code == 405 and _json(resp)["code"] == 1001
    resp = client.put("/api/schema/")
    assert resp.status_code == 405 and _json(resp)["code"] == 1001


def test_pages_outside_the_api_keep_html_404(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and resp["Content-Type"].startswith("text/html")


def test_a_crash_under_api_is_json_500(client, settings):
    from django.http import HttpResponseServerError
    from django.test import RequestFactory

    from apps.common.middleware import api_error_json

    request = RequestFactory().get("/api/v1/users/me")
    resp = api_error_json(request, HttpResponseServerError("<h1>Server Error (500)</h1>"))
    assert resp.status_code == 500 and _json(resp) == {"code": 500, "msg": "internal error"}


# ----------------------------------------------------------- query strings, ids
def test_thousands_of_ids_in_a_query_is_400_1001(alice_api):
    ids = ",".join(f"user{i}" for i in range(5_000))
    resp = alice_api.get(f"/api/v1/users?ids={ids}")
    assert (resp.status_code, _json(resp)["code"]) == (400, 1001)


def test_too_many_query_fields_is_400_1001(alice_api):
    query = "&".join(f"f{i}=1" for i in range(1_500))
    resp = alice_api.get(f"/api/v1/users/me?{query}")
    assert resp.status_code == 400
    assert _json(resp)["code"] == 1001


@pytest.mark.parametrize("query", ["limit=abc", "limit=-5", "offset=x", "limit=99999999999999999999999", "offset=-1"])
def test_bad_paging_numbers_never_500(alice_api, query):
    resp = alice_api.get(f"/api/v1/friends?{query}")
    assert resp.status_code in (200, 400), resp.content
    _json(resp)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/%00",
        "/api/v1/users/" + "x" * 5000,
        "/api/v1/users/a%2Fb",
        "/api/v1/users/%E2%80%AE",
        "/api/v1/groups/%00",
        "/api/v1/groups/" + "9" * 40,
        "/api/v1/conversations/%00/messages",
        "/api/v1/conversations/" + "si_" + "a" * 3000 + "/messages",
    ],
)
def test_odd_path_ids_are_a_json_answer(alice_api, path):
    resp = alice_api.get(path)
    assert resp.status_code in (400, 403, 404), (path[:60], resp.status_code, resp.content[:200])
    assert _json(resp)["code"] in (1001, 1002, 1004, 1101, 1201, 1203)


# ---------------------------------------------------------------- ASGI limits
async def _asgi(scope_extra: dict, body_chunks: list[bytes]) -> tuple[int, dict, bool]:
    """Run ``RequestLimitsMiddleware`` around an app that reads the whole body and says 200."""
    read = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    chunks = list(body_chunks)
    sent: list[dict] = []

    async def receive():
        if chunks:
            body = chunks.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/users", "raw_path": b"/api/v1/users",
             "query_string": b"", "headers": [], **scope_extra}
    await RequestLimitsMiddleware(app)(scope, receive, send)
    status = sent[0]["status"]
    body = orjson.loads(sent[1]["body"])
    return status, body, sum(map(len, read)) > 0


async def test_asgi_refuses_a_declared_oversized_body_before_reading_it(settings):
    settings.IM_HTTP_MAX_BODY_BYTES = 100_000
    status, body, read = await _asgi({"headers": [(b"content-length", b"60000000")]}, [b"x" * 65536] * 3)
    assert (status, body["code"], read) == (413, 1007, False)


async def test_asgi_counts_a_streamed_body_and_stops_at_the_limit(settings):
    settings.IM_HTTP_MAX_BODY_BYTES = 100_000
    status, body, _ = await _asgi({}, [b"x" * 65536] * 3)  # chunked: no Content-Length
    assert (status, body["code"]) == (413, 1007)


async def test_asgi_lets_a_body_under_the_limit_through(settings):
    settings.IM_HTTP_MAX_BODY_BYTES = 100_000
    status, body, read = await _asgi({"headers": [(b"content-length", b"1000")]}, [b"x" * 1000])
    assert (status, body, read) == (200, {}, True)


async def test_asgi_refuses_a_long_url_and_large_headers(settings):
    status, body, _ = await _asgi({"query_string": b"ids=" + b"a" * settings.IM_HTTP_MAX_URL_BYTES}, [])
    assert (status, body["code"]) == (414, 1008)
    headers = [(b"x-h%d" % i, b"v" * 1000) for i in range(settings.IM_HTTP_MAX_HEADER_BYTES // 1000 + 1)]
    status, body, _ = await _asgi({"headers": headers}, [])
    assert (status, body["code"]) == (431, 1009)
    status, body, _ = await _asgi({"headers": [(b"content-length", b"12abc")]}, [])
    assert (status, body["code"]) == (400, 1001)


# -------------------------------------------------------------- pages and docs
def test_front_page_links_chat_admin_docs_and_health(client):
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for href in ("/chat/", "/admin/", "/api/docs/", "/healthz"):
        assert f'href="{href}"' in html, href


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_load_nothing_from_another_host(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    html = resp.content.decode()
    external = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html)
    assert external == [], external
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)""", html)
    assert assets, html[:500]
    static = Client()
    for asset in assets:  # served by this server (WhiteNoise)
        got = static.get(asset)
        assert got.status_code == 200, asset
        content = b"".join(got.streaming_content) if getattr(got, "streaming", False) else got.content
        assert len(content) > 100, asset


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/friend-requests/99999999999999999999999999/accept"),
        ("post", "/api/v1/friend-requests/9223372036854775808/refuse"),
        ("post", "/api/v1/friend-requests/0/accept"),
        ("get", "/api/v1/conversations/si_alice_bob/messages?from_seq=abc"),
        ("get", "/api/v1/conversations/si_alice_bob/messages?from_seq=99999999999999999999999&to_seq=1"),
        ("get", "/api/v1/conversations/si_alice_bob/messages?before_seq=-1&limit=abc"),
        ("get", "/api/v1/conversations?include_hidden=maybe"),
        ("get", "/api/v1/conversations?limit=99999999999999999999999"),
        ("post", "/api/v1/messages/%00/revoke"),
        ("post", "/api/v1/messages/" + "9" * 300 + "/revoke"),
        ("get", "/api/v1/users/status?ids=" + ",".join(["x"] * 600)),
        ("get", "/api/v1/users/status?ids=,,,"),
    ],
)
def test_odd_numbers_and_ids_in_paths_and_queries_are_a_json_answer(alice_api, bob, method, path):
    resp = getattr(alice_api, method)(path, format="json")
    assert resp.status_code < 500, (path[:80], resp.status_code, resp.content[:300])
    body = _json(resp)
    if resp.status_code >= 400:
        assert body["code"] >= 1001 and body["msg"]


def test_multipart_and_form_bodies_to_the_api_are_415_json(admin_api):
    resp = admin_api.post("/api/v1/users", data={"users": "x", "f": ("a.txt", b"x")}, format="multipart")
    assert resp.status_code == 415 and _json(resp)["code"] == 1001
    resp = admin_api.generic("POST", "/api/v1/users", "a=1&b=2", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and _json(resp)["code"] == 1001
