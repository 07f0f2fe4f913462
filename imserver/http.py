"""The HTTP side of the ASGI application.

Django's ``ASGIHandler`` runs each request's synchronous code (the view, the ORM) on a
thread created for that request (``ThreadSensitiveContext``). Database connections
belong to a thread, so every request opened a new MariaDB connection and
``CONN_MAX_AGE`` kept nothing (and under load the per-request connections ran into
the server's connection limit). This handler keeps ``IM_HTTP_THREADS`` long-lived
threads instead and gives each request the least busy one: each thread keeps its
database connection for ``DB_CONN_MAX_AGE`` seconds, and while one request waits on
the database another thread runs the next. Request handling stays asynchronous; the
middleware chain is async throughout (``apps.common.middleware``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler


class PersistentConnectionASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        n = max(1, int(settings.IM_HTTP_THREADS))
        self._executors = [ThreadPoolExecutor(1, thread_name_prefix=f"im-http-{i}") for i in range(n)]
        self._busy = [0] * n

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        i = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[i] += 1
        try:
            async with ThreadSensitiveContext(executor=self._executors[i]):
                await self.handle(scope, receive, send)
        finally:
            self._busy[i] -= 1
