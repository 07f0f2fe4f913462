"""Shared fixtures: users, tokens, API clients, real-service switches."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.accounts.constants import Platform
from apps.accounts.models import User
from apps.common.listsync import local_pages

ADMIN_ID = "imAdmin"


@pytest.fixture(autouse=True)
def _im_test_settings(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.IM_SECRET = "test-secret-0123456789"
    settings.IM_ADMIN_USER_IDS = [ADMIN_ID]
    cache.clear()
    local_pages.clear()  # test databases reuse user ids and list versions
    yield
    cache.clear()
    local_pages.clear()


def services_required() -> bool:
    return os.environ.get("IM_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes", "on"}


def need_service(name: str, available: bool) -> None:
    """Skip when a real service is not configured, but fail in CI (IM_REQUIRE_SERVICES=1)."""
    if available:
        return
    if services_required():
        pytest.fail(f"{name} is required (IM_REQUIRE_SERVICES=1) but not configured")
    pytest.skip(f"{name} not configured")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    need_service("Redis (REDIS_URL)", bool(url))
    return url


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    counter = {"n": 0}

    def make(user_id: str | None = None, **fields: object) -> User:
        counter["n"] += 1
        uid = user_id or f"user{counter['n']}"
        fields.setdefault("nickname", uid.capitalize())
        return User.objects.create_user(uid, **fields)

    return make


@pytest.fixture
def issue_token(db) -> Callable[..., str]:
    def issue(user: User, platform_id: int = Platform.WEB) -> str:
        return account_services.token_issue(user=user, platform_id=platform_id, actor=None).token

    return issue


@pytest.fixture
def api_client_for(issue_token) -> Callable[..., APIClient]:
    def make(user: User, platform_id: int = Platform.WEB) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(user, platform_id)}")
        return client

    return make


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user(ADMIN_ID, app_manager_level=2)


@pytest.fixture
def admin_api(admin_user, api_client_for) -> APIClient:
    return api_client_for(admin_user, Platform.ADMIN)


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice")


@pytest.fixture
def bob(make_user) -> User:
    return make_user("bob")


@pytest.fixture
def alice_api(alice, api_client_for) -> APIClient:
    return api_client_for(alice)


@pytest.fixture
def bob_api(bob, api_client_for) -> APIClient:
    return api_client_for(bob)
