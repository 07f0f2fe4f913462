from django.urls import path

from apps.messaging.api import views

urlpatterns = [
    path("conversations", views.ConversationsApi.as_view(), name="conversations"),
    path(
        "conversations/<path:conversation_id>/messages",
        views.ConversationMessagesApi.as_view(),
        name="conversation-messages",
    ),
    path("conversations/<path:conversation_id>/read", views.ConversationReadApi.as_view(), name="conversation-read"),
    path("conversations/<path:conversation_id>", views.ConversationDetailApi.as_view(), name="conversation-detail"),
    path("messages", views.MessagesApi.as_view(), name="messages"),
    path("messages/<str:server_msg_id>/revoke", views.MessageRevokeApi.as_view(), name="message-revoke"),
    path(
        "messages/<str:server_msg_id>/delete-for-me",
        views.MessageDeleteForMeApi.as_view(),
        name="message-delete-for-me",
    ),
]
