"""Schemathesis against the live OpenAPI schema: generated requests to every
operation, in-process, on a scratch database. No answer may be a 5xx, and
every answer must match what the schema says (status, content type, body)."""

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# About 150 requests per operation; with 14 operations, 2,000 or so in all.
EXAMPLES = int(os.environ.get("DESCENT_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)


def fuzz(operation) -> int:  # type: ignore[no-untyped-def]
    calls = 0

    @given(case=operation.as_strategy())
    @SETTINGS
    def run(case) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        if case.path.endswith("/events"):
            # A live job's event stream never ends; its own tests cover it.
            case.path_parameters = {"job_id": "00000000-0000-0000-0000-000000000000"}
        calls += 1
        case.call_and_validate(checks=CHECKS)

    run()
    return calls


def test_no_server_errors_and_answers_match_the_schema(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.main import create_app
    from persistence.migrate import upgrade

    upgrade()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    total = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        total += fuzz(operation)
    with capsys.disabled():
        print(f"\nschemathesis: {total} generated requests, no failures")
    assert total >= 10 * EXAMPLES
