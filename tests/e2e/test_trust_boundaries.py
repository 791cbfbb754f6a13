"""Trust boundaries on the real stack: NATS refuses clients without a user or with a wrong password, and a
service's user cannot publish another service's subjects; signing's gRPC port refuses callers without a
client certificate under the service CA; the normal flow runs with all of it on."""

import asyncio
import json
import re
import uuid

import grpc
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.errors import NoServersError
from nats.js.errors import NoStreamResponseError, NotFoundError
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_cli.servicetls import SERVER_NAME, make_ca, write_leaf
from sealflow_cli.stack import Stack
from sealflow_contracts import subjects
from sealflow_contracts.access import inbox_prefix
from sealflow_contracts.messages import utcnow

from tests.e2e.test_seed_case import ROUTE, approve, get_matter, submit, trail
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e


async def _refused(servers: list[str], **credentials) -> str:
    try:
        client = await nats.connect(servers, connect_timeout=3, max_reconnect_attempts=0, allow_reconnect=False, **credentials)
    except (NoServersError, nats.errors.Error, OSError) as error:
        return repr(error)
    await client.close()
    raise AssertionError(f"connected with {sorted(credentials)}")


def test_nats_refuses_a_client_without_credentials_or_with_a_wrong_password(stack: Stack) -> None:
    asyncio.run(_refused(stack.nats_servers))
    asyncio.run(_refused(stack.nats_servers, user="routing", password="not-the-password"))
    asyncio.run(_refused(stack.nats_servers, user="nobody", password=stack.nats_users["routing"]))


async def _last_seq(operator_urls: list[str], subject: str) -> int:
    client = await nats.connect(operator_urls)
    try:
        return (await client.jetstream().get_last_msg(subjects.STREAM_NAME, subject)).seq
    except NotFoundError:
        return 0
    finally:
        await client.close()


async def _forge(servers: list[str], user: str, password: str, subject: str, body: dict) -> list[str]:
    """Publish as `user` through JetStream; return the errors the server sent back."""
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    # connected exactly as the service itself is (its inbox prefix too): what a compromised service could do
    client = await nats.connect(
        servers, user=user, password=password, inbox_prefix=inbox_prefix(user), error_cb=on_error, max_reconnect_attempts=0
    )
    try:
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError, NoStreamResponseError)):  # no PubAck: never stored
            await client.jetstream().publish(subject, json.dumps(body).encode(), stream=subjects.STREAM_NAME, timeout=3)
        # the server's -ERR arrives asynchronously; on a loaded machine it can take a while
        for _ in range(100):
            if errors:
                break
            await asyncio.sleep(0.1)
    finally:
        await client.close()
    return errors


def test_a_service_cannot_publish_what_it_does_not_own(api: Api, stack: Stack, unique: str) -> None:
    """routing's credentials cannot forge signing's SignatureApplied; intake's cannot ask for a seal. The server
    refuses (permissions violation), the stream does not grow, and the matter it names is untouched."""
    matter = submit(api, title=f"伪造签名 {unique}")

    # settled first: sla-monitor's deadline for stage 1 reaches the trail asynchronously
    def settled() -> dict | None:
        entries = trail(api, matter["id"])
        return entries if any(e["type"] == "deadline.set" for e in entries["entries"]) else None

    before_trail = wait_for(settled, what="deadline in the trail")
    forged = {
        "event_id": str(uuid.uuid4()),
        "matter_id": matter["id"],
        "occurred_at": utcnow().isoformat(),
        "schema_version": 1,
        "stage": 1,
        "person_id": "jiulian-director",
    }
    for user, subject in (
        ("routing", subjects.SIGNATURE_APPLIED),
        ("intake", subjects.REQUEST_SEAL),
        ("notify", subjects.MATTER_COMPLETED),
    ):
        seq = asyncio.run(_last_seq(stack.operator_nats_urls, subject))
        errors = asyncio.run(_forge(stack.nats_servers, user, stack.nats_users[user], subject, forged))
        assert any("permissions violation" in e.lower() and subject in e for e in errors), errors
        logged = f'/user:{user}" - Publish Violation - Subject "{subject}"'
        wait_for(lambda logged=logged: logged in _nats_logs(stack) or None, timeout=10, what="logged")
        assert asyncio.run(_last_seq(stack.operator_nats_urls, subject)) == seq, f"{user} put a message on {subject}"
    after = get_matter(api, matter["id"])
    assert after["status"] == "in_review" and after["current_stage"] == 1
    assert all(a["decision"] is None for a in after["stages"][0]["assignees"])
    assert trail(api, matter["id"])["entries"] == before_trail["entries"]


def test_the_normal_flow_runs_with_every_service_on_its_own_user(api: Api, stack: Stack, unique: str) -> None:
    """A matter through every stage and the seal, then: the server logged no permissions violation by a service
    other than the forgeries the test above made on purpose (a missing permission would show here first)."""
    matter = submit(api, title=f"最小权限 {unique}")
    for stage, people in ROUTE:
        for person in people:
            wait_for(lambda stage=stage: get_matter(api, matter["id"])["current_stage"] == stage or None, what=f"stage {stage} open")
            approve(api, person, matter, stage)
    done = wait_for(lambda: (m := get_matter(api, matter["id"]))["status"] == "completed" and m or None, timeout=120, what="completed")
    assert [s["seal_id"] for s in done["seals"]] == ["jiulian-coop"]
    assert trail(api, matter["id"])["chain_valid"] is True
    logs = _nats_logs(stack)
    # nats-server: `"$G/user:routing" - Publish Violation - Subject "sealflow.evt.signing.signature-applied.v1"`
    violations = set(re.findall(r'/user:([\w-]+)" - (Publish|Subscription) Violation - Subject "([^"]+)"', logs))
    deliberate = {
        ("routing", "Publish", subjects.SIGNATURE_APPLIED),
        ("intake", "Publish", subjects.REQUEST_SEAL),
        ("notify", "Publish", subjects.MATTER_COMPLETED),
    }
    assert violations - deliberate == set()


def _nats_logs(stack: Stack) -> str:
    return "".join(stack.log_path(name).read_text(errors="replace") for name in stack.processes if name.startswith("nats"))


def _grpc_call(address: str, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode | str:
    options = [("grpc.ssl_target_name_override", SERVER_NAME)]
    channel = grpc.secure_channel(address, credentials, options=options) if credentials else grpc.insecure_channel(address)
    try:
        answer = pb_grpc.SealedDocumentsStub(channel).GetTrustRoots(pb.GetTrustRootsRequest(), timeout=10)
        return answer.pem
    except grpc.RpcError as error:
        return error.code()
    finally:
        channel.close()


def test_signing_grpc_takes_only_callers_with_a_certificate_under_the_service_ca(stack: Stack, tmp_path) -> None:
    address = f"127.0.0.1:{stack.grpc_ports[0]}"
    tls = stack.tls
    ca = tls.ca.read_bytes()
    cert, key = tls.clients["intake"]
    # intake's own certificate: served
    assert "BEGIN CERTIFICATE" in _grpc_call(address, grpc.ssl_channel_credentials(ca, key.read_bytes(), cert.read_bytes()))
    # plaintext, and TLS without a client certificate: refused before any handler
    assert _grpc_call(address, None) == grpc.StatusCode.UNAVAILABLE
    assert _grpc_call(address, grpc.ssl_channel_credentials(ca)) == grpc.StatusCode.UNAVAILABLE
    # a certificate from another CA, even with the right name on it: refused
    other_key, other_ca = make_ca("someone else's CA")
    other_cert, other_cert_key = write_leaf(tmp_path, "intake", other_ca, other_key, server=False)
    assert (
        _grpc_call(address, grpc.ssl_channel_credentials(ca, other_cert_key.read_bytes(), other_cert.read_bytes()))
        == grpc.StatusCode.UNAVAILABLE
    )
    # the probe port: plaintext health, nothing else
    probe = grpc.insecure_channel(f"127.0.0.1:{stack._env['signing']['SEALFLOW_GRPC_HEALTH_PORT']}")
    try:
        answer = health_pb2_grpc.HealthStub(probe).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as refused:
            pb_grpc.SealedDocumentsStub(probe).GetTrustRoots(pb.GetTrustRootsRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        probe.close()


def test_each_service_reads_and_writes_only_its_own_database(stack: Stack) -> None:
    """The embedded MongoDB-wire server runs with authentication: routing's user may not read signing's keys,
    nobody without a user may do anything, and the operator (tests, tools) may."""
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    def attempt(uri: str, database: str) -> int | None:
        with MongoClient(uri, serverSelectionTimeoutMS=10000) as client:
            try:
                client[database].keys.find_one()
                return None
            except OperationFailure as error:
                return error.code

    routing, signing = stack._mongo_uris["routing"], stack._mongo_uris["signing"]
    assert attempt(routing, "sealflow_signing") == 13  # Unauthorized
    assert attempt(routing, "sealflow_routing") is None
    assert attempt(signing, "sealflow_signing") is None
    anonymous = signing.split("@", 1)[1]
    assert attempt(f"mongodb://{anonymous}", "sealflow_signing") == 13
    assert attempt(stack.mongo_uri, "sealflow_signing") is None
