from django.urls import path

from apps.webchat import views

urlpatterns = [
    path("", views.chat_page, name="chat"),
    path("demo-sign-in", views.DemoSignInApi.as_view(), name="chat-demo-sign-in"),
]
