from django.urls import path

from apps.groups.api import views

urlpatterns = [
    path("groups", views.GroupsApi.as_view(), name="groups"),
    path("groups/<str:group_id>", views.GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<str:group_id>/dismiss", views.GroupDismissApi.as_view(), name="group-dismiss"),
    path("groups/<str:group_id>/members", views.GroupMembersApi.as_view(), name="group-members"),
    path("groups/<str:group_id>/kick", views.GroupKickApi.as_view(), name="group-kick"),
    path("groups/<str:group_id>/quit", views.GroupQuitApi.as_view(), name="group-quit"),
    path("groups/<str:group_id>/transfer", views.GroupTransferApi.as_view(), name="group-transfer"),
    path("groups/<str:group_id>/mute", views.GroupMuteApi.as_view(), name="group-mute"),
    path(
        "groups/<str:group_id>/members/<str:user_id>", views.GroupMemberDetailApi.as_view(), name="group-member-detail"
    ),
    path(
        "groups/<str:group_id>/members/<str:user_id>/role", views.GroupMemberRoleApi.as_view(), name="group-member-role"
    ),
    path(
        "groups/<str:group_id>/members/<str:user_id>/mute", views.GroupMemberMuteApi.as_view(), name="group-member-mute"
    ),
    path("groups/<str:group_id>/join-requests", views.GroupJoinRequestsApi.as_view(), name="group-join-requests"),
    path("group-join-requests", views.MyGroupRequestsApi.as_view(), name="my-group-join-requests"),
    path(
        "group-join-requests/<int:request_id>/accept", views.GroupRequestAcceptApi.as_view(),
        name="group-join-request-accept",
    ),
    path(
        "group-join-requests/<int:request_id>/refuse", views.GroupRequestRefuseApi.as_view(),
        name="group-join-request-refuse",
    ),
    path("users/me/groups", views.JoinedGroupsApi.as_view(), name="joined-groups"),
]
