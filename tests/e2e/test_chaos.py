"""Chaos: two replicas of routing and signing, matters driven concurrently over HTTP, service processes
SIGKILLed at random moments and restarted. Nothing may be lost and nothing applied twice.

SEALFLOW_CHAOS_MATTERS (default 30, sized for CI: every matter also costs ~8 PDF signatures of CPU) and
SEALFLOW_CHAOS_CONCURRENCY (default 24) size the run; `SEALFLOW_CHAOS_MATTERS=300 make test` is the long one."""

import asyncio
import os
import random
import signal
import time
import uuid

import httpx
import pytest
from sealflow_cli.stack import Stack, free_port
from sealflow_intake.auth import mint_token

from tests.support import bus
from tests.support.api import seed_submission

pytestmark = pytest.mark.e2e

MATTERS = int(os.environ.get("SEALFLOW_CHAOS_MATTERS", "30"))
CONCURRENCY = int(os.environ.get("SEALFLOW_CHAOS_CONCURRENCY", "24"))
DRIVE_TIMEOUT = float(os.environ.get("SEALFLOW_CHAOS_TIMEOUT", "1500"))
VICTIMS = ["routing", "routing-2", "signing", "signing-2", "sla-monitor", "notify", "intake"]
SIGNERS = [
    "jiulian-director",
    "jiulian-supervisor",
    "jiulian-secretary",
    "yinong-cadre-jiulian",
    "yinong-leader-a",
    "yinong-deputy-services",
]
RETRYABLE = (httpx.TransportError,)


@pytest.fixture(scope="module")
def chaos_stack(tmp_path_factory: pytest.TempPathFactory):
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("chaos"), http_port=free_port(), replicas={"routing": 2, "signing": 2}, ready_timeout=180
    )
    stack.start()
    yield stack
    stack.stop()


class Driver:
    """Simulated people: the bookkeeper submits, each signer acts as soon as their task is open."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.tokens = {p: mint_token(p, stack.jwt_secret) for p in [*SIGNERS, "jiulian-bookkeeper", "yinong-discipline"]}
        self.client = httpx.AsyncClient(base_url=stack.base_url, timeout=30.0)
        self.retries = 0

    async def call(self, method: str, path: str, person: str, **kwargs) -> httpx.Response:
        """Retry what a phone would retry: the connection broke or the service said try again. Every try
        carries the same headers (the Idempotency-Key above all)."""
        headers = {"Authorization": f"Bearer {self.tokens[person]}", **kwargs.pop("headers", {})}
        while True:
            try:
                response = await self.client.request(method, path, headers=headers, **kwargs)
                if response.status_code not in (502, 503, 504):
                    return response
            except RETRYABLE:
                pass
            self.retries += 1
            await asyncio.sleep(0.3)

    async def run_matter(self, run_id: str, index: int) -> str:
        body = seed_submission(title=f"混沌 {run_id} #{index}")
        created = await self.call("POST", "/v1/matters", "jiulian-bookkeeper", json=body, headers={"Idempotency-Key": f"{run_id}-{index}"})
        assert created.status_code == 201, created.text
        matter_id = created.json()["id"]
        while True:
            matter = (await self.call("GET", f"/v1/matters/{matter_id}", "jiulian-bookkeeper")).json()
            if matter["status"] == "completed":
                return matter_id
            assert matter["status"] == "in_review", matter
            stage = matter["current_stage"] and matter["stages"][matter["current_stage"] - 1]
            if stage:
                for slot in stage["assignees"]:
                    if slot["decision"] is None:
                        await self.decide(matter, stage["number"], slot["person_id"])
            await asyncio.sleep(0.2)

    async def decide(self, matter: dict, stage: int, person: str) -> None:
        response = await self.call(
            "POST",
            f"/v1/matters/{matter['id']}/decisions",
            person,
            json={"stage": stage, "decision": "approve", "comment": "同意", "digest": matter["digest"]},
        )
        # already_decided: an earlier try went through but its answer was lost to a kill;
        # not_your_turn / matter_closed: our view of the matter was stale.
        ok = response.status_code == 200 or response.json()["error"]["code"] in ("already_decided", "not_your_turn", "matter_closed")
        assert ok, response.text


async def kill_randomly(stack: Stack, stop: asyncio.Event, killed: list[str]) -> None:
    rng = random.Random()
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        victim = rng.choice(VICTIMS)
        stack.processes[victim].send_signal(signal.SIGKILL)
        killed.append(victim)
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        stack.restart_dead()


@pytest.mark.timeout(DRIVE_TIMEOUT + 600)  # the drive, then the checks of every matter
def test_kills_lose_nothing_and_duplicate_nothing(chaos_stack: Stack) -> None:
    async def scenario() -> tuple[str, list[str], list[str], int]:
        driver = Driver(chaos_stack)
        run_id = uuid.uuid4().hex[:6]
        gate = asyncio.Semaphore(CONCURRENCY)
        stop = asyncio.Event()
        killed: list[str] = []

        async def one(index: int) -> str:
            async with gate:
                return await driver.run_matter(run_id, index)

        killer = asyncio.create_task(kill_randomly(chaos_stack, stop, killed))
        try:
            ids = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(MATTERS))), timeout=DRIVE_TIMEOUT)
        finally:
            stop.set()
            await killer
            chaos_stack.restart_dead()
        await driver.client.aclose()
        return run_id, ids, killed, driver.retries

    started = time.monotonic()
    run_id, ids, killed, retries = asyncio.run(scenario())
    minutes = (time.monotonic() - started) / 60
    print(
        f"\nchaos: {len(ids)} matters in {minutes:.1f} min ({len(ids) / minutes:.1f} matters/min, {CONCURRENCY} at a time); "
        f"{len(killed)} kills ({', '.join(f'{v}×{killed.count(v)}' for v in VICTIMS if v in killed)}); {retries} client retries"
    )
    assert len(killed) >= 3, "the run was too short to prove anything"
    chaos_stack.wait_ready()
    asyncio.run(check_every_matter(chaos_stack, run_id, ids))
    # Nothing gave up: this stack had no poison put on it, so every dead letter is a matter left behind.
    letters = asyncio.run(bus.dead_letters(chaos_stack.nats_url))
    print(f"chaos: {len(letters)} dead letters")
    assert letters == [], [(d["consumer"], d["reason"]) for d in letters]


async def check_every_matter(stack: Stack, run_id: str, ids: list[str]) -> None:
    tokens = {p: mint_token(p, stack.jwt_secret) for p in [*SIGNERS, "jiulian-bookkeeper", "yinong-discipline"]}
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60.0) as client:

        async def get(path: str, person: str = "yinong-discipline", **params) -> dict:
            response = await client.get(path, params=params, headers={"Authorization": f"Bearer {tokens[person]}"})
            assert response.status_code == 200, response.text
            return response.json()

        async def settled_trail(matter_id: str) -> dict:
            deadline = time.monotonic() + 120
            while True:
                trail = await get(f"/v1/matters/{matter_id}/trail")
                if any(e["type"] == "matter.completed" for e in trail["entries"]):
                    return trail
                assert time.monotonic() < deadline, f"trail of {matter_id} never settled"
                await asyncio.sleep(0.5)

        # One matter per submission, however often its POST was retried across kills (the Idempotency-Key).
        titles, offset = [], 0
        while True:
            listed = (await get("/v1/matters", "jiulian-bookkeeper", mine=True, limit=200, offset=offset))["items"]
            titles += [m["title"] for m in listed if m["title"].startswith(f"混沌 {run_id} #")]
            if len(listed) < 200:
                break
            offset += 200
        assert sorted(titles) == sorted(f"混沌 {run_id} #{i}" for i in range(len(ids))), "a retried submission made a second matter"
        for matter_id in ids:
            matter = await get(f"/v1/matters/{matter_id}")
            assert matter["status"] == "completed" and matter["approval_number"]
            assert [(s["seal_id"], s["stage"]) for s in matter["seals"]] == [("jiulian-coop", 2)], matter["seals"]
            trail = await settled_trail(matter_id)
            assert trail["chain_valid"] is True
            types = [e["type"] for e in trail["entries"]]
            assert types.count("decision.approve") == 6 and types.count("signature.applied") == 6 and types.count("seal.applied") == 1
            assert sorted(e["data"]["seq"] for e in trail["entries"] if e["type"] in ("signature.applied", "seal.applied")) == list(
                range(1, 8)
            )
            verified = (
                await client.post("/v1/verify", json={"approval_number": matter["approval_number"], "digest": matter["digest"]})
            ).json()
            assert verified["valid"] is True, verified
            assert [a["kind"] for a in verified["acts"]].count("seal") == 1 and len(verified["acts"]) == 7
        # No duplicate notifications: each signer was told about each of their tasks exactly once.
        for person in SIGNERS:
            for matter_id in ids:
                items = (await get("/v1/inbox", person, matter_id=matter_id))["items"]
                assert [n["kind"] for n in items] == ["task"], (person, matter_id, items)
        for matter_id in ids:
            items = (await get("/v1/inbox", "jiulian-bookkeeper", matter_id=matter_id))["items"]
            assert [n["kind"] for n in items] == ["completed"], (matter_id, items)
