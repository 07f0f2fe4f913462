from django.urls import path

from apps.messaging.consumers import GatewayConsumer

websocket_urlpatterns = [path("ws/", GatewayConsumer.as_asgi())]
