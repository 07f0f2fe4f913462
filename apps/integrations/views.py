"""``GET /metrics``: Prometheus text, for the addresses in ``IM_METRICS_ALLOW`` only."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.common import metrics
from apps.common.api import client_ip
from apps.common.errors import Code, DomainError


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics.address_allowed(client_ip(request), settings.IM_METRICS_ALLOW):
        err = DomainError(Code.NO_PERMISSION, "metrics are only served to the addresses in IM_METRICS_ALLOW")
        return JsonResponse(err.as_dict(), status=403)
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
