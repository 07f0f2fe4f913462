"""The static-files middleware is async-capable, so the whole middleware chain runs async under ASGI."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.utils.module_loading import import_string

from apps.common.middleware import StaticFilesMiddleware

STATIC = "/static/admin/css/base.css"


def test_every_middleware_is_async_capable():
    for path in settings.MIDDLEWARE:
        assert getattr(import_string(path), "async_capable", False), path


def test_the_asgi_chain_adapts_nothing(settings, caplog):
    settings.DEBUG = True  # Django logs each adaptation only in debug mode
    with caplog.at_level("DEBUG", logger="django.request"):
        ASGIHandler().load_middleware(is_async=True)
    assert not [r for r in caplog.records if "adapted for middleware" in r.getMessage()]


def test_async_mode_follows_the_next_handler():
    async def async_next(request):
        return HttpResponse()

    assert iscoroutinefunction(StaticFilesMiddleware(async_next))
    assert not iscoroutinefunction(StaticFilesMiddleware(lambda request: HttpResponse()))


def test_serves_static_files_sync(client):
    res = client.get(STATIC)
    assert res.status_code == 200 and b"".join(res.streaming_content)


async def test_serves_static_files_and_passes_the_rest_async(async_client):
    res = await async_client.get(STATIC)
    assert res.status_code == 200 and res["Content-Type"].startswith("text/css")
    health = await async_client.get("/healthz")
    assert health.status_code == 200
    assert (await async_client.get("/static/nothing-here.css")).status_code == 404
