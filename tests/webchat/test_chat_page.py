"""The /chat/ page and its debug-only demo sign-in, through Django's test client."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.models import Token, User

pytestmark = pytest.mark.django_db


def test_chat_page_is_served_with_its_modules_and_a_strict_policy(settings):
    settings.DEBUG = False
    resp = Client().get("/chat/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'src="/static/chat/js/app.js"' in html and 'type="module"' in html
    assert 'href="/static/chat/chat.css"' in html
    assert "Sign in with a token" in html
    assert "demo-form" not in html  # no demo sign-in in production
    csp = resp["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' ws://testserver" in csp
    assert resp["Referrer-Policy"] == "no-referrer"


def test_chat_page_loads_pictures_and_media_from_this_server_only(settings):
    settings.IM_FILES_URL_BASE = ""
    resp = Client().get("/chat/")
    directives = dict(d.strip().split(" ", 1) for d in resp["Content-Security-Policy"].split(";"))
    assert directives["img-src"] == "'self' data: blob:"  # thumbnails come through signed links of this server
    assert directives["media-src"] == "'self' blob:"
    assert "http" not in directives["img-src"]
    assert 'data-files-origin=""' in resp.content.decode()
    assert 'id="attach-input"' in resp.content.decode() and 'id="attach"' in resp.content.decode()


def test_chat_page_policy_admits_an_absolute_file_url_base(settings):
    settings.IM_FILES_URL_BASE = "https://files.example.com/im"
    settings.IM_FILE_URL_TTL_SECONDS = 600
    resp = Client().get("/chat/")
    directives = dict(d.strip().split(" ", 1) for d in resp["Content-Security-Policy"].split(";"))
    assert directives["img-src"] == "'self' data: blob: https://files.example.com"
    assert directives["connect-src"].endswith(" https://files.example.com")
    html = resp.content.decode()
    assert 'data-files-origin="https://files.example.com"' in html and 'data-file-link-ttl="600"' in html


def test_chat_page_offers_the_marked_demo_sign_in_only_with_debug(settings):
    settings.DEBUG = True
    html = Client().get("/chat/").content.decode()
    assert 'id="demo-form"' in html and "DEBUG only" in html


def test_chat_static_files_are_served():
    for path in ("/static/chat/js/app.js", "/static/chat/js/socket.js", "/static/chat/js/api.js",
                 "/static/chat/js/render.js", "/static/chat/js/files.js", "/static/chat/chat.css"):
        resp = Client().get(path)
        assert resp.status_code == 200, path


def test_demo_sign_in_creates_the_user_and_a_working_web_token(settings):
    settings.DEBUG = True
    resp = APIClient().post("/chat/demo-sign-in", {"user_id": "newbie", "nickname": "New Bie"}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["user_id"] == "newbie" and body["platform_id"] == 5 and body["expires_in"] > 0
    assert User.objects.get(user_id="newbie").nickname == "New Bie"
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {body['token']}").get("/api/v1/users/me")
    assert me.status_code == 200 and me.json()["user_id"] == "newbie"


def test_demo_sign_in_of_an_existing_user_issues_a_token_without_registering_again(settings, alice):
    settings.DEBUG = True
    resp = APIClient().post("/chat/demo-sign-in", {"user_id": "alice"}, format="json")
    assert resp.status_code == 200
    assert User.objects.filter(user_id="alice").count() == 1
    assert Token.objects.filter(user=alice, platform_id=5).count() == 1


def test_demo_sign_in_does_not_exist_without_debug(settings):
    settings.DEBUG = False
    resp = APIClient().post("/chat/demo-sign-in", {"user_id": "mallory"}, format="json")
    assert resp.status_code == 404
    assert resp.json()["code"] == 1004
    assert not User.objects.filter(user_id="mallory").exists()


def test_demo_sign_in_refuses_admin_accounts_and_bad_ids(settings, admin_user):
    settings.DEBUG = True
    resp = APIClient().post("/chat/demo-sign-in", {"user_id": admin_user.user_id}, format="json")
    assert resp.status_code == 403 and resp.json()["code"] == 1002
    assert not Token.objects.filter(user=admin_user).exists()
    for bad in ({"user_id": "a:b"}, {"user_id": ""}, {"user_id": "x" * 65}, {}):
        resp = APIClient().post("/chat/demo-sign-in", bad, format="json")
        assert resp.status_code == 400 and resp.json()["code"] == 1001, bad


def test_demo_sign_in_refuses_a_banned_user(settings, make_user):
    settings.DEBUG = True
    make_user("banned1", is_banned=True)
    resp = APIClient().post("/chat/demo-sign-in", {"user_id": "banned1"}, format="json")
    assert resp.status_code == 403 and resp.json()["code"] == 1103


def test_admin_user_page_links_to_the_chat_with_a_pasted_token(make_user, alice):
    root = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    html = client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
    assert 'href="/chat/#paste&amp;user=alice"' in html
    assert "Open the chat page with a token I paste" in html


def test_bootstrap_prints_the_chat_url(settings, capsys):
    settings.DEBUG = True
    call_command("im_bootstrap", "--port", "9998")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9998/chat/" in out and "http://127.0.0.1:9998/admin/" in out
