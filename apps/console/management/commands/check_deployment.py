"""Check a running deployment and say what is wrong (exit status 1 when anything is)."""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.deployment import deployment_check


class Command(BaseCommand):
    help = (
        "Check a deployment with this host's environment: database reachable and migrated, Redis "
        "reachable, Celery broker reachable, a worker on IM_CELERY_QUEUE answering, beat's heartbeat "
        "fresh, and 'check --deploy' clean. Prints one line per check; exits 1 when any fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=3.0,
                            help="seconds to wait for the broker and for workers to answer (default 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["timeout"] <= 0:
            raise CommandError("--timeout must be positive")
        results = deployment_check(app=current_app._get_current_object(), timeout=options["timeout"])
        width = max(len(r.name) for r in results)
        for r in results:
            line = f"{r.status:<5} {r.name:<{width}}  {r.detail}"
            self.stdout.write(self.style.ERROR(line) if r.failed else line)
        failed = [r.name for r in results if r.failed]
        if failed:
            raise CommandError(f"{len(failed)} problem(s): {', '.join(failed)}")
        self.stdout.write(self.style.SUCCESS("deployment ok"))
