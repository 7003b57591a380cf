"""Contract fuzzing: schemathesis generates requests from the public OpenAPI
document (the one the edge serves at /openapi.json, which a gateway test
keeps identical to gen/openapi) and sends them to the running platform,
anonymously and with a customer's token. No response may be a 5xx, and every
response must match the document. The number of examples is bounded to keep
`make test` short; raise SHOPMESH_FUZZ_EXAMPLES for a deeper run."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import ROOT, Account, Platform

EXAMPLES = int(os.environ.get("SHOPMESH_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, response_schema_conformance]


schema = schemathesis.openapi.from_path(ROOT / "gen/openapi/shopmesh.swagger.json")
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous_requests_never_break_the_edge(case: Case[Any], platform: Platform) -> None:
    case.call_and_validate(base_url=platform.base_url, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_customer_requests_never_break_the_edge(
    case: Case[Any], platform: Platform, customer: Account
) -> None:
    case.call_and_validate(
        base_url=platform.base_url,
        headers={"Authorization": f"Bearer {customer.access_token}"},
        checks=CHECKS,
    )
