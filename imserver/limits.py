"""The HTTP size limits, enforced before a request reaches Django.

Three limits, each answered with a ``{"code", "msg"}`` body and ``Connection: close``:

- the request target (path and query string): ``IM_HTTP_MAX_URL_BYTES``, 414, code 1008;
- the request line and all headers: ``IM_HTTP_MAX_HEADER_BYTES``, 431, code 1009;
- the request body: ``IM_HTTP_MAX_BODY_BYTES``, 413, code 1007 (an upload,
  ``POST /api/v1/files``, has its own: ``IM_UPLOAD_MAX_BYTES``, 413, code 1701).

:class:`RequestLimitsMiddleware` (ASGI) checks them for every server: a declared
``Content-Length`` over the limit is refused before a byte of the body is read, and a
chunked body is counted as it streams in. That is enough under uvicorn, which hands the
body to the application as it arrives. Two things happen before any application runs,
so the servers are taught the same limits where they parse requests
(:func:`apply_server_limits`, called by ``imserver.asgi``):

- daphne (Twisted) read a whole request body into a temporary file before calling the
  application, and dropped the connection without a word on a request line or header
  line over 16 KB. Its HTTP channel now refuses an oversized body as soon as the headers
  (or the counted chunks) show it, and answers an over-long request line with 414 and
  oversized headers with 431.
- uvicorn's httptools parser buffered a request line or headers of any size. Its
  protocol now counts them as they are parsed and answers 414/431; its "invalid HTTP
  request" answer (h11 and httptools) is JSON too.

Websocket messages are capped in both servers at :func:`ws_transport_cap` (16 times
``IM_WS_MAX_FRAME_BYTES``); up to it the gateway answers an oversized frame itself (1603).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from django.conf import settings

from apps.common.errors import Code, default_message, http_status
from apps.files import limits as upload_limits

log = logging.getLogger(__name__)

_REASONS = {400: b"Bad Request", 413: b"Content Too Large", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


def error_body(code: Code, msg: str | None = None) -> bytes:
    return orjson.dumps({"code": int(code), "msg": msg or default_message(code)})


def url_error() -> tuple[Code, str]:
    return Code.URL_TOO_LONG, f"the request URL is limited to {settings.IM_HTTP_MAX_URL_BYTES} bytes"


def header_error() -> tuple[Code, str]:
    return Code.HEADERS_TOO_LARGE, f"the request headers are limited to {settings.IM_HTTP_MAX_HEADER_BYTES} bytes"


def body_error() -> tuple[Code, str]:
    return Code.BODY_TOO_LARGE, f"the request body is limited to {settings.IM_HTTP_MAX_BODY_BYTES} bytes"


def body_limit(method: str, path: str) -> tuple[int, tuple[Code, str]]:
    """The body limit of one request and the error past it: an upload (``POST /api/v1/files``)
    has its own, ``IM_UPLOAD_MAX_BYTES`` (code 1701); every other request ``IM_HTTP_MAX_BODY_BYTES``."""
    if method == "POST" and path.split("?", 1)[0].rstrip("/") == upload_limits.UPLOAD_PATH:
        refused = upload_limits.too_large()
        return upload_limits.body_limit(), (refused.code, refused.msg)
    return settings.IM_HTTP_MAX_BODY_BYTES, body_error()


def ws_transport_cap() -> int:
    """The largest websocket message a server buffers at all: 16 × ``IM_WS_MAX_FRAME_BYTES``
    (1 MiB by default). Between the two the gateway answers 1603 and keeps the connection; beyond
    it the server closes the connection with 1009 (message too big) without buffering the rest."""
    return 16 * int(settings.IM_WS_MAX_FRAME_BYTES)


def raw_response(code: Code, msg: str) -> bytes:
    """A whole HTTP/1.1 response (for the servers' parsers, which have no ASGI app to answer with)."""
    status = http_status(code)
    body = error_body(code, msg)
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
        % (status, _REASONS.get(status, b"Error"), len(body))
    )
    return head + body


# ----------------------------------------------------------------------- ASGI
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def _answer(send: Send, code: Code, msg: str) -> None:
    body = error_body(code, msg)
    await send(
        {
            "type": "http.response.start",
            "status": http_status(code),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _limits_error(
    target_bytes: int, header_bytes: int, declared: str | bytes | None, method: str, path: str,
) -> tuple[Code, str] | None:
    """The first limit a request breaks (URL, headers, declared body), for either interface."""
    if target_bytes > settings.IM_HTTP_MAX_URL_BYTES:
        return url_error()
    if header_bytes > settings.IM_HTTP_MAX_HEADER_BYTES:
        return header_error()
    if declared:
        try:
            length = int(declared)
        except ValueError:
            return Code.BAD_ARGS, "Content-Length is not a number"
        limit, refused = body_limit(method, path)
        if length > limit:
            return refused
    return None


def _scope_error(scope: dict[str, Any]) -> tuple[Code, str] | None:
    headers = scope.get("headers") or []
    return _limits_error(
        len(scope.get("raw_path") or scope.get("path", "").encode()) + len(scope.get("query_string") or b""),
        sum(len(k) + len(v) + 4 for k, v in headers),
        next((value for key, value in headers if key == b"content-length"), None),
        scope.get("method", ""), scope.get("path", ""),
    )


class RequestLimitsMiddleware:
    """ASGI middleware for HTTP: the URL, header and body limits as JSON answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        error = _scope_error(scope)
        if error is not None:
            await _answer(send, *error)
            return
        limit, too_large = body_limit(scope.get("method", ""), scope.get("path", ""))
        received = 0
        refused = False

        async def counted_receive() -> dict[str, Any]:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a body without (or beyond) its Content-Length
                    refused = True
                    await _answer(send, *too_large)
                    return {"type": "http.disconnect"}  # the application stops reading, answers nothing
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted_receive, guarded_send)


# ----------------------------------------------------------------------- WSGI
StartResponse = Callable[..., Any]


def _environ_error(environ: dict[str, Any]) -> tuple[Code, str] | None:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        query = environ.get("QUERY_STRING", "")
        raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "") + ("?" + query if query else "")
    size = 0
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            size += len(key) + len(value) - (5 if key.startswith("HTTP_") else 0) + 4
    return _limits_error(
        len(raw.encode("latin-1", "replace")), size, environ.get("CONTENT_LENGTH"),
        environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
    )


class RequestLimitsWSGIMiddleware:
    """The same limits for the WSGI application (the HTTP workers: ``imserver.wsgi``): the URL, the
    headers and a declared ``Content-Length`` are checked before Django runs; a body without one
    (chunked) is read up to its limit first, and refused past it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        error = _environ_error(environ)
        if error is None and not environ.get("CONTENT_LENGTH") and "chunked" in environ.get(
            "HTTP_TRANSFER_ENCODING", ""
        ).lower():
            limit, refused = body_limit(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                error = refused
            else:
                environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        if error is None:
            return self.app(environ, start_response)
        code, msg = error
        body = error_body(code, msg)
        status = http_status(code)
        start_response(
            f"{status} {_REASONS.get(status, b'Error').decode()}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")],
        )
        return [body]


# -------------------------------------------------------------------- servers
def apply_server_limits() -> None:
    """Teach the ASGI servers that are loaded in this process the same limits."""
    import sys

    if "daphne.server" in sys.modules or "twisted.web.http" in sys.modules:
        _harden_twisted()
    if "uvicorn" in sys.modules:
        _harden_uvicorn()


def _channel_body_limit(channel: Any) -> tuple[int, tuple[Code, str]]:
    """:func:`body_limit` of the request a Twisted channel is reading (its request line is parsed)."""
    method = getattr(channel, "_command", b"") or b""
    path = getattr(channel, "_path", b"") or b""
    return body_limit(method.decode("latin-1"), path.decode("latin-1"))


def _harden_twisted() -> None:
    from twisted.web import http

    channel = http.HTTPChannel
    if getattr(channel, "_im_limits", False):
        return
    header_limit = settings.IM_HTTP_MAX_HEADER_BYTES
    # the request line counts against the headers' budget; a URL under its own limit must fit
    line_limit = max(header_limit, settings.IM_HTTP_MAX_URL_BYTES + 64)
    channel.MAX_LENGTH = line_limit
    channel.totalHeadersSize = line_limit

    def refuse(self: Any, code: Code, msg: str) -> None:
        """Answer, stop parsing, and close once the peer has had the answer (what it still sends is dropped)."""
        if getattr(self, "_im_refused", False):
            return
        self._im_refused = True
        self.dataReceived = lambda data: None
        self.lineReceived = lambda line: None
        self.rawDataReceived = lambda data: None
        self.allContentReceived = lambda: None  # the refused request never reaches the application
        self.transport.write(raw_response(code, msg))
        self.loseConnection()

    def line_length_exceeded(self: Any, line: bytes) -> None:
        first = getattr(self, "_HTTPChannel__first_line", 0)
        refuse(self, *(url_error() if first else header_error()))

    def bad_request(self: Any) -> None:
        if self._receivedHeaderSize > self.totalHeadersSize:
            refuse(self, *header_error())
        else:
            refuse(self, Code.BAD_ARGS, "malformed HTTP request")

    original_all_headers = channel.allHeadersReceived

    def all_headers_received(self: Any) -> None:
        original_all_headers(self)
        limit, too_large = _channel_body_limit(self)
        if self.length is not None and self.length > limit:
            refuse(self, *too_large)
            self.length = 0  # the parser must not wait for (or store) the body
            self._transferDecoder = None

    original_chunk = http.Request.handleContentChunk

    def handle_content_chunk(self: Any, data: bytes) -> None:
        self._im_body_bytes = getattr(self, "_im_body_bytes", 0) + len(data)
        limit, too_large = _channel_body_limit(self.channel) if self.channel is not None else body_limit("", "")
        if self._im_body_bytes > limit:
            if self.channel is not None:
                refuse(self.channel, *too_large)
            return
        original_chunk(self, data)

    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # Twisted without daphne
        WebSocketFactory = None  # noqa: N806
    if WebSocketFactory is not None:
        original_factory_init = WebSocketFactory.__init__

        def factory_init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_factory_init(self, *args, **kwargs)
            cap = ws_transport_cap()
            self.setProtocolOptions(maxFramePayloadSize=cap, maxMessagePayloadSize=cap)

        WebSocketFactory.__init__ = factory_init

    channel.lineLengthExceeded = line_length_exceeded
    channel._respondToBadRequestAndDisconnect = bad_request
    channel.allHeadersReceived = all_headers_received
    http.Request.handleContentChunk = handle_content_chunk
    channel._im_limits = True


def _harden_uvicorn() -> None:
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # httptools not installed: h11 only
        httptools_impl = None  # type: ignore[assignment]
    from uvicorn.protocols.http import h11_impl

    def send_400_response(self: Any, msg: str) -> None:
        code, text = getattr(self, "_im_refusal", None) or (Code.BAD_ARGS, "malformed HTTP request")
        self.transport.write(raw_response(code, text))
        self.transport.close()

    h11_impl.H11Protocol.send_400_response = send_400_response
    for module_name in ("websockets_impl", "websockets_sansio_impl", "wsproto_impl"):
        try:
            module = __import__(f"uvicorn.protocols.websockets.{module_name}", fromlist=["WebSocketProtocol"])
        except ImportError:  # that websocket library is not installed
            continue
        ws_proto = next(
            (getattr(module, n) for n in ("WebSocketProtocol", "WebSocketsSansIOProtocol", "WSProtocol") if hasattr(module, n)),
            None,
        )
        if ws_proto is None or getattr(ws_proto, "_im_limits", False):
            continue
        _cap_uvicorn_ws(ws_proto)
    if httptools_impl is None:
        return
    proto = httptools_impl.HttpToolsProtocol
    if getattr(proto, "_im_limits", False):
        return
    original_on_url = proto.on_url
    original_on_header = proto.on_header
    original_on_message_begin = proto.on_message_begin
    original_on_headers_complete = proto.on_headers_complete
    original_data_received = proto.data_received
    # httptools keeps a header's value until it is complete: bytes that arrive while the head
    # is unfinished are counted too, so one endless header line cannot grow without bound
    head_budget = settings.IM_HTTP_MAX_URL_BYTES + settings.IM_HTTP_MAX_HEADER_BYTES + 65536

    class _Refused(Exception):
        """Raised inside the parser: it stops parsing and the protocol answers (``send_400_response``)."""

    def data_received(self: Any, data: bytes) -> None:
        if not getattr(self, "_im_in_body", False):
            end = data.find(b"\r\n\r\n")  # what follows the head is body: not counted here
            self._im_head_seen = getattr(self, "_im_head_seen", 0) + (len(data) if end < 0 else end)
            if self._im_head_seen > head_budget:
                self._im_refusal = header_error()
                self.send_400_response("")
                return
        original_data_received(self, data)

    def on_message_begin(self: Any) -> None:
        self._im_head_bytes = 0
        self._im_refusal = None
        self._im_in_body = False
        self._im_head_seen = 0
        original_on_message_begin(self)

    def on_headers_complete(self: Any) -> None:
        self._im_in_body = True
        original_on_headers_complete(self)

    def on_url(self: Any, url: bytes) -> None:
        if len(self.url) + len(url) > settings.IM_HTTP_MAX_URL_BYTES:
            self._im_refusal = url_error()
            raise _Refused
        self._im_head_bytes = getattr(self, "_im_head_bytes", 0) + len(url)
        original_on_url(self, url)

    def on_header(self: Any, name: bytes, value: bytes) -> None:
        self._im_head_bytes = getattr(self, "_im_head_bytes", 0) + len(name) + len(value) + 4
        if self._im_head_bytes > settings.IM_HTTP_MAX_HEADER_BYTES:
            self._im_refusal = header_error()
            raise _Refused
        original_on_header(self, name, value)

    proto.data_received = data_received
    proto.on_message_begin = on_message_begin
    proto.on_headers_complete = on_headers_complete
    proto.on_url = on_url
    proto.on_header = on_header
    proto.send_400_response = send_400_response
    proto._im_limits = True


def _cap_uvicorn_ws(ws_proto: Any) -> None:
    original_init = ws_proto.__init__

    def init(self: Any, config: Any, *args: Any, **kwargs: Any) -> None:
        config.ws_max_size = min(int(config.ws_max_size), ws_transport_cap())
        original_init(self, config, *args, **kwargs)

    ws_proto.__init__ = init
    ws_proto._im_limits = True
