"""Counts HTTP responses by status for ``im_http_requests_total`` (sync and async)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from apps.common.metrics import HTTP_REQUESTS


class HttpMetricsMiddleware:
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
        response = self.get_response(request)
        HTTP_REQUESTS.labels(str(response.status_code)).inc()
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        HTTP_REQUESTS.labels(str(response.status_code)).inc()
        return response
