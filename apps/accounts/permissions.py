from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.models import User


class IsAppAdmin(BasePermission):
    """The caller holds an admin token (app backend, user in IM_ADMIN_USER_IDS)."""

    message = "this endpoint needs an admin token"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(isinstance(user, User) and user.is_authenticated and user.is_app_admin)
