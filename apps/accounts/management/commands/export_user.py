"""Everything stored about one user, as one JSON document (for data-access requests)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from apps.accounts.models import Token, User
from apps.audit.models import AuditLog
from apps.console.exporting import MESSAGE_FIELDS, iter_rows, model_dict
from apps.console.progress import Progress
from apps.groups.models import Group, GroupMember, GroupRequest
from apps.messaging.models import Message, MessageDeletion, UserConversation
from apps.relations.models import Black, Friend, FriendRequest

# (section name, model, Q builder)
SECTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("friends", Friend, lambda uid: Q(owner_id=uid)),
    ("friend_requests", FriendRequest, lambda uid: Q(from_user_id=uid) | Q(to_user_id=uid)),
    ("blacklist", Black, lambda uid: Q(owner_id=uid)),
    ("group_memberships", GroupMember, lambda uid: Q(user_id=uid)),
    ("groups_owned", Group, lambda uid: Q(owner_user_id=uid)),
    ("group_join_requests", GroupRequest, lambda uid: Q(user_id=uid)),
    ("conversations", UserConversation, lambda uid: Q(owner_id=uid)),
    ("message_deletions", MessageDeletion, lambda uid: Q(owner_id=uid)),
)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=None, separators=(",", ":"), default=str)


class Command(BaseCommand):
    help = (
        "Write everything stored about one user — profile, sessions, friends, friend requests, blacklist, "
        "groups, join requests, conversations, audit entries about them and the messages they sent — as one "
        "JSON document. Messages are streamed, so memory stays flat for users with millions of messages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="the user's user_id")
        parser.add_argument("-o", "--output", default="-", help="file to write ('-' = stdout, the default)")
        parser.add_argument("--no-messages", action="store_true", help="leave out the messages the user sent")
        parser.add_argument("--chunk-size", type=int, default=2000, help="messages read per query (default 2000)")
        parser.add_argument("--no-progress", action="store_true", help="no progress output on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(user_id=options["user_id"]).first()
        if user is None:
            raise CommandError(f"user {options['user_id']!r} not found")
        if not 1 <= options["chunk_size"] <= 100_000:
            raise CommandError("--chunk-size must be between 1 and 100000")
        output = options["output"]
        try:
            out: TextIO = cast(TextIO, self.stdout._out) if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        try:
            self._write(out, user, options)
        finally:
            if out is not self.stdout._out:
                out.close()

    def _write(self, out: TextIO, user: User, options: dict[str, Any]) -> None:
        uid = user.user_id
        out.write("{\n")
        out.write(f'"format":"imserver.user_export.v1",\n"exported_at":{_dump(datetime.now(UTC).isoformat())},\n')
        profile = model_dict(user, exclude=("password",))
        profile["groups"] = list(user.groups.values_list("name", flat=True))
        out.write(f'"profile":{_dump(profile)},\n')
        tokens = [model_dict(t, exclude=("id",)) for t in Token.objects.filter(user=user).order_by("created_at")]
        out.write(f'"sessions":{_dump(tokens)},\n')
        for name, model, q in SECTIONS:
            rows = [model_dict(r) for r in model.objects.filter(q(uid)).order_by("pk")]
            out.write(f'"{name}":{_dump(rows)},\n')
        audit = AuditLog.objects.filter(Q(target_type="user", target_id=uid) | Q(actor=uid)).order_by("id")
        out.write(f'"audit":{_dump([model_dict(r) for r in audit])}')
        if not options["no_messages"]:
            qs = Message.objects.filter(send_id=uid)
            show = not options["no_progress"]
            progress = Progress(qs.count() if show else None, "export_user messages", stream=sys.stderr, enabled=show)
            out.write(',\n"messages":[')
            first = True
            for page in iter_rows(qs, MESSAGE_FIELDS, chunk_size=options["chunk_size"]):
                for row in page:
                    out.write(("\n" if first else ",\n") + _dump(row))
                    first = False
                progress.advance(len(page))
            out.write("\n]")
            progress.close()
        out.write("\n}\n")
        out.flush()
