"""A NATS node dies while matters flow: three nats-server processes as a JetStream cluster (routes on loopback),
the streams at three replicas; the node leading the SEALFLOW stream is SIGKILLed mid-run and started again
later. Every matter must complete with exactly its signatures and one seal use, no notification twice, every
chain valid, no dead letter — the same checks as test_chaos.py.

SEALFLOW_CLUSTER_MATTERS (default 6) sizes it for CI (~2 minutes here on 2 shared cores)."""

import asyncio
import os
import time
import uuid

import nats
import pytest
from sealflow_cli.stack import Stack, free_port
from sealflow_contracts.subjects import DEAD_LETTER_STREAM, STREAM_NAME

from tests.e2e.test_chaos import Driver, check_every_matter
from tests.support import bus

pytestmark = pytest.mark.e2e

MATTERS = int(os.environ.get("SEALFLOW_CLUSTER_MATTERS", "6"))


@pytest.fixture(scope="module")
def cluster_stack(tmp_path_factory: pytest.TempPathFactory):
    stack = Stack(data_dir=tmp_path_factory.mktemp("nats-cluster"), http_port=free_port(), nats_cluster=3, ready_timeout=240)
    stack.start()
    yield stack
    stack.stop()


async def _streams(stack: Stack) -> dict[str, object]:
    client = await nats.connect(stack.operator_nats_urls)
    try:
        js = client.jetstream()
        return {name: await js.stream_info(name) for name in (STREAM_NAME, DEAD_LETTER_STREAM)}
    finally:
        await client.close()


def _node_number(server_name: str) -> int:
    return int(server_name.rsplit("-", 1)[1])  # sealflow-nats-2 → 2


@pytest.mark.timeout(900)
def test_a_nats_node_killed_mid_flow_loses_nothing_and_duplicates_nothing(cluster_stack: Stack) -> None:
    streams = asyncio.run(_streams(cluster_stack))
    for info in streams.values():
        assert info.config.num_replicas == 3 and len(info.cluster.replicas) == 2, info
    leader = _node_number(streams[STREAM_NAME].cluster.leader)
    events: list[str] = []

    async def scenario() -> tuple[str, list[str]]:
        driver = Driver(cluster_stack)
        run_id = uuid.uuid4().hex[:6]

        async def node_failure() -> None:
            await asyncio.sleep(6)  # matters are in flight: submitted, some stages decided, commands on the stream
            cluster_stack.kill_nats_node(leader)
            events.append(f"killed nats-{leader} (SEALFLOW's stream leader) at {time.strftime('%X')}")
            await asyncio.sleep(20)  # the rest carry on with two of three: a new leader, quorum kept
            cluster_stack.restart_nats_node(leader)
            events.append(f"restarted nats-{leader} at {time.strftime('%X')}")

        failure = asyncio.create_task(node_failure())
        try:
            ids = await asyncio.wait_for(asyncio.gather(*(driver.run_matter(run_id, i) for i in range(MATTERS))), timeout=600)
        finally:
            await failure
            await driver.client.aclose()
        return run_id, ids

    started = time.monotonic()
    run_id, ids = asyncio.run(scenario())
    print(f"\nnats cluster: {len(ids)} matters in {time.monotonic() - started:.0f} s; " + "; ".join(events))
    assert len(events) == 2
    cluster_stack.wait_ready()
    asyncio.run(check_every_matter(cluster_stack, run_id, ids))
    assert asyncio.run(bus.dead_letters(cluster_stack.nats_url)) == []
    # The node that came back caught up: every replica current again.
    deadline = time.monotonic() + 60
    while True:
        info = asyncio.run(_streams(cluster_stack))[STREAM_NAME]
        if all(r.current for r in info.cluster.replicas) and len(info.cluster.replicas) == 2:
            break
        assert time.monotonic() < deadline, info.cluster
        time.sleep(1)
    # Every service process lived through it (none had to be restarted: they failed over to another node).
    assert all(process.poll() is None for process in cluster_stack.processes.values())
