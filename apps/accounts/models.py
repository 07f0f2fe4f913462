from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models

from apps.accounts.constants import PLATFORM_CHOICES, RecvOpt, TokenStatus

user_id_validator = RegexValidator(
    r"^[^:\s][^:]{0,63}$", "user_id is 1-64 characters, without ':' and not starting with a space"
)


class UserManager(BaseUserManager["User"]):
    def create_user(self, user_id: str, password: str | None = None, **fields: object) -> User:
        user = self.model(user_id=user_id, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, user_id: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(user_id, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A user of the app, keyed by the app's own ``user_id`` string.

    Operators of the Django admin are users too (``is_staff``), with a password.
    """

    user_id = models.CharField(max_length=64, unique=True, validators=[user_id_validator])
    nickname = models.CharField(max_length=64, blank=True, db_index=True)
    face_url = models.CharField(max_length=512, blank=True)
    ex = models.JSONField(default=dict, blank=True, help_text="free JSON kept for the app")
    app_manager_level = models.PositiveSmallIntegerField(
        default=0, help_text="2 or more makes the user an app admin of the REST API"
    )
    global_recv_msg_opt = models.PositiveSmallIntegerField(
        default=RecvOpt.NORMAL, choices=[(o.value, o.name.lower()) for o in RecvOpt]
    )
    is_banned = models.BooleanField(default=False, db_index=True)
    banned_reason = models.CharField(max_length=255, blank=True)
    is_staff = models.BooleanField(default=False, help_text="may log in to the admin")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "user_id"
    REQUIRED_FIELDS = []  # noqa: RUF012 - Django reads it as a class attribute

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.user_id

    @property
    def is_app_admin(self) -> bool:
        return self.user_id in settings.IM_ADMIN_USER_IDS or self.app_manager_level >= 2


class Token(models.Model):
    """One issued token: its id (jti) is inside the signed token string."""

    jti = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    platform_id = models.PositiveSmallIntegerField(choices=PLATFORM_CHOICES)
    status = models.PositiveSmallIntegerField(
        default=TokenStatus.NORMAL, choices=[(s.value, s.name.lower()) for s in TokenStatus]
    )
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "status", "platform_id"], name="token_user_status")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.platform_id}:{self.jti}"
