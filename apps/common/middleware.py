"""Middleware of our own.

``StaticFilesMiddleware`` is whitenoise's middleware made async-capable: whitenoise's
own is sync-only, so under ASGI every request (API calls included) hopped from the
event loop to a worker thread and back just to pass it. With this one the whole
middleware chain is async and only the (sync) view runs in a thread.

``ApiErrorsMiddleware`` turns the HTML error pages Django renders under ``/api/`` (no
such URL, a wrong method, a crash; with ``DEBUG`` on too) into ``{"code", "msg"}``.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from apps.common.errors import Code


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """Serves static files like ``whitenoise.middleware.WhiteNoiseMiddleware``, in sync or async mode."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any = None, **kwargs: Any) -> None:
        super().__init__(get_response, **kwargs)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # development: looks on disk, so off the event loop
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return await self.get_response(request)
        # opens the file: off the event loop too
        return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)


_API_PREFIX = "/api/"
_API_STATUS_CODES = {
    400: Code.BAD_ARGS,
    403: Code.NO_PERMISSION,
    404: Code.NOT_FOUND,
    405: Code.BAD_ARGS,
    413: Code.BODY_TOO_LARGE,
    500: Code.INTERNAL,
}
_API_STATUS_TEXT = {
    400: "bad request",
    403: "forbidden",
    404: "no such endpoint",
    405: "method not allowed",
    413: "request body too large",
    500: "internal error",
}


def api_error_json(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Under ``/api/``, an error page Django rendered (no URL matched, a wrong method on a plain
    view, a bad request, a crash; with ``DEBUG`` on or off) becomes ``{"code", "msg"}``."""
    status = response.status_code
    if status < 400 or not request.path.startswith(_API_PREFIX):
        return response
    if (response.get("Content-Type") or "").startswith("application/json") or getattr(response, "streaming", False):
        return response
    code = _API_STATUS_CODES.get(status, Code.BAD_ARGS if status < 500 else Code.INTERNAL)
    msg = _API_STATUS_TEXT.get(status, "request failed")
    if status == 404:
        msg = f"no such endpoint: {request.method} {request.path[:200]}"
    elif status == 405:
        msg = f"method {(request.method or '')[:20]} not allowed on {request.path[:200]}"
    replacement = JsonResponse({"code": int(code), "msg": msg}, status=status)
    if response.has_header("Allow"):
        replacement["Allow"] = response["Allow"]
    return replacement


class ResponseMiddleware:
    """A middleware that only looks at (or replaces) the response, in sync and async stacks
    alike, without the thread hop Django's ``MiddlewareMixin`` takes in async mode:
    subclasses define :meth:`process_response`."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.process_response(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        return self.process_response(request, await self.get_response(request))

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        raise NotImplementedError


class ApiErrorsMiddleware(ResponseMiddleware):
    """Every error answer under ``/api/`` is JSON: see :func:`api_error_json`."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        return api_error_json(request, response)
