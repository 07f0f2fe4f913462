"""Setup for a benchmark run, in-process against the server's database and cache.

Creating thousands of users, tokens, friendships and big groups through the rate-limited
REST API would take longer than the measurement, so setup calls the same services the API
calls (tokens are inserted in bulk with the same row, cache entry and signed string that
``token_issue`` makes). Only setup takes this path: the load itself goes over websockets
and HTTP. Reads a JSON spec on stdin, writes JSON to stdout:

    {"users": ["u1", ...], "tokens": ["u1", ...], "friends": [{"owner": "u1", "friends": [...]}],
     "groups": [{"owner": "u1", "members": [...], "name": "..."}]}
    -> {"ok": true, "tokens": {"u1": "<token>"}, "groups": ["<group_id>", ...], "seconds": 1.2}

One spec per line; the process stays up for the next one until stdin closes.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from django.conf import settings
    from django.db import transaction

    from apps.accounts.constants import TokenStatus
    from apps.accounts.models import Token, User
    from apps.accounts.services import admin_user_ensure, users_register
    from apps.accounts.tokens import TokenClaims, token_encode, token_status_cache_set_many

    t0 = time.monotonic()
    admin = admin_user_ensure(settings.IM_ADMIN_USER_IDS[0])
    users = spec.get("users") or []
    existing = set(User.objects.filter(user_id__in=users).values_list("user_id", flat=True)) if users else set()
    new = [u for u in users if u not in existing]
    for chunk in _chunks(new, 1000):
        users_register(users=[{"user_id": u, "nickname": u} for u in chunk], actor=admin)

    tokens: dict[str, str] = {}
    platform_id = int(spec.get("platform_id", 5))
    want = spec.get("tokens") or []
    for chunk in _chunks(want, 1000):
        pks = dict(User.objects.filter(user_id__in=chunk).values_list("user_id", "pk"))
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=settings.IM_TOKEN_TTL_SECONDS)
        rows = []
        for uid in chunk:
            jti = secrets.token_hex(16)
            rows.append(Token(jti=jti, user_id=pks[uid], platform_id=platform_id, created_at=now, expires_at=expires))
            tokens[uid] = token_encode(TokenClaims(user_id=uid, platform_id=platform_id, jti=jti,
                                                   expires_at=int(expires.timestamp())))
        with transaction.atomic():
            Token.objects.bulk_create(rows)
        token_status_cache_set_many([r.jti for r in rows], TokenStatus.NORMAL)

    if spec.get("friends"):
        from apps.relations.services import friends_import

        for item in spec["friends"]:
            for chunk in _chunks(item["friends"], 1000):
                friends_import(owner_id=item["owner"], friend_ids=chunk, actor=admin)

    groups: list[str] = []
    if spec.get("groups"):
        from apps.groups.services import group_create

        for item in spec["groups"]:
            owner = User.objects.get(user_id=item["owner"])
            members = [m for m in item["members"] if m != item["owner"]]
            group = group_create(owner=owner, name=item.get("name", "bench"), member_ids=members, admin_ids=[])
            groups.append(str(getattr(group, "group_id", group)))
    return {"tokens": tokens, "groups": groups, "seconds": round(time.monotonic() - t0, 2)}


def main() -> None:
    """One JSON spec per stdin line, one JSON answer per stdout line (Django set up once)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
    import django

    django.setup()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            result = {"ok": True, **run(orjson.loads(line))}
        except Exception as exc:  # noqa: BLE001 - the orchestrator reports it
            import traceback

            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
