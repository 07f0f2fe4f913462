from django.urls import path

from apps.relations.api import views

urlpatterns = [
    path("friend-requests", views.FriendRequestsApi.as_view(), name="friend-requests"),
    path("friend-requests/<int:request_id>/accept", views.FriendRequestAcceptApi.as_view(), name="friend-request-accept"),
    path("friend-requests/<int:request_id>/refuse", views.FriendRequestRefuseApi.as_view(), name="friend-request-refuse"),
    path("friend-imports", views.FriendImportApi.as_view(), name="friend-imports"),
    path("friends", views.FriendsApi.as_view(), name="friends"),
    path("friends/<str:user_id>", views.FriendDetailApi.as_view(), name="friend-detail"),
    path("friends/<str:user_id>/status", views.FriendStatusApi.as_view(), name="friend-status"),
    path("blacklist", views.BlacklistApi.as_view(), name="blacklist"),
    path("blacklist/<str:user_id>", views.BlacklistDetailApi.as_view(), name="blacklist-detail"),
]
