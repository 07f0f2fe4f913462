from django.urls import path

from apps.messaging.consumers import GatewayConsumer
from apps.openim.routing import websocket_urlpatterns as openim_ws

websocket_urlpatterns = [path("ws/", GatewayConsumer.as_asgi()), *openim_ws]
