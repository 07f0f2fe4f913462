"""Bulk-register users from JSON lines or CSV. Idempotent: users that exist are skipped (or updated)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts import services
from apps.accounts.models import User, user_id_validator
from apps.common.errors import Code, DomainError
from apps.console.progress import Progress

FIELDS = ("user_id", "nickname", "face_url", "ex")
MAX_LEN = {"nickname": 64, "face_url": 512}


def _rows(stream: TextIO, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == "csv":
        reader = csv.DictReader(stream)
        if not reader.fieldnames or "user_id" not in reader.fieldnames:
            raise CommandError("the CSV header must name a user_id column (and optionally nickname, face_url, ex)")
        for row in reader:
            yield reader.line_num, dict(row)
        return
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CommandError(f"line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise CommandError(f"line {number}: expected a JSON object")
        yield number, item


def _clean(number: int, item: dict[str, Any]) -> dict[str, Any]:
    if None in item:  # csv.DictReader files cells beyond the header under None
        raise CommandError(f"line {number}: more cells than the header has columns")
    unknown = set(item) - set(FIELDS)
    if unknown:
        raise CommandError(f"line {number}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(FIELDS)}")
    user_id = item.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise CommandError(f"line {number}: user_id is required")
    try:
        user_id_validator(user_id)
    except ValidationError as exc:
        raise CommandError(f"line {number}: {exc.messages[0]} (got {user_id!r})") from exc
    out: dict[str, Any] = {"user_id": user_id}
    for key, limit in MAX_LEN.items():
        value = item.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise CommandError(f"line {number}: {key} must be text of at most {limit} characters")
        out[key] = value
    ex = item.get("ex")
    if isinstance(ex, str) and ex.strip():
        try:
            ex = json.loads(ex)
        except json.JSONDecodeError as exc:
            raise CommandError(f"line {number}: ex is not JSON") from exc
    if ex not in (None, ""):
        if not isinstance(ex, dict):
            raise CommandError(f"line {number}: ex must be a JSON object")
        out["ex"] = ex
    return out


class Command(BaseCommand):
    help = (
        "Register users in bulk from a JSON-lines or CSV file ('-' reads stdin). Fields: user_id (required), "
        "nickname, face_url, ex (a JSON object; JSON text in CSV). Idempotent: user ids that are already "
        "registered are skipped, or their profile updated with --update, so a failed run can simply be repeated. "
        "Each registration writes its audit row."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file to read, or '-' for stdin")
        parser.add_argument("--format", choices=("jsonl", "csv"), help="default: from the file extension, else jsonl")
        parser.add_argument("--update", action="store_true", help="update the profile of users that exist")
        parser.add_argument("--batch-size", type=int, default=500, help="users per transaction (default 500)")
        parser.add_argument("--actor", help="operator user id recorded in the audit log (default: system)")
        parser.add_argument("--no-progress", action="store_true", help="no progress output on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"]
        fmt = options["format"] or ("csv" if path.lower().endswith(".csv") else "jsonl")
        batch_size = options["batch_size"]
        if not 1 <= batch_size <= 10_000:
            raise CommandError("--batch-size must be between 1 and 10000")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(user_id=options["actor"]).first()
            if actor is None:
                raise CommandError(f"--actor {options['actor']} is not a user")
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        self.counts = {"created": 0, "skipped": 0, "updated": 0}
        progress = Progress(None, "import_users", enabled=not options["no_progress"])
        seen: set[str] = set()
        batch: list[dict[str, Any]] = []
        try:
            for number, item in _rows(stream, fmt):
                row = _clean(number, item)
                if row["user_id"] in seen:
                    self.counts["skipped"] += 1
                    continue
                seen.add(row["user_id"])
                batch.append(row)
                if len(batch) >= batch_size:
                    self._flush(batch, actor, options["update"])
                    progress.advance(len(batch))
                    batch = []
            if batch:
                self._flush(batch, actor, options["update"])
                progress.advance(len(batch))
        except (CommandError, UnicodeDecodeError, csv.Error) as exc:
            done = self.counts["created"] + self.counts["updated"]
            problem = f"{path} is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise CommandError(f"{problem} — {done} user(s) were written before it; fix the input and run again") from exc
        finally:
            if stream is not sys.stdin:
                stream.close()
        progress.close()
        self.stdout.write(
            f"created {self.counts['created']}, updated {self.counts['updated']}, skipped {self.counts['skipped']}"
        )

    def _flush(self, batch: list[dict[str, Any]], actor: User | None, update: bool) -> None:
        for _attempt in range(2):
            existing = {u.user_id: u for u in User.objects.filter(user_id__in=[r["user_id"] for r in batch])}
            new = [r for r in batch if r["user_id"] not in existing]
            try:
                if new:
                    services.users_register(users=new, actor=actor)
            except DomainError as exc:
                if exc.code == Code.ALREADY_REGISTERED:
                    continue  # registered concurrently: look again
                raise CommandError(exc.msg) from exc
            break
        else:
            raise CommandError("users kept being registered concurrently; run again")
        self.counts["created"] += len(new)
        for row in batch:
            user = existing.get(row["user_id"])
            if user is None:
                continue
            if update:
                before = user.updated_at
                services.user_update(user=user, data={k: v for k, v in row.items() if k != "user_id"}, actor=actor)
                self.counts["updated" if user.updated_at != before else "skipped"] += 1
            else:
                self.counts["skipped"] += 1
