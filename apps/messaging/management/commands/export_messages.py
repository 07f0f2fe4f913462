"""Export message history as JSON lines or CSV, streaming, in constant memory."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from apps.console.exporting import (
    FORMATS,
    MESSAGE_FIELDS,
    MessageFilter,
    RowWriter,
    iter_rows,
    messages_queryset,
    parse_time_ms,
)
from apps.console.progress import Progress


class Command(BaseCommand):
    help = (
        "Export stored messages (the full history) to JSON lines or CSV, on stdout or into a file. "
        "Filters combine with AND; each may repeat. Rows come in storage order, a page at a time, "
        "so memory stays flat on millions of rows. Progress goes to stderr. "
        "Example: manage.py export_messages --group g1 --since 2026-01-01 --format csv -o g1.csv"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--conversation", action="append", default=[], metavar="CONVERSATION_ID",
                            help="only this conversation (e.g. si_alice_bob, sg_<group_id>); repeatable")
        parser.add_argument("--user", action="append", default=[], metavar="USER_ID",
                            help="only messages sent by this user; repeatable")
        parser.add_argument("--participant", action="append", default=[], metavar="USER_ID",
                            help="messages sent by this user or to them in single chats; repeatable")
        parser.add_argument("--group", action="append", default=[], metavar="GROUP_ID",
                            help="only messages of this group; repeatable")
        parser.add_argument("--since", help="send_time >= this (YYYY-MM-DD, ISO datetime, UTC default, or epoch ms)")
        parser.add_argument("--until", help="send_time < this (same forms as --since)")
        parser.add_argument("--format", default=None, choices=FORMATS,
                            help="jsonl (default) or csv; guessed from the --output extension when omitted")
        parser.add_argument("-o", "--output", default="-", help="file to write ('-' = stdout, the default)")
        parser.add_argument("--chunk-size", type=int, default=2000, help="rows read per query (default 2000)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        flt = MessageFilter(
            conversation_ids=options["conversation"], user_ids=options["user"], group_ids=options["group"],
            participant_ids=options["participant"],
        )
        try:
            if options["since"]:
                flt.since_ms = parse_time_ms(options["since"])
            if options["until"]:
                flt.until_ms = parse_time_ms(options["until"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if flt.since_ms is not None and flt.until_ms is not None and flt.since_ms >= flt.until_ms:
            raise CommandError("--since must be before --until")
        chunk = options["chunk_size"]
        if not 1 <= chunk <= 100_000:
            raise CommandError("--chunk-size must be between 1 and 100000")
        output = options["output"]
        fmt = options["format"] or ("csv" if output.lower().endswith(".csv") else "jsonl")

        qs = messages_queryset(flt)
        show = not options["no_progress"]
        try:
            total = qs.count() if show else None
        except DatabaseError as exc:
            raise CommandError(f"cannot read the message history: {exc} (is the database migrated?)") from exc
        progress = Progress(total, "export_messages", stream=sys.stderr, enabled=show)
        stdout = cast(TextIO, self.stdout._out)  # the raw stream: rows are written as they are
        try:
            out: TextIO = stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        try:
            writer = RowWriter(out, fmt, MESSAGE_FIELDS)
            for page in iter_rows(qs, MESSAGE_FIELDS, chunk_size=chunk):
                writer.write_many(page)
                progress.advance(len(page))
            out.flush()
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return
        finally:
            if out is not stdout:
                out.close()
        progress.close()
