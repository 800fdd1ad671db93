"""The whole REST API fuzzed from its own OpenAPI schema: every operation, with a key of each role.

Each generated request (valid and invalid bodies, query strings and ids, huge numbers, NUL bytes...) must be
answered without a server error, with a documented status and a body that matches the documented schema; a
4xx answer must leave every recorded row as it was. The network is seeded once for the module (committed,
then flushed), each example runs in a savepoint rolled back afterwards, so every example sees the same world.
"""

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.world import offline_outbound, record_fingerprint, seed_world

ROLES = ["owner", "staff", "advertiser", "affiliate"]
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "5"))


def _openapi() -> dict:
    """The schema `/api/schema/` serves, built in-process (no request, no database)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


CONFIG = schemathesis.Config.from_dict({
    "seed": 20261123,
    "generation": {"max-examples": MAX_EXAMPLES, "with-security-parameters": False, "database": "none"},
    "phases": {"stateful": {"enabled": False},
               "coverage": {"enabled": os.environ.get("API_FUZZ_COVERAGE") == "1"}},
})
schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)

IDS: dict = {}  # path template prefix -> real ids of that resource (own network and the other one)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the ids are real objects (of this network or the other one), the rest whatever was generated."""
    real = IDS.get(context.operation.path.split("{")[0]) if context.operation else None
    if not real or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(real).map(lambda pk: {**path_parameters, "id": pk}))


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_db_blocker.unblock(), offline_outbound():
            seeded = seed_world()
            IDS.update(seeded.ids)
            seeded.fingerprint = record_fingerprint()
            yield seeded
            IDS.clear()
            requests, statuses = sum(CALLS.values()), {}
            for (_, code), count in CALLS.items():
                statuses[code] = statuses.get(code, 0) + count
            print(f"\nAPI fuzz: {len({op for op, _ in CALLS})} operations, {requests} requests, "
                  f"statuses {dict(sorted(statuses.items()))}")
            call_command("flush", interactive=False, verbosity=0)
    finally:
        app.conf.task_always_eager = eager


@pytest.fixture
def wsgi_app(db):
    """The production WSGI application, minus the per-request connection recycling (it would end the test's
    transaction, as Django's own test client also avoids)."""
    from config.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# Not `negative_data_rejection`: DRF deliberately coerces some off-type values (a number where a string is
# documented, "true"/1 for a boolean); what matters here is that bad input never breaks the server, answers a
# documented 4xx with the documented error shape, and changes nothing.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLS: dict = {}  # (method path, status) -> count, for the summary line


@pytest.fixture
def stripe_offline(settings, monkeypatch):
    """Stripe answered by the recorded fake (onboarding, transfers); any other `requests` call fails at once."""
    import responses
    import stripe

    from tests.payouts.stripe_fake import WEBHOOK_SECRET, FakeStripe

    settings.STRIPE_SECRET_KEY = "sk_test_fuzz"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    monkeypatch.setattr(stripe, "default_http_client", stripe.RequestsClient())
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeStripe(rsps).install()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_answers_every_request_within_its_schema(case, role, fuzz_world, wsgi_app, stripe_offline,
                                                     django_capture_on_commit_callbacks):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {fuzz_world.keys[role]}"}
    savepoint = transaction.savepoint()
    try:
        with offline_outbound(), django_capture_on_commit_callbacks(execute=True):
            response = case.call(app=wsgi_app)
        key = (f"{case.operation.method.upper()} {case.operation.path}", response.status_code)
        CALLS[key] = CALLS.get(key, 0) + 1
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            assert record_fingerprint() == fuzz_world.fingerprint, "a refused request changed recorded rows"
    finally:
        transaction.savepoint_rollback(savepoint)
        cache.clear()
