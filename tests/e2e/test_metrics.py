"""/metrics on every service, after the seed case ran and one poison message was dead-lettered: the
series an operator's dashboards and alerts would use, with their labels."""

import asyncio
import json
import uuid

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sealflow_cli.stack import Stack
from sealflow_contracts import subjects

from tests.e2e.test_seed_case import submit
from tests.e2e.test_tracing import run_matter_to_completion
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e


def scrape(stack: Stack, service: str) -> dict[str, list[tuple[dict, float]]]:
    """Sample name → [(labels, value)], plus each declared family's name mapped to [] if it has no samples yet."""
    response = httpx.get(f"http://127.0.0.1:{stack.service_ports[service]}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found: dict[str, list[tuple[dict, float]]] = {}
    for family in text_string_to_metric_families(response.text):
        found.setdefault(family.name, [])
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(metrics: dict, name: str, **labels) -> float:
    """The sum over the series of `name` whose labels include `labels` (0 if none)."""
    return sum(v for have, v in metrics.get(name, []) if all(have.get(k) == w for k, w in labels.items()))


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


def test_every_service_exposes_its_metrics(stack: Stack, api: Api) -> None:
    run_matter_to_completion(api)
    waiting = submit(api, title="待签 (metrics)")  # left at stage 1: two open tasks
    publish_poison(stack.nats_url)

    intake = scrape(stack, "intake")
    assert value(intake, "sealflow_http_request_duration_seconds_count", method="POST", route="/v1/matters", status="201") >= 1
    assert value(intake, "sealflow_http_request_duration_seconds_count", route="/v1/matters/{matter_id}/decisions", status="200") >= 6
    assert value(intake, "sealflow_http_request_duration_seconds_bucket", route="/v1/matters/{matter_id}", le="+Inf") >= 1
    assert not [
        labels
        for labels, _ in intake["sealflow_http_request_duration_seconds_count"]
        if "/v1/matters/" in labels["route"] and "{" not in labels["route"]
    ], "raw paths as labels"
    assert value(intake, "sealflow_messages_in_total", subject=subjects.MATTER_UPDATED, consumer="intake-matter-updated") >= 1
    assert value(intake, "sealflow_handler_duration_seconds_count", consumer="intake-matter-updated", outcome="ok") >= 1
    # Gauges counted from the read model at scrape time (other tests may leave more matters open).
    assert waiting["current_stage"] == 1
    assert value(intake, "sealflow_open_tasks", matter_type="service_procurement") >= 2
    assert value(intake, "sealflow_overdue_tasks", matter_type="service_procurement") >= 0
    assert "sealflow_overdue_tasks" in intake and all("matter_type" in labels for labels, _ in intake["sealflow_overdue_tasks"])

    routing = scrape(stack, "routing")
    assert value(routing, "sealflow_messages_in_total", subject=subjects.RPC_SUBMIT_MATTER, consumer="core") >= 1
    assert value(routing, "sealflow_messages_in_total", subject=subjects.SEAL_APPLIED, consumer="routing-seal-applied") >= 1
    assert value(routing, "sealflow_messages_out_total", subject=subjects.REQUEST_SEAL) >= 1
    assert value(routing, "sealflow_messages_out_total", subject=subjects.MATTER_COMPLETED) >= 1

    signing = scrape(stack, "signing")
    assert value(signing, "sealflow_seal_uses", seal_id="jiulian-coop") >= 1
    assert value(signing, "sealflow_handler_duration_seconds_count", consumer="signing-request-signature", outcome="ok") >= 6
    assert value(signing, "sealflow_messages_out_total", subject=subjects.SIGNATURE_APPLIED) >= 6

    sla = scrape(stack, "sla-monitor")
    assert value(sla, "sealflow_messages_in_total", consumer="sla-stage-opened") >= 5
    assert value(sla, "sealflow_messages_out_total", subject=subjects.DEADLINE_SET) >= 5

    # The poison message is dead-lettered by notify and counted there, with the handler's outcome.
    def dead_lettered() -> dict | None:
        notify = scrape(stack, "notify")
        return notify if value(notify, "sealflow_dead_letters_total", consumer="notify-task-assigned") >= 1 else None

    notify = wait_for(dead_lettered, timeout=60, what="the poison message counted as a dead letter")
    assert value(notify, "sealflow_handler_duration_seconds_count", consumer="notify-task-assigned", outcome="rejected") >= 1
    assert value(notify, "sealflow_messages_in_total", consumer="notify-task-assigned") >= 2

    for service in ("intake", "routing", "signing", "sla-monitor", "notify"):
        # Declared everywhere (no samples until the first redelivery or dead letter).
        metrics = scrape(stack, service)
        for family in (
            "sealflow_redeliveries",
            "sealflow_dead_letters",
            "sealflow_handler_duration_seconds",
            "sealflow_http_request_duration_seconds",
        ):
            assert family in metrics, (service, family)
