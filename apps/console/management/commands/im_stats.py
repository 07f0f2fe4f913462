"""The dashboard's figures on the command line, as text or JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.console.dashboard import figures_collect


def _show(value: Any) -> str:
    return "unknown" if value is None else str(value)


class Command(BaseCommand):
    help = (
        "Print the operator dashboard's figures: users (total, banned, new, online now), messages per day "
        "for the last 14 days, groups (total, active in 7 days), offline-store rows and last purge, Celery "
        "queue depth. 'unknown' means the deployment does not provide that figure (no presence, no broker)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")

    def handle(self, *args: Any, **options: Any) -> None:
        f = figures_collect()
        if options["format"] == "json":
            self.stdout.write(json.dumps(f.as_dict(), indent=2))
            return
        w = self.stdout.write
        w(f"imserver figures at {f.generated_at}")
        w(f"  users:            {f.users_total} (banned {f.users_banned}, new today {f.users_new_today}, "
          f"new 7 days {f.users_new_7d})")
        w(f"  online now:       {_show(f.users_online)}")
        w(f"  messages stored:  {_show(f.messages_total)}")
        w(f"  groups:           {_show(f.groups_total)} (active 7 days: {_show(f.groups_active_7d)})")
        w(f"  offline store:    {_show(f.offline_store_rows)} rows, last purge {f.offline_last_purge or 'never'}")
        if f.celery_broker:
            w(f"  celery queue:     {_show(f.celery_queue_depth)} waiting ({f.celery_broker} broker)")
        else:
            w("  celery queue:     no broker (tasks run in-process)")
        if f.messages_per_day:
            w("  messages per day:")
            peak = max(d["count"] for d in f.messages_per_day) or 1
            for d in f.messages_per_day:
                w(f"    {d['day']}  {d['count']:>9}  {'#' * round(40 * d['count'] / peak)}")
