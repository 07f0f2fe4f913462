"""Counts HTTP responses by status for ``im_http_requests_total`` (sync and async)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase

from apps.common.metrics import HTTP_REQUESTS
from apps.common.middleware import ResponseMiddleware


class HttpMetricsMiddleware(ResponseMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        HTTP_REQUESTS.labels(str(response.status_code)).inc()
        return response
