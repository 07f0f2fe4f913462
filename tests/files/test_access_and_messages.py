"""Who may download a file, and media messages (102-105) that carry a file_id."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.files.models import FileUse
from tests.files.conftest import png_bytes, upload
from tests.messaging.conftest import connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def picture(alice_api) -> dict:
    r = upload(alice_api, png_bytes(300, 200))
    assert r.status_code == 201
    return r.json()


def _send(api, file_id: str, *, to: str = "bob", content_type: int = 102, cmid: str = "m1", **extra):
    return api.post(
        "/api/v1/messages",
        {"client_msg_id": cmid, "session_type": 1, "recv_id": to, "content_type": content_type,
         "content": {"file_id": file_id, **extra}},
        format="json",
    )


@pytest.fixture
def carol_api(make_user, api_client_for):
    return api_client_for(make_user("carol"))


def test_the_uploader_downloads_and_a_stranger_gets_404(picture, alice_api, bob_api):
    got = alice_api.get(picture["url"])
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content) == png_bytes(300, 200)
    for path in (picture["url"], picture["thumbnail_url"], f"/api/v1/files/{picture['file_id']}"):
        r = bob_api.get(path)
        assert r.status_code == 404 and r.json()["code"] == 1004
    assert bob_api.get("/api/v1/files/" + "0" * 32 + "/content").json()["code"] == 1004  # the same as a missing one


def test_downloading_without_credentials_is_401(picture, client):
    assert client.get(picture["url"]).status_code == 401


def test_sending_it_lets_the_conversation_members_download_it_and_nobody_else(picture, alice_api, bob_api, carol_api):
    r = _send(alice_api, picture["file_id"])
    assert r.status_code == 200, r.content
    assert FileUse.objects.filter(file__file_id=picture["file_id"], conversation_id="si_alice_bob").count() == 1
    got = bob_api.get(picture["url"])
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == png_bytes(300, 200)
    assert carol_api.get(picture["url"]).status_code == 404


def test_the_stored_message_carries_url_name_size_and_picture_fields(picture, alice_api, bob_api):
    assert _send(alice_api, picture["file_id"]).status_code == 200
    history = bob_api.get("/api/v1/conversations/si_alice_bob/messages").json()
    content = history["messages"][0]["content"] if "messages" in history else history["results"][0]["content"]
    assert content["file_id"] == picture["file_id"]
    assert content["url"] == picture["url"] and content["thumbnail_url"] == picture["thumbnail_url"]
    assert (content["size"], content["width"], content["height"]) == (picture["size"], 300, 200)
    assert content["name"] == "photo.png" and content["mime_type"] == "image/png"


def test_someone_elses_file_is_refused_with_1001_and_nothing_is_stored(picture, bob_api, alice):
    r = _send(bob_api, picture["file_id"], to="alice")
    assert r.status_code == 400 and r.json()["code"] == 1001
    assert not FileUse.objects.exists()
    assert bob_api.get(picture["url"]).status_code == 404


def test_a_file_that_does_not_exist_is_refused_with_1001(alice_api, bob):
    r = _send(alice_api, "f" * 32)
    assert r.status_code == 400 and r.json()["code"] == 1001
    r = _send(alice_api, 42)
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_a_picture_message_cannot_point_at_a_non_picture_file(alice_api, bob):
    doc = upload(alice_api, b"%PDF-1.4\n", name="a.pdf").json()
    r = _send(alice_api, doc["file_id"], content_type=102)
    assert r.status_code == 400 and r.json()["code"] == 1001
    ok = _send(alice_api, doc["file_id"], content_type=105, cmid="m2")
    assert ok.status_code == 200, ok.content


def test_outside_urls_stay_allowed(alice_api, bob):
    r = alice_api.post(
        "/api/v1/messages",
        {"session_type": 1, "recv_id": "bob", "content_type": 102, "content": {"url": "https://cdn.example/p.png"}},
        format="json",
    )
    assert r.status_code == 200, r.content


def test_a_signed_link_works_without_a_header_and_a_forged_one_does_not(picture, client):
    got = client.get(picture["signed_url"])
    assert got.status_code == 200
    forged = picture["signed_url"][:-3] + ("AAA" if not picture["signed_url"].endswith("AAA") else "BBB")
    r = client.get(forged)
    assert r.status_code == 403 and r.json()["code"] == 1002


def test_a_signed_link_expires(picture, client, settings):
    import time

    import time_machine

    with time_machine.travel(time.time() + 3700):
        assert client.get(picture["signed_url"]).status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_the_push_carries_the_enriched_content(tokens, settings, tmp_path):
    from asgiref.sync import sync_to_async

    alice_token, bob_token = await sync_to_async(tokens)("alice"), await sync_to_async(tokens)("bob")
    alice = await sync_to_async(User.objects.get)(user_id="alice")
    from apps.files import services

    f = await sync_to_async(services.file_upload)(
        owner_id=alice.user_id, fh=__import__("io").BytesIO(png_bytes(50, 40)), size=len(png_bytes(50, 40)),
        client_name="p.png",
    )
    a, b = await connect(alice_token), await connect(bob_token)
    try:
        reply = await a.send({"client_msg_id": "w1", "session_type": 1, "recv_id": "bob", "content_type": 102,
                              "content": {"file_id": f.file_id}})
        assert reply["code"] == 0, reply
        push = await b.push()
        content = push["data"]["content"]
        assert content["file_id"] == f.file_id and (content["width"], content["height"]) == (50, 40)
        assert content["url"].endswith(f"/api/v1/files/{f.file_id}/content")
        bad = await a.send({"client_msg_id": "w2", "session_type": 1, "recv_id": "bob", "content_type": 102,
                            "content": {"file_id": "nope"}})
        assert bad["code"] == 1001
    finally:
        await a.close()
        await b.close()


def test_group_members_download_and_a_former_member_only_what_they_could_read(alice_api, bob, carol_api):
    group = alice_api.post("/api/v1/groups", {"name": "g", "member_ids": ["bob", "carol"]}, format="json")
    assert group.status_code in (200, 201), group.content
    gid = group.json()["group_id"]

    def share(cmid: str) -> dict:
        f = upload(alice_api, png_bytes(10, 10)).json()
        r = alice_api.post("/api/v1/messages", {"client_msg_id": cmid, "session_type": 3, "group_id": gid,
                                                "content_type": 102, "content": {"file_id": f["file_id"]}},
                           format="json")
        assert r.status_code == 200, r.content
        return f

    before = share("g1")
    assert carol_api.post(f"/api/v1/groups/{gid}/quit", {}, format="json").status_code == 200
    after = share("g2")
    assert carol_api.get(before["url"]).status_code == 200  # sent while she was a member
    assert carol_api.get(after["url"]).status_code == 404  # sent after she left


def test_a_voice_message_keeps_the_clients_duration(alice_api, bob_api):
    from tests.files.test_upload import _wav

    voice = upload(alice_api, _wav(), name="note.wav", kind="voice").json()
    r = _send(alice_api, voice["file_id"], content_type=103, duration=3)
    assert r.status_code == 200, r.content
    history = bob_api.get("/api/v1/conversations/si_alice_bob/messages").json()
    content = history["messages"][0]["content"] if "messages" in history else history["results"][0]["content"]
    assert content["duration"] == 3 and content["kind"] == "voice" and content["size"] == voice["size"]
