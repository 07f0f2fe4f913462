"""Middleware of our own.

``StaticFilesMiddleware`` is whitenoise's middleware made async-capable: whitenoise's
own is sync-only, so under ASGI every request (API calls included) hopped from the
event loop to a worker thread and back just to pass it. With this one the whole
middleware chain is async and only the (sync) view runs in a thread.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


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
