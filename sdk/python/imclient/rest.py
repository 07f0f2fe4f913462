"""The REST calls an app needs (users, friends, blacklist, groups, conversations), over httpx.

Errors come back as ``IMError(code, msg)`` from the server's ``{"code", "msg"}`` body.
List calls page through the server's offset pages and return every item.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from imclient.errors import IMError

PAGE = 200  # the server's largest page


class Rest:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One request; an idempotent one (GET) is tried again once if the connection broke."""
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            try:
                resp = await self._http.request(method, path, json=json, params=params)
                break
            except httpx.TransportError:
                if attempt + 1 == attempts:
                    raise
        body: Any = None
        if resp.content:
            try:
                body = resp.json()
            except ValueError:
                body = None
        if resp.status_code >= 400:
            if isinstance(body, dict) and "code" in body:
                raise IMError(int(body["code"]), str(body.get("msg", "")), body)
            raise IMError(500, f"HTTP {resp.status_code} from {method} {path}")
        return body

    async def pages(self, path: str, params: dict[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        offset = 0
        while True:
            body = await self.call("GET", path, params={**(params or {}), "limit": PAGE, "offset": offset})
            results = body.get("results", []) if isinstance(body, dict) else []
            for item in results:
                yield item
            offset += len(results)
            if not results or not body.get("next"):
                return

    async def all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item async for item in self.pages(path, params)]

    # ------------------------------------------------------------------ users
    async def me(self) -> dict[str, Any]:
        return await self.call("GET", "/users/me")

    async def update_me(self, **fields: Any) -> dict[str, Any]:
        return await self.call("PATCH", "/users/me", json=fields)

    async def users(self, user_ids: list[str]) -> list[dict[str, Any]]:
        if not user_ids:
            return []
        body = await self.call("GET", "/users", params={"ids": ",".join(user_ids)})
        return list(body.get("results", []))

    async def user_status(self, user_ids: list[str]) -> list[dict[str, Any]]:
        body = await self.call("GET", "/users/status", params={"ids": ",".join(user_ids)})
        return list(body.get("results", []))

    # ------------------------------------------------------------------ friends and blacklist
    async def friends(self) -> list[dict[str, Any]]:
        return await self.all("/friends")

    async def friend_requests(self) -> list[dict[str, Any]]:
        return await self.all("/friend-requests")

    async def send_friend_request(self, to_user_id: str, message: str = "") -> dict[str, Any]:
        return await self.call("POST", "/friend-requests", json={"to_user_id": to_user_id, "message": message})

    async def accept_friend_request(self, request_id: int) -> dict[str, Any]:
        return await self.call("POST", f"/friend-requests/{int(request_id)}/accept", json={})

    async def refuse_friend_request(self, request_id: int) -> dict[str, Any]:
        return await self.call("POST", f"/friend-requests/{int(request_id)}/refuse", json={})

    async def remove_friend(self, user_id: str) -> Any:
        return await self.call("DELETE", f"/friends/{quote(user_id, safe='')}")

    async def blacklist(self) -> list[dict[str, Any]]:
        return await self.all("/blacklist")

    async def block(self, user_id: str) -> dict[str, Any]:
        return await self.call("POST", "/blacklist", json={"user_id": user_id})

    async def unblock(self, user_id: str) -> Any:
        return await self.call("DELETE", f"/blacklist/{quote(user_id, safe='')}")

    # ------------------------------------------------------------------ groups
    async def create_group(self, name: str, member_ids: list[str], admin_ids: list[str] | None = None,
                           **fields: Any) -> dict[str, Any]:
        return await self.call(
            "POST", "/groups", json={"name": name, "member_ids": member_ids, "admin_ids": admin_ids or [], **fields}
        )

    async def joined_groups(self) -> list[dict[str, Any]]:
        return await self.all("/users/me/groups")

    async def group(self, group_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/groups/{quote(group_id, safe='')}")

    async def group_members(self, group_id: str) -> list[dict[str, Any]]:
        return await self.all(f"/groups/{quote(group_id, safe='')}/members")

    async def invite(self, group_id: str, user_ids: list[str]) -> dict[str, Any]:
        return await self.call("POST", f"/groups/{quote(group_id, safe='')}/members", json={"user_ids": user_ids})

    async def quit_group(self, group_id: str) -> Any:
        return await self.call("POST", f"/groups/{quote(group_id, safe='')}/quit", json={})

    # ------------------------------------------------------------------ conversations
    async def conversations(self, include_hidden: bool = False) -> list[dict[str, Any]]:
        return await self.all("/conversations", {"include_hidden": str(include_hidden).lower()})

    async def set_conversation(self, conversation_id: str, **fields: Any) -> dict[str, Any]:
        return await self.call("PATCH", f"/conversations/{quote(conversation_id, safe='')}", json=fields)

    async def server_history(self, conversation_id: str, **params: Any) -> list[dict[str, Any]]:
        """The server's history (also below the offline store's ``min_seq``)."""
        body = await self.call("GET", f"/conversations/{quote(conversation_id, safe='')}/messages", params=params)
        return list(body.get("results", body.get("messages", []))) if isinstance(body, dict) else list(body or [])
