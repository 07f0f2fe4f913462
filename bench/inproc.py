"""CPU per request of the hot REST reads, in-process (no server, no network): ``python -m bench.inproc``.

Creates a throw-away test database (``test_<name>`` of ``DATABASE_URL``; in memory for SQLite),
provisions one user with ``--friends`` friends, a group of ``--members`` members and
``--conversations`` conversations with a message each, then calls each endpoint through
Django's test client (the real URLconf, middleware, authentication and rendering) and reports the
process CPU time per request and the queries each request makes. The cache is the configured one
(Redis with ``REDIS_URL``); the run's user ids are fresh, so nothing cached by an earlier run is read.

    python -m bench.inproc [--requests 300] [--friends 500] [--members 500] [--conversations 50] [--json]
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
from typing import Any

import orjson


def _provision(prefix: str, friends: int, members: int, conversations: int) -> dict[str, Any]:
    from apps.accounts.models import User
    from apps.messaging.models import SessionType
    from apps.messaging.services.send import SendRequest, messages_send
    from bench.provision import run

    me = f"{prefix}me"
    friend_ids = [f"{prefix}f{i}" for i in range(friends)]
    member_ids = [f"{prefix}m{i}" for i in range(members)]
    out = run({"users": [me, *friend_ids, *member_ids], "tokens": [me],
               "friends": [{"owner": me, "friends": friend_ids}],
               "groups": [{"owner": me, "members": member_ids, "name": "inproc"}]})
    group_id = out["groups"][0]
    User.objects.filter(user_id=me).update(ex={"app": "inproc", "n": 1})
    reqs = [
        SendRequest(send_id=friend_ids[i % len(friend_ids)], session_type=SessionType.SINGLE, content_type=101,
                    content={"content": f"hello {i}"}, recv_id=me, trusted=True)
        for i in range(max(0, conversations - 1))
    ]
    reqs.append(SendRequest(send_id=me, session_type=SessionType.GROUP, content_type=101,
                            content={"content": "hello group"}, group_id=group_id, trusted=True))
    results = messages_send(reqs)
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise RuntimeError(f"provisioning sends failed: {failed[:3]}")
    from apps.messaging.models import UserConversation

    # the friend import's notifications open a conversation with every friend, as in the bench's rest scenario
    listed = UserConversation.objects.filter(owner_id=me).count()
    return {"token": out["tokens"][me], "group_id": group_id, "listed_conversations": listed}


def _measure(client: Any, path: str, token: str, n: int) -> dict[str, Any]:
    from django.db import connection, reset_queries

    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for _ in range(max(5, n // 20)):  # warm every cache the request fills
        resp = client.get(path, secure=True, **headers)
        assert resp.status_code == 200, (path, resp.status_code, resp.content[:300])  # noqa: S101 - a bench precondition
    connection.force_debug_cursor = True
    reset_queries()
    client.get(path, secure=True, **headers)
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        client.get(path, secure=True, **headers)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"path": path, "cpu_ms": round(cpu * 1000 / n, 3), "wall_ms": round(wall * 1000 / n, 3),
            "queries": queries, "bytes": len(resp.content)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--friends", type=int, default=500)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
    import django

    django.setup()
    logging.disable(logging.WARNING)  # the provisioning's task and request logs are not the result
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        ctx = _provision(f"ip{secrets.token_hex(3)}", args.friends, args.members, args.conversations)
        client = Client()
        paths = {
            "bare (GET /healthz)": "/healthz",
            "users/me": "/api/v1/users/me",
            "friends (50 of N)": "/api/v1/friends?limit=50",
            "joined groups": "/api/v1/users/me/groups",
            "group members (50 of N)": f"/api/v1/groups/{ctx['group_id']}/members?limit=50",
            "conversations": "/api/v1/conversations",
        }
        rows = {}
        for name, path in paths.items():
            try:
                rows[name] = _measure(client, path, ctx["token"], args.requests)
            except AssertionError as exc:
                rows[name] = {"path": path, "error": str(exc)}
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    info = {"database": connection.vendor, "cache": _cache_backend(), "requests": args.requests,
            "friends": args.friends, "members": args.members, "conversations": args.conversations,
            "listed_conversations": ctx["listed_conversations"]}
    if args.json:
        sys.stdout.write(orjson.dumps({"params": info, "results": rows}, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    sys.stdout.write(f"# {info}\n| endpoint | CPU ms/request | wall ms/request | queries | bytes |\n|---|---|---|---|---|\n")
    for name, r in rows.items():
        if "error" in r:
            sys.stdout.write(f"| {name} | error: {r['error']} | | | |\n")
        else:
            sys.stdout.write(f"| {name} | {r['cpu_ms']} | {r['wall_ms']} | {r['queries']} | {r['bytes']} |\n")


def _cache_backend() -> str:
    from django.conf import settings

    return str(settings.CACHES["default"]["BACKEND"]).rsplit(".", 1)[-1]


if __name__ == "__main__":
    main()
