"""The per-process copy of rendered list pages: bounded, least recently used first, expiring."""

from __future__ import annotations

import time

from apps.common.listsync import LocalPages


def test_the_least_recently_used_page_goes_first_when_full():
    pages = LocalPages(2)
    pages.put("a", b"A", 60)
    pages.put("b", b"B", 60)
    assert pages.get("a") == b"A"  # a is now the most recent
    pages.put("c", b"C", 60)
    assert (pages.get("a"), pages.get("b"), pages.get("c")) == (b"A", None, b"C")


def test_a_page_expires_after_its_seconds():
    pages = LocalPages(8)
    pages.put("snap", b"S", 0.05)
    assert pages.get("snap") == b"S"
    time.sleep(0.06)
    assert pages.get("snap") is None


def test_size_zero_keeps_nothing():
    pages = LocalPages(0)
    pages.put("a", b"A", 60)
    assert pages.get("a") is None
