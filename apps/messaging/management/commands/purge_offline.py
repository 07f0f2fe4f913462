"""``manage.py purge_offline [--dry-run] [--older-than DAYS]``: the retention purge by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.errors import DomainError
from apps.messaging.retention import offline_purge


class Command(BaseCommand):
    help = (
        "Delete offline-store rows older than IM_OFFLINE_RETENTION_DAYS (or --older-than DAYS) in batches "
        "and advance each conversation's min_seq. Message history is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only count what would be purged")
        parser.add_argument("--older-than", type=int, metavar="DAYS", help="retention in days (default: the setting)")
        parser.add_argument("--batch-size", type=int, metavar="ROWS", help="rows per batch (default: the setting)")

    def handle(self, *args: object, **options: Any) -> None:
        days = options.get("older_than")
        batch = options.get("batch_size")
        if batch is not None and batch < 1:
            raise CommandError("--batch-size must be 1 or more")
        try:
            result = offline_purge(
                older_than_days=days,
                dry_run=bool(options.get("dry_run")),
                actor=None,
                batch_size=batch,
                source="command",
            )
        except DomainError as exc:
            raise CommandError(exc.msg) from exc
        verb = "would delete" if result.dry_run else "deleted"
        what = "conversations affected" if result.dry_run else "conversations advanced"
        self.stdout.write(
            f"{verb} {result.rows_deleted} offline rows older than {result.older_than_days} days "
            f"(sent before {result.cutoff_ms} ms); {result.conversations_advanced} {what}; "
            f"{result.batches} batches in {result.elapsed_ms} ms"
        )
