"""Choices shared by several apps."""

from __future__ import annotations

from django.db import models


class HandleResult(models.IntegerChoices):
    """The state of a request someone has to answer (friend requests, group join requests)."""

    PENDING = 0, "pending"
    ACCEPTED = 1, "accepted"
    REFUSED = -1, "refused"
