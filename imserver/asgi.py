"""ASGI entry point: HTTP goes to Django, websockets to the messaging gateway."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from imserver.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Token auth is in the query string or subprotocol (not cookies), so any origin may connect.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
