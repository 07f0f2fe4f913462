"""Concurrent friend-list writes on a real database: a client syncing with since_version never misses a change."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.common.errors import DomainError
from apps.relations import services
from apps.relations.models import Friend
from tests.conftest import need_service

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS, FRIENDS_EACH, OPS_EACH = 3, 6, 40


@pytest.fixture(autouse=True)
def _real_database():
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", connection.vendor == "mysql")


def _apply(state: dict[str, str], body: dict) -> None:
    if body["full"]:
        state.clear()
    for item in body["changed"]:
        state[item["friend_user_id"]] = item["remark"]
    for friend_id in body["deleted"]:
        state.pop(friend_id, None)


def test_a_client_syncing_during_concurrent_changes_ends_with_the_database_list():
    owner = User.objects.create_user("owner")
    admin = User.objects.create_user("imAdmin", app_manager_level=2)
    groups = [[f"w{w}f{i}" for i in range(FRIENDS_EACH)] for w in range(WRITERS)]
    for ids in groups:
        for uid in ids:
            User.objects.create_user(uid)
    token = account_services.token_issue(user=owner, platform_id=5, actor=None).token
    done = threading.Event()
    errors: list[BaseException] = []
    syncs = {"n": 0, "changes": 0}
    client_state: dict[str, str] = {}

    def writer(seed: int, ids: list[str]) -> None:
        rnd = random.Random(seed)  # noqa: S311 - test data
        try:
            for n in range(OPS_EACH):
                friend_id = rnd.choice(ids)
                op = rnd.choice(["add", "add", "update", "delete"])
                try:
                    if op == "add":
                        services.friends_import(owner_id="owner", friend_ids=[friend_id], actor=admin)
                    elif op == "update":
                        services.friend_update(owner=owner, friend_id=friend_id, data={"remark": f"{seed}-{n}"})
                    else:
                        services.friend_delete(owner=owner, friend_id=friend_id)
                except DomainError:
                    pass  # not friends (update, delete of a friend not in the list)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def reader() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        version = 0
        try:
            while True:
                last_round = done.is_set()
                r = api.get("/api/v1/friends", {"since_version": version})
                assert r.status_code == 200, r.content
                body = r.json()
                assert body["version"] >= version
                _apply(client_state, body)
                syncs["n"] += 1
                syncs["changes"] += len(body["changed"]) + len(body["deleted"])
                version = body["version"]
                if last_round:
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(w, ids)) for w, ids in enumerate(groups)]
    sync_thread = threading.Thread(target=reader)
    sync_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    done.set()
    sync_thread.join(120)
    assert not errors, errors
    in_db = dict(Friend.objects.filter(owner_id="owner").values_list("friend_id", "remark"))
    assert client_state == in_db
    assert syncs["n"] > 2 and syncs["changes"] > 0  # the reader synced while the writers wrote
