"""Command line: ``python -m imclient chat --server URL --token TOKEN [--platform-id N] [--db PATH]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="imclient", description="imserver client")
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="full-screen terminal chat")
    chat.add_argument("--server", required=True, help="the server's base URL, e.g. http://127.0.0.1:8000")
    chat.add_argument("--token", required=True, help="a user token (POST /api/v1/auth/user-token)")
    chat.add_argument("--platform-id", type=int, default=5, help="the token's platform (default 5, web)")
    chat.add_argument("--db", default=None, help="local store file (default: in memory)")
    args = parser.parse_args(argv)
    if args.command == "chat":
        try:
            from imclient.chat import run_chat
        except ImportError:  # textual is the optional "chat" extra
            print("the terminal chat needs Textual: pip install 'imclient[chat]'", file=sys.stderr)
            return 2
        run_chat(args.server, args.token, args.platform_id, args.db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
