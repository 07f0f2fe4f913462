"""Concurrent writes on a real database: the group row lock keeps the size cap and single handling."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from apps.accounts.models import User
from apps.common.errors import Code, DomainError
from apps.groups import services
from apps.groups.models import GroupMember, GroupRequest, HandleResult
from tests.conftest import need_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_database(notes):
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", connection.vendor == "mysql")


def _run(workers: list) -> list[object]:
    results: list[object] = [None] * len(workers)
    start = threading.Barrier(len(workers))

    def go(i: int) -> None:
        try:
            start.wait()
            results[i] = workers[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_invites_never_pass_the_size_cap(settings):
    settings.IM_GROUP_MAX_MEMBERS = 5
    owner = User.objects.create_user("owner")
    for i in range(8):
        User.objects.create_user(f"u{i}")
    services.group_create(owner=owner, name="g", member_ids=[], admin_ids=[], group_id="cap")
    results = _run([lambda i=i: services.group_invite(group_id="cap", actor=owner, user_ids=[f"u{i}"])
                    for i in range(8)])
    full = [r for r in results if isinstance(r, DomainError) and r.code == Code.GROUP_FULL]
    assert len(full) == 4, results
    assert GroupMember.objects.filter(group_id="cap").count() == 5


def test_a_join_request_is_handled_once_under_concurrency():
    owner = User.objects.create_user("owner")
    admin = User.objects.create_user("admin")
    applicant = User.objects.create_user("applicant")
    services.group_create(owner=owner, name="g", member_ids=[], admin_ids=["admin"], group_id="once")
    req = services.group_join(group_id="once", user=applicant)["request"]
    results = _run([
        lambda: services.group_request_accept(request_id=req.pk, actor=owner),
        lambda: services.group_request_refuse(request_id=req.pk, actor=admin),
    ])
    handled = [r for r in results if isinstance(r, DomainError) and r.code == Code.GROUP_REQUEST_HANDLED]
    assert len(handled) == 1, results
    final = GroupRequest.objects.get(pk=req.pk).handle_result
    joined = GroupMember.objects.filter(group_id="once", user_id="applicant").exists()
    assert joined == (final == HandleResult.ACCEPTED)
