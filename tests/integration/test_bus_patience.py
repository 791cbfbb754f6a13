"""A handler whose dependency does not answer (another service restarting) waits for it holding its
message, against a real nats-server with JetStream: the message is handled in its first delivery once the
dependency is back, with no redelivery and no dead letter; only after DEPENDENCY_PATIENCE is it handed
back to JetStream for a later delivery."""

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import Iterator

import nats
import pytest
from pydantic import BaseModel
from sealflow_cli.stack import _executable, free_port
from sealflow_contracts.subjects import STREAM_NAME
from sealflow_runtime import bus

pytestmark = pytest.mark.asyncio
DEPENDENCY = "sealflow.rpc.test.dependency.v1"


class Ping(BaseModel):
    n: int


@pytest.fixture(scope="module")  # one server: FastStream declares the stream once per process
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("nats")
    port = free_port()
    server = subprocess.Popen(
        [_executable("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nats-server did not start"
                time.sleep(0.1)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=15)


async def run_with_dependency_back_after(nats_url: str, subject: str, durable: str, away: float) -> tuple[list[int], int]:
    """A consumer whose handler asks DEPENDENCY; nobody answers for `away` seconds. Returns the handler's
    outcomes and how many deliveries the consumer made (the stream holds this one message only)."""
    broker = bus.make_broker(nats_url)
    done: list[int] = []
    finished = asyncio.Event()

    @bus.durable_subscriber(broker, subject, durable, batch_size=1)
    async def handle(body: dict) -> None:
        reply = await bus.rpc_call(broker, DEPENDENCY, Ping(n=body["n"]), timeout=2.0)
        done.append(reply.result["n"])
        finished.set()

    await broker.start()
    responder = await nats.connect(nats_url)
    try:
        js = broker.config.connection_state.stream
        await js.publish(subject, json.dumps({"n": 7}).encode(), stream=STREAM_NAME)
        await asyncio.sleep(away)  # the dependency is restarting: NoResponders for every try meanwhile

        async def answer(msg) -> None:
            await msg.respond(json.dumps({"ok": True, "result": json.loads(msg.data)}).encode())

        await responder.subscribe(DEPENDENCY, cb=answer)
        await asyncio.wait_for(finished.wait(), timeout=60)
        info = await js.consumer_info(STREAM_NAME, durable)
        return done, info.delivered.consumer_seq
    finally:
        await responder.close()
        await broker.stop()


async def test_a_handler_waits_for_a_dependency_that_comes_back_without_a_redelivery(nats_url: str) -> None:
    done, deliveries = await run_with_dependency_back_after(nats_url, "sealflow.cmd.test.patient.v1", "test-patient", away=3.0)
    assert done == [7], "handled once, when the dependency answered"
    assert deliveries == 1, "waiting for a dependency costs no delivery"


async def test_past_its_patience_the_message_goes_back_to_jetstream_and_is_handled_later(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "DEPENDENCY_PATIENCE", 0.5)
    done, deliveries = await run_with_dependency_back_after(nats_url, "sealflow.cmd.test.impatient.v1", "test-impatient", away=3.0)
    assert done == [7], "handled once, on a later delivery"
    assert deliveries > 1, "a dependency away longer than the patience costs deliveries (and, after max_deliver, a dead letter)"
