from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.accounts import presence
from apps.console.dashboard import figures_collect, messages_per_day
from tests.admin.factories import bulk_messages

pytestmark = pytest.mark.django_db
URL = reverse("admin-dashboard")
DAY_MS = 24 * 3600 * 1000


@pytest.fixture(autouse=True)
def _no_presence_leftovers():
    presence.presence_reset_local()
    yield
    presence.presence_reset_local()


def _days_ago_ms(days: int) -> int:
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return int((today - timedelta(days=days)).timestamp() * 1000)


def test_messages_per_day_counts_each_of_the_last_14_days(alice, bob):
    bulk_messages(3, start_ms=_days_ago_ms(0) - 3000)  # 3 today
    bulk_messages(2, a="carol", b="dave", start_ms=_days_ago_ms(13) - 2000)  # 2 thirteen days ago
    bulk_messages(4, a="erin", b="fred", start_ms=_days_ago_ms(20))  # outside the window
    per_day = messages_per_day()
    assert len(per_day) == 14
    assert per_day[-1]["count"] == 3 and per_day[0]["count"] == 2
    assert sum(d["count"] for d in per_day) == 5


def test_superuser_sees_the_dashboard_with_chart_and_settings(su_client, alice, bob):
    bulk_messages(5, start_ms=_days_ago_ms(1))
    page = su_client.get(URL).content.decode()
    assert 'id="messages-chart"' in page and "<rect" in page
    assert "Online now" in page and 'id="im-settings"' in page
    assert "IM_OFFLINE_RETENTION_DAYS" in page
    assert "<script" not in page.split('id="im-dashboard"')[1]  # no scripts, no CDN


def test_online_users_come_from_presence(su_client, alice):
    presence.presence_connect(user_id="alice", conn_id="c1", platform_id=5)
    assert figures_collect().users_online == 1
    page = su_client.get(URL).content.decode()
    assert 'id="users-online"><div class="lbl">Online now</div><div class="num">1<' in page


def test_moderator_sees_dashboard_but_not_settings(mod_client):
    page = mod_client.get(URL)
    assert page.status_code == 200
    assert b'id="im-settings"' not in page.content


def test_plain_staff_and_anonymous_cannot_see_the_dashboard(staff_client, client):
    assert staff_client.get(URL).status_code == 403
    resp = client.get(URL)
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]


def test_admin_index_links_to_the_dashboard_for_those_allowed(su_client, staff_client):
    assert URL.encode() in su_client.get(reverse("admin:index")).content
    assert URL.encode() not in staff_client.get(reverse("admin:index")).content


def test_dashboard_query_budget(su_client, django_assert_max_num_queries):
    bulk_messages(30)
    su_client.get(URL)
    # session, user, 4 user counts, 14 day counts, total, 2 group counts, offline rows, last purge
    with django_assert_max_num_queries(26):
        su_client.get(URL)


def test_celery_queue_depth_is_read_from_a_redis_broker(settings, redis_url):
    import redis

    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_TASK_DEFAULT_QUEUE = "imadm-test-queue"
    client = redis.Redis.from_url(redis_url)
    client.delete("imadm-test-queue")
    client.rpush("imadm-test-queue", "a", "b", "c")
    try:
        f = figures_collect()
        assert (f.celery_broker, f.celery_queue_depth) == ("redis", 3)
    finally:
        client.delete("imadm-test-queue")


def test_no_broker_means_no_queue_figure(settings):
    settings.CELERY_BROKER_URL = ""
    f = figures_collect()
    assert (f.celery_broker, f.celery_queue_depth) == (None, None)


def test_im_stats_prints_text_and_json(alice, bob):
    bulk_messages(4, start_ms=_days_ago_ms(0) - 4000)
    out = StringIO()
    call_command("im_stats", stdout=out)
    text = out.getvalue()
    assert "messages stored:  4" in text and "online now:" in text
    out = StringIO()
    call_command("im_stats", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["messages_total"] == 4 and len(data["messages_per_day"]) == 14
    assert data["users_total"] == 2


def test_group_offline_store_and_purge_figures(alice, bob, make_user):
    from apps.groups.services import group_create, group_dismiss
    from apps.messaging.models import OfflineMessage
    from apps.messaging.retention import offline_purge

    carol = make_user("carol")
    group_create(owner=alice, name="live", member_ids=["bob"], admin_ids=[], group_id="live")
    group_create(owner=carol, name="gone", member_ids=["bob"], admin_ids=[], group_id="gone")
    group_dismiss(group_id="gone", actor=carol)
    before = figures_collect()
    assert before.groups_total == 1  # dismissed groups are not counted
    assert before.groups_active_7d == 2  # both had tips stored this week
    assert before.offline_store_rows == OfflineMessage.objects.count() > 0
    assert before.offline_last_purge is None
    offline_purge(older_than_days=1)
    assert figures_collect().offline_last_purge is not None


def test_dashboard_figures_carry_this_nodes_push_counters(db):
    from apps.common import pushhealth

    before = figures_collect().push_health
    assert {"pushes_published", "pushes_publish_failed", "subscription_losses", "backpressure_waits",
            "push_lag_ms"} <= set(before)
    pushhealth.count("pushes_publish_failed", 2)
    assert figures_collect().push_health["pushes_publish_failed"] == before["pushes_publish_failed"] + 2
