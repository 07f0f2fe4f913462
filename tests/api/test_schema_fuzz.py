"""Property-based run of the whole REST API against its own OpenAPI schema (schemathesis).

The schema is loaded from ``/api/schema/`` through the WSGI app, in-process. For every
operation, Hypothesis draws the schema's explicit examples, valid (positive) and invalid
(negative) requests; each one is sent as a normal user and as an app admin. A 5xx or a
response that breaks its documented schema fails the test, listing every operation that did.

Size: ``IM_FUZZ_EXAMPLES`` examples per operation (default 3, for CI). A larger run:
    IM_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/api -q -p no:randomly
``IM_FUZZ_OPERATIONS`` (a substring of the operation label, e.g. ``/groups``) narrows the run.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from apps.accounts.constants import Platform
from apps.groups.services import group_create
from apps.relations.services import friend_request_send

EXAMPLES = int(os.environ.get("IM_FUZZ_EXAMPLES", "3"))
ONLY = os.environ.get("IM_FUZZ_OPERATIONS", "")
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def callers(make_user, admin_user, issue_token) -> dict[str, dict[str, str]]:
    """A normal user and an app admin, plus a little data for the explicit examples to meet."""
    alice = make_user("alice")
    bob = make_user("bob")
    carol = make_user("carol")
    make_user("mallory")
    group_create(owner=alice, name="team", member_ids=[carol.user_id], admin_ids=[bob.user_id], group_id="g1")
    friend_request_send(from_user=carol, to_user_id="alice", message="hi")
    return {
        "user": {"Authorization": f"Bearer {issue_token(alice, Platform.WEB)}"},
        "admin": {"Authorization": f"Bearer {issue_token(admin_user, Platform.ADMIN)}"},
    }


@pytest.fixture
def wsgi_app():
    """The WSGI app, keeping the test's database connection across requests (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _destructive_last(operation: Any) -> tuple[int, str]:
    """Operations that end the seeded group or membership run last, so the others meet live data."""
    ending = any(word in operation.path for word in ("dismiss", "quit", "transfer", "kick", "force-logout", "ban"))
    return (int(ending or operation.method.upper() == "DELETE"), operation.label)


def _strategy(operation: Any) -> st.SearchStrategy:
    options = list(operation.get_strategies_from_examples())
    options.append(operation.as_strategy(GenerationMode.POSITIVE))
    options.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(options)


@pytest.mark.django_db
@pytest.mark.timeout(max(120, EXAMPLES * 15))
def test_every_endpoint_answers_without_server_errors_and_within_its_schema(callers, settings, wsgi_app):
    settings.DEBUG = False
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    failures: list[str] = []
    ran = 0
    for operation in sorted((r.ok() for r in schema.get_all_operations()), key=_destructive_last):
        if ONLY and ONLY not in operation.label:
            continue
        ran += 1

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=not os.environ.get("IM_FUZZ_RANDOM"),
            phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if EXAMPLES > 20 else []),
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=_strategy(operation))
        def run(case: Any) -> None:
            for headers in callers.values():
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every failing operation, then fail once
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    assert ran > 0, "no operations in the schema"
    assert not failures, "\n\n".join(failures)
