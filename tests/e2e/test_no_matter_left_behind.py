"""No matter left behind: an act that arrives before the act it chains to is kept — acknowledged, never
redelivered, never dead-lettered — and made when its predecessor is; a request lost for good is sent
again by routing's reconciler. Real processes, real nats-server and MongoDB-wire server; the order of
the commands is forced by holding signing down and editing the real stream, as a slow or dead replica would."""

import asyncio
import signal
import time

import httpx
import pytest
from pymongo import MongoClient
from sealflow_cli.stack import Stack, free_port
from sealflow_contracts import subjects

from tests.e2e.test_routing_turns import approve, get_matter, submit
from tests.e2e.test_seed_case import ROUTE
from tests.support import bus
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e

RECONCILE_AFTER = 5  # seconds after the route is approved; the default (120 s) would make the test slow


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory):
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("left-behind"),
        http_port=free_port(),
        ready_timeout=120,
        extra_env={"SEALFLOW_RECONCILE_AFTER_SECONDS": str(RECONCILE_AFTER), "SEALFLOW_RECONCILE_INTERVAL_SECONDS": "1"},
    )
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def own_api(own_stack: Stack) -> Api:
    return Api(own_stack.base_url, own_stack.jwt_secret)


def stop_signing(stack: Stack) -> None:
    process = stack.processes["signing"]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def start_signing(stack: Stack) -> None:
    assert "signing" in stack.restart_dead()
    stack.wait_ready()


def signature_requests(stack: Stack, matter_id: str) -> dict[int, tuple[int, dict]]:
    """The matter's RequestSignature commands still in the stream, by act seq."""
    found = asyncio.run(bus.stored_commands(stack.nats_url, subjects.REQUEST_SIGNATURE, matter_id))
    return {body["seq"]: (stream_seq, body) for stream_seq, body in found}


def signing_db(stack: Stack):
    return MongoClient(stack.mongo_uri).sealflow_signing


def dead_letters_about(stack: Stack, matter_id: str) -> list[dict]:
    return [d for d in asyncio.run(bus.dead_letters(stack.nats_url)) if (d.get("original") or {}).get("matter_id") == matter_id]


def completed(api: Api, matter_id: str, timeout: float = 180) -> dict:
    return wait_for(
        lambda: (m := get_matter(api, matter_id)) and m["status"] == "completed" and m, timeout=timeout, what=f"{matter_id} completed"
    )


def check_whole_chain(api: Api, matter: dict) -> list[str]:
    with api.as_("yinong-discipline") as client:
        trail = client.get(f"/v1/matters/{matter['id']}/trail").json()
        # A busy machine may answer 503 (signing's gRPC took too long): what a client would do is ask again.
        answer = wait_for(
            lambda: (
                (
                    r := client.post("/v1/verify", json={"approval_number": matter["approval_number"], "digest": matter["digest"]})
                ).status_code
                != 503
                and r
            ),
            timeout=60,
            what="an answer from verification",
        )
        assert answer.status_code == 200, answer.text
        verified = answer.json()
    assert trail["chain_valid"] is True
    types = [e["type"] for e in trail["entries"]]
    assert types.count("signature.applied") == 6 and types.count("seal.applied") == 1 and types.count("approval.registered") == 1
    assert verified["valid"] is True and [a["seq"] for a in verified["acts"]] == list(range(1, 8)), verified
    return types


def test_an_act_that_arrives_before_its_predecessor_waits_without_redeliveries(own_stack: Stack, own_api: Api) -> None:
    matter = submit(own_api)
    stop_signing(own_stack)
    try:
        approve(own_api, "jiulian-director", matter, 1)
        approve(own_api, "jiulian-supervisor", matter, 1)
        requests = wait_for(
            lambda: len(r := signature_requests(own_stack, matter["id"])) == 2 and r, timeout=60, what="both acts requested"
        )
        # Act 1's request is held back (a replica slow with it, far beyond the old 50-delivery window).
        held_seq, held = requests[1]
        asyncio.run(bus.delete_from_stream(own_stack.nats_url, held_seq))
    finally:
        start_signing(own_stack)

    db = signing_db(own_stack)
    kept = wait_for(lambda: db.waiting_requests.find_one({"_id": f"{matter['id']}:2"}), timeout=60, what="act 2 kept, waiting for act 1")
    assert kept["after_seq"] == 1 and kept["kind"] == "signature"
    before = asyncio.run(bus.consumer(own_stack.nats_url, "signing-request-signature"))
    time.sleep(8)  # the old design nacked a waiting act every 0.1-5 s here
    after = asyncio.run(bus.consumer(own_stack.nats_url, "signing-request-signature"))
    assert after.num_ack_pending == 0 and after.num_redelivered == before.num_redelivered, "a waiting act must cost no redeliveries"
    assert db.acts.count_documents({"matter_id": matter["id"]}) == 0
    assert dead_letters_about(own_stack, matter["id"]) == []

    # The held request arrives at last: act 1 is made, and its making releases act 2.
    asyncio.run(bus.publish(own_stack.nats_url, subjects.REQUEST_SIGNATURE, held, msg_id=f"{held['event_id']}:late"))
    wait_for(lambda: db.acts.count_documents({"matter_id": matter["id"]}) == 2, timeout=60, what="acts 1 and 2 made in order")
    # The kept request is removed once the act it asked for is committed (a moment after, on a busy machine).
    wait_for(lambda: db.waiting_requests.count_documents({"matter_id": matter["id"]}) == 0, timeout=30, what="the kept request let go")
    for stage, people in ROUTE[1:]:
        for person in people:
            approve(own_api, person, matter, stage)
    check_whole_chain(own_api, completed(own_api, matter["id"]))
    assert dead_letters_about(own_stack, matter["id"]) == []


def test_a_request_lost_for_good_is_sent_again_by_the_reconciler(own_stack: Stack, own_api: Api) -> None:
    matter = submit(own_api)
    stop_signing(own_stack)
    try:
        for stage, people in ROUTE:
            for person in people:
                approve(own_api, person, matter, stage)
        requests = wait_for(lambda: len(r := signature_requests(own_stack, matter["id"])) == 6 and r, timeout=60, what="six acts requested")
        asyncio.run(bus.delete_from_stream(own_stack.nats_url, requests[3][0]))  # act 3 (the secretary's) is lost
    finally:
        start_signing(own_stack)

    matter = completed(own_api, matter["id"])
    types = check_whole_chain(own_api, matter)
    with own_api.as_("yinong-discipline") as client:
        entries = client.get(f"/v1/matters/{matter['id']}/trail").json()["entries"]
    reissued = [e for e in entries if e["type"] == "reconcile.reissued"]
    assert reissued and 3 in reissued[0]["data"]["acts"] and reissued[0]["data"]["approval"] is True, reissued
    assert types.index("reconcile.reissued") < types.index("matter.completed")
    assert dead_letters_about(own_stack, matter["id"]) == []
    assert signing_db(own_stack).waiting_requests.count_documents({"matter_id": matter["id"]}) == 0
    metrics = own_stack_metrics(own_stack, "routing")
    assert any(line.startswith('sealflow_reconciler_reissues_total{kind="signature"}') and float(line.split()[-1]) >= 1 for line in metrics)
    # The operator at 3 a.m. reads it in the log too, and no round of the reconciler failed.
    log = own_stack.log_path("routing").read_text(errors="replace")
    assert "reconciler sent signing requests again" in log and matter["id"] in log
    assert "reconciler round failed" not in log


def own_stack_metrics(stack: Stack, service: str) -> list[str]:
    port = stack._env[service]["SEALFLOW_HTTP_PORT"]
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines()
