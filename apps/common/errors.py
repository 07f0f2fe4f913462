"""The one domain error type and the table of error codes.

Services raise :class:`DomainError` with a code from :class:`Code`; the DRF
exception handler and the websocket consumer render it, each in its own way,
from this single table (message text and HTTP status live here, once).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Code(IntEnum):
    OK = 0
    INTERNAL = 500
    BAD_ARGS = 1001
    NO_PERMISSION = 1002
    DUPLICATE = 1003
    NOT_FOUND = 1004
    RATE_LIMITED = 1005
    NOT_AUTHENTICATED = 1006
    BODY_TOO_LARGE = 1007
    URL_TOO_LONG = 1008
    HEADERS_TOO_LARGE = 1009
    USER_NOT_FOUND = 1101
    ALREADY_REGISTERED = 1102
    USER_BANNED = 1103
    GROUP_NOT_FOUND = 1201
    GROUP_ALREADY_MEMBER = 1202
    NOT_IN_GROUP = 1203
    GROUP_DISMISSED = 1204
    GROUP_FULL = 1205
    GROUP_REQUEST_HANDLED = 1206
    CANNOT_ADD_SELF = 1301
    BLOCKED_BY_PEER = 1302
    NOT_FRIENDS = 1303
    ALREADY_FRIENDS = 1304
    FRIEND_REQUEST_HANDLED = 1305
    RECIPIENT_REJECTS = 1306
    MESSAGE_NOT_FOUND = 1401
    MUTED = 1402
    GROUP_MUTED = 1403
    ALREADY_REVOKED = 1404
    REVOKE_WINDOW_PASSED = 1405
    SEQ_PURGED = 1406
    REJECTED_BY_HOOK = 1407
    HOOK_UNAVAILABLE = 1408
    TOKEN_EXPIRED = 1501
    TOKEN_INVALID = 1502
    TOKEN_KICKED = 1506
    TOKEN_UNKNOWN = 1507
    TOO_MANY_CONNECTIONS = 1601
    BAD_CONNECTION_ARGS = 1602
    FRAME_TOO_LARGE = 1603
    BAD_FRAME = 1604
    UNKNOWN_OP = 1605
    FILE_TOO_LARGE = 1701


# code -> (default message, HTTP status)
_TABLE: dict[Code, tuple[str, int]] = {
    Code.OK: ("", 200),
    Code.INTERNAL: ("internal error", 500),
    Code.BAD_ARGS: ("bad arguments", 400),
    Code.NO_PERMISSION: ("no permission", 403),
    Code.DUPLICATE: ("already exists", 409),
    Code.NOT_FOUND: ("not found", 404),
    Code.RATE_LIMITED: ("too many requests", 429),
    Code.NOT_AUTHENTICATED: ("authentication required", 401),
    Code.BODY_TOO_LARGE: ("request body too large", 413),
    Code.URL_TOO_LONG: ("request URL too long", 414),
    Code.HEADERS_TOO_LARGE: ("request headers too large", 431),
    Code.USER_NOT_FOUND: ("user not found", 404),
    Code.ALREADY_REGISTERED: ("user already registered", 409),
    Code.USER_BANNED: ("user is banned", 403),
    Code.GROUP_NOT_FOUND: ("group not found", 404),
    Code.GROUP_ALREADY_MEMBER: ("already a member of the group", 409),
    Code.NOT_IN_GROUP: ("not a member of the group", 403),
    Code.GROUP_DISMISSED: ("group is dismissed", 403),
    Code.GROUP_FULL: ("group is full", 409),
    Code.GROUP_REQUEST_HANDLED: ("join request already handled", 409),
    Code.CANNOT_ADD_SELF: ("cannot add yourself", 400),
    Code.BLOCKED_BY_PEER: ("blocked by peer", 403),
    Code.NOT_FRIENDS: ("not friends", 403),
    Code.ALREADY_FRIENDS: ("already friends", 409),
    Code.FRIEND_REQUEST_HANDLED: ("friend request already handled", 409),
    Code.RECIPIENT_REJECTS: ("recipient does not accept messages", 403),
    Code.MESSAGE_NOT_FOUND: ("message not found", 404),
    Code.MUTED: ("you are muted", 403),
    Code.GROUP_MUTED: ("group is muted", 403),
    Code.ALREADY_REVOKED: ("message already revoked", 409),
    Code.REVOKE_WINDOW_PASSED: ("revoke window has passed", 403),
    Code.SEQ_PURGED: ("requested seqs are older than the offline store keeps", 410),
    Code.REJECTED_BY_HOOK: ("rejected by the app's before-send hook", 403),
    Code.HOOK_UNAVAILABLE: ("the app's before-send hook did not answer", 503),
    Code.TOKEN_EXPIRED: ("token expired", 401),
    Code.TOKEN_INVALID: ("token invalid", 401),
    Code.TOKEN_KICKED: ("token kicked", 401),
    Code.TOKEN_UNKNOWN: ("token unknown", 401),
    Code.TOO_MANY_CONNECTIONS: ("too many connections", 503),
    Code.BAD_CONNECTION_ARGS: ("bad connection arguments", 400),
    Code.FRAME_TOO_LARGE: ("frame too large", 413),
    Code.BAD_FRAME: ("bad frame", 400),
    Code.UNKNOWN_OP: ("unknown op", 400),
    Code.FILE_TOO_LARGE: ("file too large", 413),
}


def default_message(code: Code) -> str:
    return _TABLE[code][0]


def http_status(code: Code) -> int:
    return _TABLE[code][1]


class DomainError(Exception):
    """A business rule said no. Carries a code from :class:`Code` and a readable message."""

    def __init__(self, code: Code, msg: str | None = None, *, data: dict[str, Any] | None = None) -> None:
        self.code = Code(code)
        self.msg = msg or default_message(self.code)
        self.data = data or {}
        super().__init__(f"{int(self.code)}: {self.msg}")

    @property
    def http_status(self) -> int:
        return http_status(self.code)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": int(self.code), "msg": self.msg}
        if self.data:
            body["data"] = self.data
        return body


def all_codes() -> list[tuple[int, str, int]]:
    """(code, message, http status) for the docs and the OpenAPI description."""
    return [(int(code), msg, status) for code, (msg, status) in _TABLE.items()]
