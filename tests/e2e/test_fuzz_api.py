"""Property-based fuzzing of intake's published OpenAPI (schemathesis): whatever a client sends, the
answer is never a 5xx, and every error is in the contract's shape {"error": {"code", "message"}}."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from sealflow_cli.stack import Stack
from sealflow_intake.auth import mint_token

pytestmark = pytest.mark.e2e

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "openapi" / "intake.json"
schema = schemathesis.openapi.from_path(str(CONTRACT))
# A bookkeeper: allowed to create (junk) matters, refused everything administrative — the fuzz run must
# not rewrite the directory or the policies other tests rely on.
FUZZER = "sanwei-bookkeeper"


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_every_error_in_the_contract_shape(case, stack: Stack) -> None:
    response = case.call(base_url=stack.base_url, headers={"Authorization": f"Bearer {mint_token(FUZZER, stack.jwt_secret)}"}, timeout=60)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str) and body["error"]["message"], body
