from django.urls import path

websocket_urlpatterns: list = []

try:  # the gateway lives in apps.messaging
    from apps.messaging.consumers import GatewayConsumer

    websocket_urlpatterns.append(path("ws/", GatewayConsumer.as_asgi()))
except ImportError:  # pragma: no cover - before the messaging app has a gateway
    pass
