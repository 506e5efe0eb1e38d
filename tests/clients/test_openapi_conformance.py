"""Schemathesis against the live `/openapi.json`: for every GET and POST operation, generated
requests (schema-valid and not) get no 5xx, every response matches the document, and no
schema-valid request is refused except for its media (see `harness.acceptance`)."""

import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.acceptance import schema_valid_requests_are_served
from harness.server import Server

# Generated requests per operation in the fuzzing phase (the coverage phase adds its boundary
# cases): enough to reach every branch of the oneOf bodies, small enough for a few minutes.
MAX_EXAMPLES = 50
SEED = 20261130

CONFIG = {
    "seed": SEED,
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "request-timeout": 60,
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    schema_valid_requests_are_served,
]


@pytest.fixture(scope="module")
def api_schema(server: Server) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(CONFIG)
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_operations_follow_the_document(case: Case) -> None:
    response = case.call()
    case.validate_response(response, checks=CHECKS)
