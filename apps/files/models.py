"""Uploaded files (pictures, voice, video, other files) and the messages that use them."""

from __future__ import annotations

from django.db import models


class FileKind(models.TextChoices):
    PICTURE = "picture", "picture"
    VOICE = "voice", "voice"
    VIDEO = "video", "video"
    FILE = "file", "file"


class StoredFile(models.Model):
    """One uploaded file. The bytes live in the files storage (``STORAGES["im_files"]``)."""

    file_id = models.CharField(max_length=32, unique=True)
    owner_id = models.CharField(max_length=64, db_index=True, help_text="user_id of the uploader")
    kind = models.CharField(max_length=8, choices=FileKind.choices)
    name = models.CharField(max_length=255, help_text="sanitised file name")
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=100, help_text="sniffed from the bytes, not the client's claim")
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=255)
    thumbnail_key = models.CharField(max_length=255, blank=True, default="")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_id} ({self.name})"


class FileUse(models.Model):
    """A stored message that references a file: its conversation's members may download it."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="uses")
    conversation_id = models.CharField(max_length=140, db_index=True)
    server_msg_id = models.CharField(max_length=32)
    seq = models.BigIntegerField(default=0)
    send_id = models.CharField(max_length=64)
    send_time = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "server_msg_id"], name="file_use_once_per_message")]

    def __str__(self) -> str:
        return f"{self.file_id} in {self.conversation_id}"
