"""The public API fuzzed from its own OpenAPI document (schemathesis): whatever a client sends,
the reply is a documented status with a documented body, and never a server error."""

from __future__ import annotations

from dataclasses import replace

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from survey.web.collector.app import create_collector_app
from tests.conftest import Issued


def test_every_reply_is_documented_and_none_is_a_server_error(issued: Issued) -> None:
    # (schemathesis's own pytest plugin does not run under pytest 9: operations are driven
    # with hypothesis directly.)
    app = create_collector_app(replace(issued.settings, unknown_code_limit=0), issued.db.engine)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=80,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: schemathesis.Case) -> None:
            # Every check but "schema-valid data is accepted": no JSON Schema can say that a
            # sealed answer's length must match the form its code opens (400 otherwise).
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
    assert sorted(labels) == ["GET /api/study", "POST /api/codes/check", "POST /api/responses"]
