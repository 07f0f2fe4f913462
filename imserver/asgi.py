"""ASGI entry point: HTTP goes to Django, websockets to the messaging gateway."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from imserver.gctuning import tune_gc_for_server  # noqa: E402
from imserver.http import PersistentConnectionASGIHandler  # noqa: E402
from imserver.limits import RequestLimitsMiddleware, apply_server_limits  # noqa: E402
from imserver.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestLimitsMiddleware(PersistentConnectionASGIHandler()),
        # Token auth is in the query string or subprotocol (not cookies), so any origin may connect.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

apply_server_limits()  # the URL, header and body limits, also where the server parses requests
tune_gc_for_server()  # last: everything loaded so far is frozen out of the collector's scans
