"""Demo sign-in for the embedded/debug setup: make the user if needed and issue a web token.

Only reachable while ``DEBUG`` is on (the view checks); production pages get their token
from the app backend (``POST /api/v1/auth/user-token``).
"""

from __future__ import annotations

from django.db import transaction

from apps.accounts import services as account_services
from apps.accounts.constants import Platform
from apps.accounts.models import User
from apps.common.errors import Code, DomainError


@transaction.atomic
def demo_sign_in(*, user_id: str, nickname: str = "") -> account_services.IssuedToken:
    """Register ``user_id`` when it is new, then issue a Web (5) token for it."""
    user = User.objects.filter(user_id=user_id).first()
    if user is None:
        user = account_services.users_register(
            users=[{"user_id": user_id, "nickname": nickname or user_id}], actor=None
        )[0]
    if user.is_app_admin or user.is_staff or user.is_superuser:
        raise DomainError(Code.NO_PERMISSION, f"{user_id} is an admin or operator account; pick another user id")
    return account_services.token_issue(user=user, platform_id=Platform.WEB, actor=None)
