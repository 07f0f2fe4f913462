from django.urls import path

from apps.openim.consumers import OpenIMConsumer

websocket_urlpatterns = [path("openim/ws", OpenIMConsumer.as_asgi())]
