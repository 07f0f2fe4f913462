"""First-run setup for the embedded quick start: an operator account and where to go."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.models import User
from apps.accounts.services import admin_user_ensure


class Command(BaseCommand):
    help = (
        "Create the app admin users (IM_ADMIN_USER_IDS) and, if no operator exists, an admin-site "
        "superuser 'operator' with a random password (printed once). Prints the URLs to open and, on "
        "every run, how to log in to the admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--operator", default="operator", help="user id of the admin-site superuser")

    def handle(self, *args: Any, **options: Any) -> None:
        for user_id in settings.IM_ADMIN_USER_IDS:
            admin_user_ensure(user_id)
        password = None
        if not User.objects.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(options["operator"], password, nickname="Operator")
        base = f"http://{options['host']}:{options['port']}"
        out = self.stdout.write
        out("")
        out("imserver is starting")
        out(f"  admin:      {base}/admin/")
        if password:
            out(f"              operator login: {options['operator']} / {password}")
            out(f"              (shown once; reset with: manage.py changepassword {options['operator']})")
        else:
            names = list(
                User.objects.filter(is_superuser=True, is_active=True).order_by("pk").values_list("user_id", flat=True)[:3]
            ) or [options["operator"]]
            out(f"              operator login: {' or '.join(names)}, with the password shown at the first run")
            out(f"              (forgot it? .venv/bin/python manage.py changepassword {names[0]})")
        if settings.DEBUG:
            out(f"  chat:       {base}/chat/   (demo sign-in: any user id; DEBUG only)")
        else:
            out(f"  chat:       {base}/chat/#token=<user token>   (or paste a token on the page)")
        out(f"  API docs:   {base}/api/docs/   (schema: {base}/api/schema/)")
        out(f"  websocket:  ws://{options['host']}:{options['port']}/ws/?token=<token>&platform_id=<id>")
        if settings.IM_SECRET.startswith("change-me"):
            where = f' "{settings.IM_SECRET}" (the default: set IM_SECRET in production)'
        else:
            where = " (the value of IM_SECRET)"
        out(f"  admin token: POST {base}/api/v1/auth/admin-token with secret{where}")
        out(f"               and user_id one of {', '.join(settings.IM_ADMIN_USER_IDS)}")
        out("")
