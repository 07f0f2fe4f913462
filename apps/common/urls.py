"""Health probes under ``/healthz/`` (``/healthz`` itself stays in the root URLconf)."""

from django.urls import path

from apps.common import health

urlpatterns = [
    path("live", health.live, name="healthz-live"),
    path("ready", health.ready, name="healthz-ready"),
]
