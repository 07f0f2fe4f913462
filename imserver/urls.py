from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.integrations.views import metrics_view


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


api_v1 = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.relations.api.urls")),
    path("", include("apps.groups.api.urls")),
    path("", include("apps.messaging.api.urls")),
    path("", include("apps.files.api.urls")),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="index"),
    path("admin/dashboard/", include("apps.console.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("openim/", include("apps.openim.urls")),  # OpenIM v3 wire adapter (docs/openim.md)
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", healthz, name="healthz"),
    path("healthz/", include("apps.common.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("chat/", include("apps.webchat.urls")),
]
