"""HTTP side of the versioned hot lists: ``?since_version=`` answers, the page cache and ETags.

The views of the four hot lists (friends, joined groups, group members, conversations) call
these after their own checks. :func:`sync_answer` answers an incremental sync from
:mod:`apps.common.versionlog`; :func:`cached_page` serves a full page from the cache under a
key of the list's version and the normalized query (a repeat read is one version read and
one page read, no database; the page also stays in this process, and with the version read
alongside the token a repeat read is one cache read in all); :func:`etagged` renders an answer with an ``ETag`` from its
bytes (lists whose version does not cover all they show), and :func:`snapshot_page` reuses such
a rendering for a few seconds. Every list answer carries an
``ETag``; a request whose ``If-None-Match`` holds it gets ``304`` with no body.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from apps.common import versionlog
from apps.common.cachekeys import make_key
from apps.common.renderers import ORJSONRenderer

SINCE_HELP = (
    "incremental sync: the version of the list the client holds (from an earlier answer's `version`). "
    "The answer is {version, full, changed, deleted}: the items changed since then at their current "
    "state and the ids removed, or the whole list with full=true when the version is 0, unknown or "
    "older than the kept log. Paging and filters do not apply to a sync."
)


def since_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=2**62, required=False, help_text=SINCE_HELP)


def sync_schema(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """OpenAPI shape of a list answer: the page (``count``/``next``/``previous``/``results``/``version``)
    or, with ``since_version``, the sync answer (``version``/``full``/``changed``/``deleted``)."""
    return inline_serializer(
        name,
        {
            "version": serializers.IntegerField(help_text="the list's version when it was read; send it back as since_version"),
            "count": serializers.IntegerField(required=False, help_text="paged answer only"),
            "next": serializers.URLField(allow_null=True, required=False, help_text="paged answer only"),
            "previous": serializers.URLField(allow_null=True, required=False, help_text="paged answer only"),
            "results": item(many=True, required=False, help_text="paged answer only"),
            "full": serializers.BooleanField(required=False, help_text="sync answer: changed holds the whole list"),
            "changed": item(many=True, required=False,
                                      help_text="sync answer: items inserted or updated since since_version"),
            "deleted": serializers.ListField(child=serializers.CharField(), required=False,
                                             help_text="sync answer: ids of the items removed since since_version"),
        },
    )


def prefetch(kind: str, owner: str) -> list[str]:
    """The cache key of a list's version, for a view's ``cache_prefetch`` (the bearer-token
    authentication reads it in the same ``get_many`` as the token and its user)."""
    return [versionlog.version_key(kind, owner)]


def _version(request: Request, kind: str, owner: str) -> int:
    """The list's version: from the authentication's read when it fetched it, else one cache read."""
    hit = (getattr(request, "cache_prefetched", None) or {}).get(versionlog.version_key(kind, owner))
    return hit if isinstance(hit, int) else versionlog.current_version(kind, owner)


class LocalPages:
    """Rendered pages kept in this process too (a bounded LRU, each entry with its own expiry):
    a page keyed by its list's version never changes, so a repeat read needs no cache read for it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            hit = self._pages.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return hit[1]

    def put(self, key: str, body: bytes, seconds: float) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = (time.monotonic() + seconds, body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


local_pages = LocalPages(settings.IM_LIST_PAGES_PER_PROCESS)


def _etag(seed: bytes) -> str:
    return '"' + hashlib.blake2b(seed, digest_size=12).hexdigest() + '"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    return bool(header) and (header.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in header.split(",")))


def _json(body: bytes, etag: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body if status != 304 else b"", status=status, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"  # per user: revalidate with If-None-Match
    return response


def sync_answer(
    request: Request, *, kind: str, owner: str, since: int,
    render: Callable[[list[str] | None], list[dict[str, Any]]], item_id: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """The ``since_version`` answer of one list. ``render(ids)`` renders the items with those ids at
    their current state (``None``: the whole list); an id it does not find was removed since."""
    if since and since == _version(request, kind, owner):  # nothing changed: no read beyond the token's
        data: dict[str, Any] = {"version": since, "full": False, "changed": [], "deleted": []}
    else:
        found = versionlog.changes_since(kind, owner, since)
        if found.full:
            data = {"version": found.version, "full": True, "changed": render(None), "deleted": []}
        else:
            items = render(found.changed) if found.changed else []
            present = {item_id(i) for i in items}
            gone = [i for i in found.changed if i not in present]
            data = {"version": found.version, "full": False, "changed": items, "deleted": found.deleted + gone}
    body = ORJSONRenderer().render(data)
    etag = _etag(body)
    return _json(body, etag, 304 if _not_modified(request, etag) else 200)


def _page_key(request: Request, kind: str, owner: str, version: int) -> str:
    query = sorted((k, v) for k, values in request.query_params.lists() for v in values)
    seed = repr((request.get_host(), request.is_secure(), request.path, query)).encode()
    return make_key("vl:page", kind, owner, str(version), hashlib.blake2b(seed, digest_size=12).hexdigest())


def cached_page(
    request: Request, *, kind: str, owner: str, render: Callable[[], dict[str, Any]]
) -> HttpResponse:
    """A full (paged) list answer cached under the list's version and the normalized query.

    The version is read before the list is rendered, so a cached page is never older than its
    version (a change committing in between is shown early and sent again by the next sync).
    """
    version = _version(request, kind, owner)
    key = _page_key(request, kind, owner, version)
    etag = _etag(key.encode())
    if _not_modified(request, etag):
        return _json(b"", etag, 304)
    return _json(_kept_page(key, version, render, settings.IM_RELATION_CACHE_SECONDS), etag)


def _rendered(version: int, render: Callable[[], dict[str, Any]]) -> bytes:
    data = render()
    data["version"] = version
    return ORJSONRenderer().render(data)


def _kept_page(key: str, version: int, render: Callable[[], dict[str, Any]], seconds: float) -> bytes:
    """The page under ``key``: this process's copy, else the shared cache's, else rendered now
    (and kept in both for ``seconds``)."""
    body = local_pages.get(key)
    if body is None:
        body = cache.get(key)
        if not isinstance(body, bytes):
            body = _rendered(version, render)
            cache.set(key, body, seconds)
        local_pages.put(key, body, seconds)
    return body


def etagged(request: Request, *, kind: str, owner: str, render: Callable[[], dict[str, Any]]) -> HttpResponse:
    """A full (paged) list answer rendered every time (what it shows changes beyond its version),
    with the list's version in the body and an ``ETag`` of its bytes."""
    body = _rendered(_version(request, kind, owner), render)
    etag = _etag(body)
    return _json(body, etag, 304 if _not_modified(request, etag) else 200)


def snapshot_page(
    request: Request, *, kind: str, owner: str, render: Callable[[], dict[str, Any]], seconds: int
) -> HttpResponse:
    """A full (paged) list answer whose version does not cover all it shows (the conversation
    list: new messages and read marks do not bump it), reused for ``seconds`` under the list's
    version and the normalized query: a change of the version shows at once, the rest within
    ``seconds``. The ``ETag`` is of the bytes, so a revalidation never hides a change."""
    if seconds <= 0:
        return etagged(request, kind=kind, owner=owner, render=render)
    version = _version(request, kind, owner)
    key = make_key("vl:snap", kind, owner, _page_key(request, kind, owner, version))
    body = _kept_page(key, version, render, seconds)
    etag = _etag(body)
    return _json(body, etag, 304 if _not_modified(request, etag) else 200)
