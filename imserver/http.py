"""The HTTP side of the ASGI application.

Django's ``ASGIHandler`` runs each request's synchronous code (views, ORM) in a
thread created for that request (``ThreadSensitiveContext``). Database
connections belong to a thread, so every request opened a new MariaDB connection
and ``CONN_MAX_AGE`` kept nothing. This handler runs them on the process's one
shared sync thread instead, the same thread the websocket gateway's
``database_sync_to_async`` calls use, where connections persist for
``CONN_MAX_AGE`` seconds and are health-checked before reuse. Request handling
stays asynchronous; only the synchronous parts queue on that thread, one at a
time, which is what the GIL allows anyway.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler


class PersistentConnectionASGIHandler(ASGIHandler):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)
