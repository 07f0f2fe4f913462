"""The version log itself: versions per list, collapsing, answerable range, trimming, concurrent writers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from apps.common import versionlog
from apps.common.models import VersionEntry
from apps.common.versionlog import DELETE, INSERT, UPDATE
from tests.conftest import need_service


@pytest.mark.django_db
def test_each_record_is_one_version_of_its_own_list():
    assert versionlog.record("friends", "a", [("x", INSERT), ("y", INSERT)]) == 1
    assert versionlog.record("friends", "a", [("x", UPDATE)]) == 2
    assert versionlog.record("friends", "b", [("x", INSERT)]) == 1  # another owner
    assert versionlog.record("groups", "a", [("g", INSERT)]) == 1  # another kind
    assert versionlog.record("friends", "a", []) == 0  # nothing to log: no bump
    assert versionlog.record_many("members", ["g2", "g1"], "u", UPDATE) == {"g1": 1, "g2": 1}
    assert versionlog.db_version("friends", "a") == 2


@pytest.mark.django_db
def test_changes_collapse_per_item_and_the_last_operation_wins():
    versionlog.record("friends", "a", [("x", INSERT), ("y", INSERT), ("z", INSERT)])  # 1
    versionlog.record("friends", "a", [("x", DELETE)])  # 2
    versionlog.record("friends", "a", [("y", UPDATE), ("x", INSERT)])  # 3
    versionlog.record("friends", "a", [("z", DELETE)])  # 4
    found = versionlog.changes_since("friends", "a", 1)
    assert (found.version, found.full, found.changed, found.deleted) == (4, False, ["y", "x"], ["z"])
    assert versionlog.changes_since("friends", "a", 4).changed == []
    assert versionlog.changes_since("friends", "a", 0).full  # 0 always gets the whole list
    assert versionlog.changes_since("friends", "a", 5).full  # a version never given
    assert versionlog.changes_since("friends", "nobody", 3) == versionlog.Changes(version=0, full=True)


@pytest.mark.django_db
def test_trimming_keeps_the_newest_entries_and_raises_the_answerable_version(settings):
    settings.IM_VERSION_LOG_KEEP = 3
    for n in range(10):
        versionlog.record("friends", "a", [(f"i{n}", INSERT)])
    versionlog.record("friends", "b", [("i", INSERT)])
    assert versionlog.trim() == 7
    assert VersionEntry.objects.filter(kind="friends", owner="a").count() == 3
    assert VersionEntry.objects.filter(kind="friends", owner="b").count() == 1
    assert versionlog.changes_since("friends", "a", 6).full  # its entries 7.. were kept; 7 is gone
    assert versionlog.changes_since("friends", "a", 7).changed == ["i7", "i8", "i9"]
    assert versionlog.trim() == 0  # a second run finds nothing


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_list_commit_consecutive_versions_in_order():
    need_service("MariaDB/MySQL (DATABASE_URL=mysql://...)", connection.vendor == "mysql")
    got: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(w: int) -> None:
        try:
            start.wait()
            for n in range(15):
                with transaction.atomic():
                    got.append(versionlog.record("friends", "hot", [(f"w{w}-{n}", INSERT)]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(got) == list(range(1, 61))
    found = versionlog.changes_since("friends", "hot", 1)
    assert found.version == 60 and len(found.changed) == 59
