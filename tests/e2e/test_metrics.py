"""/metrics on every service, read before and after a known piece of work — one matter run to completion,
one left waiting at stage 1 (then made overdue, then withdrawn) and one poison message: each series an
operator's dashboards and alerts would use moves by exactly what that work accounts for, under bounded
labels. Other tests of the session leave their own counts behind, so only differences are compared."""

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient
from sealflow_cli.stack import DATABASES, Stack
from sealflow_contracts import subjects

from tests.e2e.test_seed_case import ROUTE, get_matter, submit
from tests.e2e.test_tracing import run_matter_to_completion
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "routing", "signing", "sla-monitor", "notify")
Metrics = dict[str, list[tuple[dict, float]]]


def scrape(stack: Stack, service: str) -> Metrics:
    """Sample name → [(labels, value)], plus each declared family's name mapped to [] if it has no samples yet."""
    response = httpx.get(f"http://127.0.0.1:{stack.service_ports[service]}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found: Metrics = {}
    for family in text_string_to_metric_families(response.text):
        found.setdefault(family.name, [])
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def scrape_all(stack: Stack) -> dict[str, Metrics]:
    return {service: scrape(stack, service) for service in SERVICES}


def value(metrics: Metrics, name: str, **labels) -> float:
    """The sum over the series of `name` whose labels include `labels` (0 if none)."""
    return sum(v for have, v in metrics.get(name, []) if all(have.get(k) == w for k, w in labels.items()))


def first_deliveries(metrics: Metrics, subject: str, consumer: str) -> float:
    """Messages a durable consumer was handed for the first time: every delivery less the redeliveries."""
    return value(metrics, "sealflow_messages_in_total", subject=subject, consumer=consumer) - value(
        metrics, "sealflow_redeliveries_total", subject=subject, consumer=consumer
    )


class CountingApi(Api):
    """The API client, also counting each answer by (method, route template, status) as intake should label it."""

    MATTER_PATH = re.compile(r"^/v1/matters/[^/]+")

    def __init__(self, base_url: str, jwt_secret: str) -> None:
        super().__init__(base_url, jwt_secret)
        self.answers: Counter[tuple[str, str, str]] = Counter()

    def _count(self, response: httpx.Response) -> None:
        route = self.MATTER_PATH.sub("/v1/matters/{matter_id}", response.request.url.path)
        self.answers[(response.request.method, route, str(response.status_code))] += 1

    def _counting(self, client: httpx.Client) -> httpx.Client:
        client.event_hooks = {"request": [], "response": [self._count]}
        return client

    def as_(self, person_id: str) -> httpx.Client:
        return self._counting(super().as_(person_id))

    def anonymous(self) -> httpx.Client:
        return self._counting(super().anonymous())


def publish_poison(nats_url: str) -> None:
    async def send() -> None:
        client = await nats.connect(nats_url)
        try:
            await client.jetstream().publish(
                subjects.TASK_ASSIGNED, json.dumps({"not": "a TaskAssigned"}).encode(), headers={"Nats-Msg-Id": uuid.uuid4().hex}
            )
        finally:
            await client.close()

    asyncio.run(send())


def backdate_deadline(stack: Stack, matter_id: str, stage_index: int) -> None:
    """Nobody waits working days: the stage's deadline in intake's read model is moved a month back, as if
    it had passed (intake decides "overdue" from that deadline and its own clock at every read)."""
    with MongoClient(stack.mongo_uri, tz_aware=True) as client:
        matters = client[DATABASES["intake"]].matters
        deadline = matters.find_one({"_id": matter_id})["stages"][stage_index]["deadline"]
        as_time = datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
        earlier = as_time - timedelta(days=30)
        done = matters.update_one(
            {"_id": matter_id}, {"$set": {f"stages.{stage_index}.deadline": earlier.isoformat() if isinstance(deadline, str) else earlier}}
        )
        assert done.modified_count == 1


def test_every_service_counts_exactly_the_work_it_did(stack: Stack) -> None:
    api = CountingApi(stack.base_url, stack.jwt_secret)
    before = scrape_all(stack)

    done = run_matter_to_completion(api)
    waiting = submit(api, title="待签 (metrics)")  # left at stage 1: two open tasks, then overdue
    assert waiting["current_stage"] == 1 and len(waiting["stages"][0]["assignees"]) == 2
    wait_for(lambda: get_matter(api, waiting["id"])["stages"][0]["deadline"], what="stage 1 deadline from sla-monitor")
    backdate_deadline(stack, waiting["id"], 0)
    assert get_matter(api, waiting["id"])["stages"][0]["overdue"] is True
    publish_poison(stack.nats_url)

    decisions = sum(len(people) for _, people in ROUTE)  # 6 signatures
    tasks = decisions + 2  # every assignee of every opened stage is told: the completed route's, and the waiting stage's two
    stages_opened = len(ROUTE) + 1

    def moved(after: dict[str, Metrics]) -> dict[str, float]:
        def delta(service: str, read) -> float:
            return read(after[service]) - read(before[service])

        in_ = lambda subject, consumer: lambda m: first_deliveries(m, subject, consumer)  # noqa: E731
        count = lambda name, **labels: lambda m: value(m, name, **labels)  # noqa: E731
        handled = "sealflow_handler_duration_seconds_count"

        def not_ok(consumer: str, *also: str):
            """Deliveries (redeliveries too) whose handler ended neither ok nor in one of the `also` outcomes."""
            return lambda m: (
                value(m, "sealflow_messages_in_total", consumer=consumer)
                - sum(value(m, handled, consumer=consumer, outcome=outcome) for outcome in ("ok", *also))
            )

        return {
            # intake: the read model follows every version of both matters, each applied once
            "intake matter updates": delta("intake", in_(subjects.MATTER_UPDATED, "intake-matter-updated")),
            "intake matter updates not handled ok": delta("intake", not_ok("intake-matter-updated")),
            "intake open tasks": delta("intake", count("sealflow_open_tasks", matter_type="service_procurement")),
            "intake overdue tasks": delta("intake", count("sealflow_overdue_tasks", matter_type="service_procurement")),
            # routing: two submissions and six decisions asked of it; one seal, one completion
            "routing submissions": delta(
                "routing", count("sealflow_messages_in_total", subject=subjects.RPC_SUBMIT_MATTER, consumer="core")
            ),
            "routing decisions": delta("routing", count("sealflow_messages_in_total", subject=subjects.RPC_DECIDE, consumer="core")),
            "routing seals applied in": delta("routing", in_(subjects.SEAL_APPLIED, "routing-seal-applied")),
            "routing seal requests out": delta("routing", count("sealflow_messages_out_total", subject=subjects.REQUEST_SEAL)),
            "routing completions out": delta("routing", count("sealflow_messages_out_total", subject=subjects.MATTER_COMPLETED)),
            # signing: six signatures, one use of the cooperative's seal in the register
            "signing signature requests": delta("signing", in_(subjects.REQUEST_SIGNATURE, "signing-request-signature")),
            "signing signature requests not handled ok": delta("signing", not_ok("signing-request-signature")),
            "signing signatures out": delta("signing", count("sealflow_messages_out_total", subject=subjects.SIGNATURE_APPLIED)),
            "signing uses of jiulian-coop": delta("signing", count("sealflow_seal_uses", seal_id="jiulian-coop")),
            # sla-monitor: a deadline for every stage opened
            "sla stages opened": delta("sla-monitor", in_(subjects.STAGE_OPENED, "sla-stage-opened")),
            "sla deadlines out": delta("sla-monitor", count("sealflow_messages_out_total", subject=subjects.DEADLINE_SET)),
            # notify: a task notice per assignee, and the poison message rejected and dead-lettered
            "notify task messages": delta("notify", in_(subjects.TASK_ASSIGNED, "notify-task-assigned")),
            "notify task messages neither ok nor rejected": delta("notify", not_ok("notify-task-assigned", "rejected")),
            "notify task messages rejected": delta("notify", count(handled, consumer="notify-task-assigned", outcome="rejected")),
            "notify dead letters": delta("notify", count("sealflow_dead_letters_total", consumer="notify-task-assigned")),
        }

    def expected() -> dict[str, float]:
        versions = get_matter(api, done["id"])["version"] + get_matter(api, waiting["id"])["version"]
        return {
            "intake matter updates": versions,
            "intake matter updates not handled ok": 0,
            "intake open tasks": 2,
            "intake overdue tasks": 2,
            "routing submissions": 2,
            "routing decisions": decisions,
            "routing seals applied in": 1,
            "routing seal requests out": 1,
            "routing completions out": 1,
            "signing signature requests": decisions,
            "signing signature requests not handled ok": 0,
            "signing signatures out": decisions,
            "signing uses of jiulian-coop": 1,
            "sla stages opened": stages_opened,
            "sla deadlines out": stages_opened,
            "notify task messages": tasks + 1,
            "notify task messages neither ok nor rejected": 0,
            "notify task messages rejected": 1,
            "notify dead letters": 1,
            # HTTP: every answer the test got (these reads included), once, under its route template and status
            **{f"http {' '.join(key)}": n for key, n in api.answers.items()},
        }

    def http_moved(after: dict[str, Metrics], keys) -> dict[str, float]:
        count = "sealflow_http_request_duration_seconds_count"
        return {
            f"http {' '.join(key)}": value(after["intake"], count, method=key[0], route=key[1], status=key[2])
            - value(before["intake"], count, method=key[0], route=key[1], status=key[2])
            for key in keys
        }

    # Messages are still on their way when the last HTTP answer arrives: wait for the counts to settle, then
    # compare them all at once (an overshoot — a message counted twice — fails here too, with the whole table).
    deadline = time.monotonic() + 90
    while True:
        wanted = expected()
        after = scrape_all(stack)
        actual = moved(after) | http_moved(after, api.answers)
        if actual == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert actual == wanted
    assert api.answers[("POST", "/v1/matters", "201")] == 2 and api.answers[("POST", "/v1/matters/{matter_id}/decisions", "200")] == 6
    intake = after["intake"]
    read = {"method": "GET", "route": "/v1/matters/{matter_id}", "status": "200"}
    buckets = "sealflow_http_request_duration_seconds_bucket"
    assert (
        value(intake, buckets, le="+Inf", **read) - value(before["intake"], buckets, le="+Inf", **read)
        == actual["http GET /v1/matters/{matter_id} 200"]
    )
    assert not [
        labels
        for labels, _ in intake["sealflow_http_request_duration_seconds_count"]
        if "/v1/matters/" in labels["route"] and "{" not in labels["route"]
    ], "raw paths as labels"

    # Withdrawn, the waiting matter's two tasks are neither open nor overdue any more: the gauges come back down.
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        withdrawn = bookkeeper.post(f"/v1/matters/{waiting['id']}/withdraw", json={"reason": "指标测试结束"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn", withdrawn.text

    def gauges(metrics: Metrics) -> tuple[float, ...]:
        return tuple(value(metrics, name, matter_type="service_procurement") for name in ("sealflow_open_tasks", "sealflow_overdue_tasks"))

    wait_for(lambda: gauges(scrape(stack, "intake")) == gauges(before["intake"]), timeout=30, what="open and overdue tasks back down by 2")

    for service in SERVICES:
        # Declared everywhere (no samples until the first redelivery or dead letter).
        metrics = after[service]
        for family in (
            "sealflow_redeliveries",
            "sealflow_dead_letters",
            "sealflow_handler_duration_seconds",
            "sealflow_http_request_duration_seconds",
        ):
            assert family in metrics, (service, family)
