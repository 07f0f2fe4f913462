from django.urls import path, re_path

from apps.openim import rest

urlpatterns = [
    re_path(r"^(?P<path>[A-Za-z0-9_/]{1,120})$", rest.api, name="openim-api"),
    path("", rest.api, {"path": ""}, name="openim-root"),
]
