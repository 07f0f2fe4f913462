"""Websocket helpers for the messaging tests."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from imserver.routing import websocket_urlpatterns

_ids = itertools.count(1)


class Client:
    """A websocket client over ``WebsocketCommunicator`` that sorts replies from pushes."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.pushes: list[dict[str, Any]] = []
        self.hello: dict[str, Any] | None = None

    async def frame(self, timeout: float = 3) -> dict[str, Any]:
        return await self.comm.receive_json_from(timeout=timeout)

    async def call(self, op: str, data: dict[str, Any] | None = None, timeout: float = 5) -> dict[str, Any]:
        frame_id = f"r{next(_ids)}"
        await self.comm.send_json_to({"id": frame_id, "op": op, "data": data or {}})
        return await self.reply_to(frame_id, timeout)

    async def reply_to(self, frame_id: Any, timeout: float = 5) -> dict[str, Any]:
        while True:
            frame = await self.frame(timeout)
            if frame.get("id") == frame_id and "code" in frame:
                return frame
            self.pushes.append(frame)

    async def push(self, op: str = "push.msg", timeout: float = 3) -> dict[str, Any]:
        for i, frame in enumerate(self.pushes):
            if frame.get("op") == op:
                return self.pushes.pop(i)
        while True:
            frame = await self.frame(timeout)
            if frame.get("op") == op and "code" not in frame:
                return frame
            self.pushes.append(frame)

    async def send(self, data: dict[str, Any]) -> dict[str, Any]:
        return await self.call("msg.send", data)

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.comm.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.comm.disconnect()


def application() -> URLRouter:
    return URLRouter(websocket_urlpatterns)


async def open_ws(path: str, subprotocols: list[str] | None = None) -> tuple[WebsocketCommunicator, Any]:
    comm = WebsocketCommunicator(application(), path, subprotocols=subprotocols)
    connected, sub = await comm.connect()
    assert connected
    return comm, sub


async def connect(token: str, platform_id: int | None = 5) -> Client:
    path = f"/ws/?token={token}" + (f"&platform_id={platform_id}" if platform_id is not None else "")
    comm, _ = await open_ws(path)
    client = Client(comm)
    client.hello = await client.frame()
    assert client.hello["op"] == "connected", client.hello
    return client


def text(client_msg_id: str, recv_id: str, body: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "client_msg_id": client_msg_id,
        "session_type": 1,
        "recv_id": recv_id,
        "content_type": 101,
        "content": {"content": body},
        **extra,
    }


@pytest.fixture
def tokens(issue_token, make_user):
    """``tokens("alice")`` → a fresh web token (the user is created on first use)."""
    from apps.accounts.models import User

    def make(user_id: str, platform_id: int = 5) -> str:
        user = User.objects.filter(user_id=user_id).first() or make_user(user_id)
        return issue_token(user, platform_id)

    return make
