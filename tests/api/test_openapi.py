"""Schemathesis against /openapi.json: generated requests to every operation find no server
error and no response that breaks the documented schema. Bounded (a few examples per
operation, derandomized) so CI stays fast."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import account, new_order

pytestmark = pytest.mark.slow
EXAMPLES = 6


def test_generated_requests_find_no_5xx_and_no_schema_violation(lite):
    headers = account(lite, "fuzz@example.com")
    order_id = new_order(lite, headers)  # a real id, so requests reach past the 404
    schema = schemathesis.openapi.from_asgi("/openapi.json", lite.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) == ("DELETE", "/api/v1/me"):
            continue  # would delete the fuzzing account itself (tested in test_accounts)
        operations += 1
        real_id = "{order_id}" in op.path and not op.path.endswith("/stream")

        run = _runner(op, real_id, order_id, headers, failures)
        try:
            run()
        except Exception:  # noqa: BLE001, S110 - recorded in failures
            pass
    assert operations >= 30
    assert failures == [], "\n".join(failures)


def _runner(op, real_id: bool, order_id: str, headers: dict, failures: list[str]):
    """One operation's bounded property test (a function, so each binds its own op)."""

    @given(case=op.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        if real_id:
            case.path_parameters = {**(case.path_parameters or {}), "order_id": order_id}
        try:
            case.call_and_validate(headers=headers, checks=[
                not_a_server_error, response_schema_conformance])
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:400]}")
            raise

    return run
