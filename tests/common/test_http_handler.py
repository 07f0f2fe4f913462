"""The ASGI HTTP handler runs views on a few long-lived threads, so DB connections are reused."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from imserver.http import PersistentConnectionASGIHandler

seen: list[tuple[str, int]] = []


def probe(request):  # noqa: ANN001, ANN201 - a plain Django view for this test's URLconf
    connection.ensure_connection()
    seen.append((threading.current_thread().name, id(connection.connection)))
    return JsonResponse({"thread": threading.current_thread().name})


urlpatterns = [path("probe", probe)]


async def _get(app: PersistentConnectionASGIHandler) -> int:
    scope = {"type": "http", "method": "GET", "path": "/probe", "query_string": b"", "headers": [(b"host", b"testserver")],
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "scheme": "http", "http_version": "1.1",
             "asgi": {"version": "3.0"}}
    comm = ApplicationCommunicator(app, scope)
    await comm.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await comm.receive_output(10)
    await comm.receive_output(10)
    await comm.wait(10)
    return start["status"]


@pytest.mark.django_db(transaction=True)
async def test_requests_run_on_the_handlers_threads_and_reuse_their_connections(settings):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite connections are closed after every request (CONN_MAX_AGE 0)")
    settings.ROOT_URLCONF = __name__
    settings.IM_HTTP_THREADS = 2
    seen.clear()
    app = PersistentConnectionASGIHandler()
    statuses = await asyncio.gather(*(_get(app) for _ in range(8)))
    statuses += [await _get(app) for _ in range(4)]
    assert statuses == [200] * 12
    threads = {name for name, _ in seen}
    assert threads <= {"im-http-0_0", "im-http-1_0"} and len(threads) == 2
    # one connection per thread, reused from request to request
    assert len({conn for _, conn in seen}) == 2
