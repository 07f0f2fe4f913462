"""The version log of the hot lists (friends, joined groups, group members, conversations).

One :class:`VersionHead` per list (``kind``, ``owner``) holds the list's current version and
the oldest version still answerable after trimming; :class:`VersionEntry` rows record which
item changed at which version. :mod:`apps.common.versionlog` writes and reads them.
"""

from __future__ import annotations

from django.db import models


class VersionOp(models.IntegerChoices):
    INSERT = 1, "insert"
    UPDATE = 2, "update"
    DELETE = 3, "delete"


class VersionHead(models.Model):
    kind = models.CharField(max_length=16)
    owner = models.CharField(max_length=64)
    version = models.BigIntegerField(default=0)
    # changes since a version below this were trimmed: such a client gets the full list
    min_version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "owner"], name="versionhead_list")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner}@{self.version}"


class VersionEntry(models.Model):
    kind = models.CharField(max_length=16)
    owner = models.CharField(max_length=64)
    version = models.BigIntegerField()
    item_id = models.CharField(max_length=140)
    op = models.PositiveSmallIntegerField(choices=VersionOp.choices)

    class Meta:
        indexes = [models.Index(fields=["kind", "owner", "version"], name="versionentry_list")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.owner}@{self.version} {self.item_id}"
