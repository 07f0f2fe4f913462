"""Helpers for the OpenIM adapter tests: REST calls with OpenIM's headers, and an OpenIM
websocket client (binary JSON envelopes with base64 protobuf) over WebsocketCommunicator."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from apps.openim.proto import pb
from imserver.routing import websocket_urlpatterns

_ids = itertools.count(1)


def call(path: str, body: Any = None, token: str | None = None, *, operation_id: str = "op1",
         raw: bytes | None = None, content_type: str = "application/json") -> dict[str, Any]:
    headers = {}
    if operation_id:
        headers["HTTP_OPERATIONID"] = operation_id
    if token:
        headers["HTTP_TOKEN"] = token
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    resp = HttpClient().post("/openim" + path, data=data, content_type=content_type, **headers)
    assert resp.status_code == 200, resp.content
    return resp.json()


def data_of(envelope: dict[str, Any]) -> Any:
    assert envelope["errCode"] == 0, envelope
    return envelope["data"]


@pytest.fixture
def admin_token(db) -> str:
    return data_of(call("/auth/get_admin_token", {"secret": "test-secret-0123456789", "userID": "imAdmin"}))["token"]


@pytest.fixture
def register(admin_token):
    def make(*user_ids: str) -> dict[str, str]:
        users = [{"userID": u, "nickname": u.capitalize(), "faceURL": ""} for u in user_ids]
        data_of(call("/user/user_register", {"users": users}, admin_token))
        return {
            u: data_of(call("/auth/get_user_token", {"platformID": 5, "userID": u}, admin_token))["token"]
            for u in user_ids
        }

    return make


class OpenIMClient:
    def __init__(self, comm: WebsocketCommunicator, user_id: str) -> None:
        self.comm = comm
        self.user_id = user_id
        self.pushes: list[dict[str, Any]] = []

    async def frame(self, timeout: float = 3, *, presence: bool = False) -> dict[str, Any]:
        """The next frame; online-status pushes (2005, left over from other tests' watches) are
        set aside unless ``presence``."""
        while True:
            out = await self.comm.receive_output(timeout)
            assert out["type"] == "websocket.send", out
            if out.get("bytes") is None:
                return {"binary": False, **json.loads(out["text"])}
            frame = {"binary": True, **json.loads(out["bytes"])}
            if presence or frame.get("reqIdentifier") != 2005 or frame.get("msgIncr"):
                return frame
            self.pushes.append(frame)

    async def request(self, req_id: int, message: Any = None, *, send_id: str | None = None,
                      timeout: float = 5) -> dict[str, Any]:
        incr = f"m{next(_ids)}"
        env = {"reqIdentifier": req_id, "msgIncr": incr, "sendID": send_id or self.user_id, "operationID": incr,
               "data": base64.b64encode(message.SerializeToString()).decode() if message is not None else ""}
        await self.comm.send_to(bytes_data=json.dumps(env).encode())
        while True:
            frame = await self.frame(timeout)
            if frame.get("msgIncr") == incr:
                return frame
            self.pushes.append(frame)

    async def push(self, req_id: int = 2001, timeout: float = 3) -> dict[str, Any]:
        for i, frame in enumerate(self.pushes):
            if frame.get("reqIdentifier") == req_id:
                return self.pushes.pop(i)
        while True:
            frame = await self.frame(timeout, presence=req_id == 2005)
            if frame.get("reqIdentifier") == req_id and not frame.get("msgIncr"):
                return frame
            self.pushes.append(frame)

    async def close(self) -> None:
        await self.comm.disconnect()


def decode(message_type: Any, frame: dict[str, Any]) -> Any:
    return message_type.FromString(base64.b64decode(frame["data"] or ""))


def text_msg(send_id: str, recv_id: str, text: str, client_msg_id: str, *, group_id: str = "") -> pb.MsgData:
    return pb.MsgData(
        sendID=send_id, recvID="" if group_id else recv_id, groupID=group_id, clientMsgID=client_msg_id,
        senderPlatformID=5, sessionType=3 if group_id else 1, msgFrom=100, contentType=101,
        content=json.dumps({"content": text}).encode(), status=1,
    )


async def open_ws(query: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/openim/ws?{query}")
    connected, _ = await comm.connect()
    assert connected
    first = await comm.receive_output(3)
    return comm, json.loads(first["text"])


async def connect(user_id: str, token: str, platform_id: int = 5) -> OpenIMClient:
    comm, result = await open_ws(
        f"sendID={user_id}&token={token}&platformID={platform_id}&operationID=op"
        "&isBackground=false&isMsgResp=true&sdkType=js"
    )
    assert result == {"errCode": 0, "errMsg": "", "errDlt": ""}, result
    return OpenIMClient(comm, user_id)
