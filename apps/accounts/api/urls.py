from django.urls import path

from apps.accounts.api import views

urlpatterns = [
    path("auth/admin-token", views.AdminTokenApi.as_view(), name="auth-admin-token"),
    path("auth/user-token", views.UserTokenApi.as_view(), name="auth-user-token"),
    path("auth/force-logout", views.ForceLogoutApi.as_view(), name="auth-force-logout"),
    path("users", views.UsersApi.as_view(), name="users"),
    path("users/me", views.UserMeApi.as_view(), name="users-me"),
    path("users/status", views.UserStatusApi.as_view(), name="users-status"),
    path("users/<str:user_id>", views.UserDetailApi.as_view(), name="user-detail"),
    path("users/<str:user_id>/ban", views.UserBanApi.as_view(), name="user-ban"),
]
