"""Deploy checks of imserver's own settings (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

DEFAULT_SECRET = "change-me-imserver-secret"


@register(Tags.security, deploy=True)
def check_im_secret(app_configs: Any, **kwargs: Any) -> list[Any]:
    if settings.IM_SECRET == DEFAULT_SECRET or len(settings.IM_SECRET) < 16:
        return [
            Warning(
                "IM_SECRET is the default or shorter than 16 characters.",
                hint="Set the IM_SECRET environment variable to a long random string.",
                id="imserver.W001",
            )
        ]
    return []
