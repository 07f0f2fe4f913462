"""Prometheus metrics (``prometheus-client``), all named ``im_…``, served at ``GET /metrics``.

Several processes per node: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared
by the node's server processes and Celery workers (and emptied when they start); each
process then writes its values to files there and any process's ``/metrics`` answers for
all of them (``prometheus_client.multiprocess``). Without it each process reports its
own values, and each process must be scraped on its own port.

Access: only clients whose address is in ``IM_METRICS_ALLOW`` (CIDR list; loopback by
default) get the page; others get 403.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

WS_CONNECTIONS = Gauge(
    "im_websocket_connections", "Open websocket connections", multiprocess_mode="livesum"
)
SENDS = Counter("im_sends", "Message sends by result (ok, duplicate, or the error code's name)", ["result"])
SEND_BATCH_SECONDS = Histogram(
    "im_send_batch_seconds", "Time to validate and store one websocket send batch (one transaction)",
    buckets=_LATENCY_BUCKETS,
)
FANOUT_SECONDS = Histogram(
    "im_fanout_seconds", "Time to fan one group message out (member list read and first chunk pushed)",
    buckets=_LATENCY_BUCKETS,
)
PUSHES = Counter("im_pushes", "Pushes handed to the channel layer, by target (user group or node chunk)", ["target"])
WEBHOOK_DELIVERIES = Counter("im_webhook_deliveries", "Webhook calls answered 2xx, by event", ["event"])
WEBHOOK_FAILURES = Counter(
    "im_webhook_failures", "Webhook calls that failed, by event and reason (timeout, http_<status>, error, answer)",
    ["event", "reason"],
)
HTTP_REQUESTS = Counter("im_http_requests", "HTTP requests by response status", ["status"])


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - started)


def render() -> tuple[bytes, str]:
    """The exposition text of this process, or of every process of the node in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def address_allowed(address: str | None, allow: list[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _networks(tuple(allow)))
