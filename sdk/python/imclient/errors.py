"""The SDK's errors: one type carrying the server's ``{"code", "msg"}``, and a few of its kind."""

from __future__ import annotations

from typing import Any

# codes the server uses (docs/protocol.md); the ones the SDK acts on
BAD_ARGS = 1001
RATE_LIMITED = 1005
SEQ_PURGED = 1406
TOKEN_EXPIRED = 1501
TOKEN_INVALID = 1502
TOKEN_KICKED = 1506
TOKEN_UNKNOWN = 1507
TOO_MANY_CONNECTIONS = 1601
BAD_CONNECTION_ARGS = 1602

AUTH_CODES = frozenset({TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_KICKED, TOKEN_UNKNOWN, BAD_CONNECTION_ARGS})

# local codes (negative: never sent by the server)
REQUEST_TIMEOUT = -1
CONNECTION_LOST = -2
CLIENT_CLOSED = -3
NOT_CONNECTED = -4


class IMError(Exception):
    """A failed request: the server's error code and message, or a local negative code."""

    def __init__(self, code: int, msg: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.data = data or {}


class RequestTimeout(IMError):
    def __init__(self, op: str, seconds: float) -> None:
        super().__init__(REQUEST_TIMEOUT, f"no reply to {op} in {seconds:g}s")


class ConnectionLost(IMError):
    def __init__(self, op: str) -> None:
        super().__init__(CONNECTION_LOST, f"the connection dropped before the reply to {op}")


class ClientClosed(IMError):
    def __init__(self) -> None:
        super().__init__(CLIENT_CLOSED, "the client is closed")


class AuthError(IMError):
    """The server refused the token (expired, invalid, revoked, unknown) or the connection arguments.

    The client does not reconnect with this token: get a new one.
    """


class KickedError(AuthError):
    """This session was ended (forced logout, ban, a newer login): do not reconnect with the token."""
