"""The committed contracts (contracts/: AsyncAPI per service, intake's OpenAPI) match the code."""

import subprocess
import sys

import yaml
from sealflow_cli.contracts import OUT, SERVICES


def test_committed_contracts_match_the_code() -> None:
    # A separate process: generating builds all five services, which configures logging and tracing globally.
    result = subprocess.run([sys.executable, "-m", "sealflow_cli.contracts", "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + "\n(run `make contracts` and commit the result)"


# Requests that are about a person, a period or a setting rather than one matter.
NOT_ABOUT_ONE_MATTER = {
    "WhoIs",
    "InboxQuery",
    "SupervisionQuery",
    "CalendarOverride",
    "InboxMarkRead",
    "SubscriptionPut",
    "AdminRequest",
    "AbsenceRequest",
    "SealAdminRequest",
    "SubscriptionAdminRequest",
    "CalendarQuery",
    "AccountabilityRequest",
    "AlertDisposition",
    # issue 16: one request per administration and absence action
    "ListPolicies",
    "PutPolicy",
    "GetDirectory",
    "PutDirectory",
    "AdminTrailQuery",
    "ListVillages",
    "AddVillage",
    "PatchVillage",
    "ListPeople",
    "AddPerson",
    "PatchPerson",
    "ImportPeople",
    "ListRoles",
    "ListMatterTypes",
    "PutMatterType",
    "MatterTypeVersions",
    "DevPeople",
    "RegisterAbsence",
    "ListAbsences",
    "CancelAbsence",
    "StandInCandidates",
}


def test_every_channel_names_its_payload_model() -> None:
    for service in SERVICES:
        doc = yaml.safe_load((OUT / "asyncapi" / f"{service}.yaml").read_text())
        assert doc["asyncapi"].startswith("3."), service
        schemas = doc["components"]["schemas"]
        for message in doc["components"]["messages"].values():
            model = message["payload"]["$ref"].rsplit("/", 1)[-1]
            assert "matter_id" in schemas[model]["properties"] or model in NOT_ABOUT_ONE_MATTER, (service, model)
