"""OpenIM's reply envelopes and error codes, for REST and the websocket.

imserver's error codes are OpenIM's numbering already (DESIGN §3), so an error keeps
its code: ``{"errCode": <code>, "errMsg": <message>, "errDlt": <detail>}``.
"""

from __future__ import annotations

from typing import Any

from apps.common.errors import Code, DomainError


def ok(data: Any = None) -> dict[str, Any]:
    return {"errCode": 0, "errMsg": "", "errDlt": "", "data": {} if data is None else data}


def error(exc: DomainError) -> dict[str, Any]:
    detail = ""
    if exc.data:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(exc.data.items()))
    return {"errCode": int(exc.code), "errMsg": exc.msg, "errDlt": detail}


def internal() -> dict[str, Any]:
    return {"errCode": int(Code.INTERNAL), "errMsg": "ServerInternalError", "errDlt": ""}


def bad(msg: str) -> DomainError:
    return DomainError(Code.BAD_ARGS, msg)


def unsupported(what: str) -> DomainError:
    return DomainError(Code.BAD_ARGS, f"{what} is not supported by imserver's OpenIM adapter (see docs/openim.md)")
