"""Checks of a whole deployment, as ``manage.py check_deployment`` runs them.

Each check returns one :class:`CheckResult`: the database answers and has every
migration applied, Redis answers, the Celery broker accepts a connection, a worker
consuming this deployment's queue answers a broadcast, beat's heartbeat is fresh, and
Django's ``check --deploy`` has nothing to say. Run from any host with the deployment's
environment: everything it looks at is shared (database, Redis, broker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import checks as django_checks
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from apps.common.health import beat_heartbeat_age, database_status, redis_status

OK = "ok"
FAIL = "FAIL"
SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # OK, FAIL or SKIP (not checked because something it needs failed or is absent)
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def check_database() -> CheckResult:
    problem = database_status()
    db = settings.DATABASES["default"]
    where = f"{connection.vendor} {db.get('NAME')}" + (f" at {db['HOST']}:{db.get('PORT') or ''}" if db.get("HOST") else "")
    if problem:
        return CheckResult("database", FAIL, f"{where} unreachable: {problem}")
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return CheckResult("database", FAIL, f"{where}: cannot read the migration state: {exc}")
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5]) + (" …" if len(plan) > 5 else "")
        return CheckResult("database", FAIL, f"{where}: {len(plan)} migration(s) not applied ({names}); "
                                             "run manage.py migrate")
    return CheckResult("database", OK, f"{where}, every migration applied")


def check_redis() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult("redis", FAIL, "REDIS_URL is not set: cache and channel layer are per process, "
                                          "so nodes cannot reach each other's users")
    problem = redis_status()
    if problem:
        return CheckResult("redis", FAIL, f"{_safe_url(settings.REDIS_URL)} unreachable: {problem}")
    return CheckResult("redis", OK, f"{_safe_url(settings.REDIS_URL)} answers PING")


def check_broker(app: Any, timeout: float) -> CheckResult:
    if not settings.CELERY_BROKER_URL:
        return CheckResult("broker", FAIL, "CELERY_BROKER_URL is not set: tasks run inside the server process")
    url = _safe_url(settings.CELERY_BROKER_URL)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as exc:  # kombu raises transport-specific errors
        return CheckResult("broker", FAIL, f"{url} unreachable: {type(exc).__name__}: {exc}")
    return CheckResult("broker", OK, f"{url} accepts connections")


def check_workers(app: Any, timeout: float) -> CheckResult:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as exc:  # a broker that went away between checks
        return CheckResult("worker", FAIL, f"cannot ask the workers: {type(exc).__name__}: {exc}")
    ours = sorted(name for name, queues in replies.items() if any(q.get("name") == queue for q in queues or []))
    if ours:
        return CheckResult("worker", OK, f"{len(ours)} worker(s) on queue {queue!r} answered: {', '.join(ours)}")
    if replies:
        return CheckResult("worker", FAIL, f"no worker consumes queue {queue!r} (IM_CELERY_QUEUE); "
                                           f"{len(replies)} other worker(s) answered")
    return CheckResult("worker", FAIL, f"no worker answered within {timeout:g}s; start celery workers "
                                       f"(queue {queue!r})")


def check_beat(*, worker_ok: bool) -> CheckResult:
    interval = settings.IM_BEAT_HEARTBEAT_SECONDS
    stale_after = max(3 * interval, interval + 5)
    age = beat_heartbeat_age()
    cause = "beat is not running" if worker_ok else "beat or every worker is not running"
    if age is None:
        return CheckResult("beat", FAIL, f"no heartbeat recorded: {cause} (exactly one celery beat must run)")
    if age > stale_after:
        return CheckResult("beat", FAIL, f"last heartbeat {age:.0f}s ago (expected every {interval}s): {cause}")
    return CheckResult("beat", OK, f"heartbeat {age:.1f}s ago (every {interval}s)")


def check_django_deploy() -> CheckResult:
    messages = [
        m for m in django_checks.run_checks(include_deployment_checks=True)
        if m.level >= django_checks.WARNING and not m.is_silenced()
    ]
    if messages:
        text = "; ".join(f"{m.id}: {m.msg}" for m in messages)
        return CheckResult("check --deploy", FAIL, f"{len(messages)} issue(s): {text}")
    return CheckResult("check --deploy", OK, "no issues")


def deployment_check(*, app: Any, timeout: float = 3.0) -> list[CheckResult]:
    """Every check, in order; the Celery ones are skipped when there is no broker to ask."""
    results = [check_database(), check_redis(), check_broker(app, timeout)]
    if results[-1].failed:
        results.append(CheckResult("worker", SKIP, "no broker to ask"))
        results.append(CheckResult("beat", SKIP, "no broker"))
    else:
        workers = check_workers(app, timeout)
        results.append(workers)
        if results[1].failed:
            results.append(CheckResult("beat", SKIP, "its heartbeat is kept in Redis"))
        else:
            results.append(check_beat(worker_ok=not workers.failed))
    results.append(check_django_deploy())
    return results


def _safe_url(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
