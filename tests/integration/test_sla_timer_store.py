"""sla-monitor's durable timers against a real MongoDB-wire server (secantusd-py), with a controlled
clock: exact firing moments, once each with two scanners racing, nothing lost or repeated across a
restart, cancelled when the stage closes."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sealflow_contracts import messages as m
from sealflow_runtime.mongo import connect
from sealflow_sla_monitor import handlers
from sealflow_sla_monitor.adapters import timers
from sealflow_sla_monitor.bootstrap import Sla, bootstrap
from sealflow_sla_monitor.config import SlaSettings

from tests.support.secantus import secantus_server

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory):
    with secantus_server(Path(tmp_path_factory.mktemp("secantus")) / "data") as uri:
        yield uri


def make_runtime(uri: str, db_name: str) -> Sla:
    """A replica of sla-monitor as far as the timer path goes: real database, no relay (the outbox
    collection shows what would be published)."""
    settings = SlaSettings(mongo_uri=uri, db_name=db_name, sla_test_clock=True)
    client = connect(uri)
    return bootstrap(settings, client=client, db=client[db_name], wake_relay=lambda: None)


async def scan(rt: Sla, now: datetime) -> int:
    return await timers.scan_once(rt.db, rt.transact, handlers.fire_timer(rt), now)


async def outbox(rt: Sla) -> list[dict]:
    return [d["body"] | {"subject": d["subject"]} async for d in rt.db.outbox.find({}).sort("_id", 1)]


def stage_opened(opened_at: datetime, matter_id: str | None = None, assignees: list[str] | None = None) -> m.StageOpened:
    return m.StageOpened(
        matter_id=matter_id or uuid.uuid4().hex,
        revision=1,
        stage=1,
        name="村两委会签",
        assignees=assignees or ["jiulian-director", "jiulian-supervisor"],
        deadline_working_days=1,
        opened_at=opened_at,
        village_id="jiulian",
        title="村级保洁服务招标呈报表",
        matter_type="service_procurement",
    )


async def test_each_timer_fires_at_its_moment_once_across_a_weekend(mongo_uri: str) -> None:
    rt = make_runtime(mongo_uri, f"sla_{uuid.uuid4().hex[:8]}")
    try:
        opened = datetime(2026, 11, 27, 15, 0, tzinfo=SH)  # Friday afternoon
        event = stage_opened(opened)
        await handlers.on_stage_opened(rt, event)
        await handlers.on_stage_opened(rt, event)  # redelivered: no second set of timers
        assert await rt.db.timers.count_documents({}) == 4
        deadline_set = [b for b in await outbox(rt) if b["subject"].endswith("deadline-set.v1")]
        assert len(deadline_set) == 1 and datetime.fromisoformat(deadline_set[0]["due_at"]) == datetime(2026, 11, 30, 15, 0, tzinfo=SH)

        # Nothing is due over the weekend; the director signs on Monday morning.
        assert await scan(rt, datetime(2026, 11, 29, 23, 0, tzinfo=SH)) == 0
        assert await scan(rt, datetime(2026, 11, 30, 9, 29, 59, tzinfo=SH)) == 0
        assert await scan(rt, datetime(2026, 11, 30, 9, 30, tzinfo=SH)) == 1  # 50 % of 7 office hours
        await handlers.on_signature_applied(
            rt,
            m.SignatureApplied(
                matter_id=event.matter_id,
                revision=1,
                seq=1,
                stage=1,
                signer_id="jiulian-director",
                signature_hash="h",
                signed_at=datetime(2026, 11, 30, 10, 0, tzinfo=SH),
            ),
        )
        assert await scan(rt, datetime(2026, 11, 30, 11, 0, tzinfo=SH)) == 1  # 2 working hours before due
        assert await scan(rt, datetime(2026, 11, 30, 15, 0, tzinfo=SH)) == 1  # due: overdue + escalation level 1
        assert await scan(rt, datetime(2026, 12, 1, 14, 59, tzinfo=SH)) == 0
        assert await scan(rt, datetime(2026, 12, 1, 15, 0, tzinfo=SH)) == 1  # one working day later: level 2
        assert await scan(rt, datetime(2026, 12, 31, tzinfo=SH)) == 0

        fired = [(b["subject"].split(".")[3], b.get("point") or b.get("level"), b["holders"]) for b in (await outbox(rt))[1:]]
        assert fired == [
            ("reminder-due", "50%", ["jiulian-director", "jiulian-supervisor"]),
            ("reminder-due", "2h", ["jiulian-supervisor"]),  # the director has signed
            ("stage-overdue", None, ["jiulian-supervisor"]),
            ("escalation-raised", 1, ["jiulian-supervisor"]),
            ("escalation-raised", 2, ["jiulian-supervisor"]),
        ]
        level_2 = (await outbox(rt))[-1]
        assert level_2["supervisors"] == ["yinong-discipline"]
        record = await rt.db.accountability.find_one({"_id": level_2["accountability_id"]})
        assert record["holders"] == ["jiulian-supervisor"] and record["matter_id"] == event.matter_id

        # The figures, as of Wednesday: the director signed on time after 4 office hours (2.5 on Friday,
        # 1.5 on Monday); the supervisor has not signed and is overdue.
        wednesday = datetime(2026, 12, 2, 9, 0, tzinfo=SH)
        await rt.db.test_clock.insert_one({"_id": "offset", "seconds": (wednesday - m.utcnow()).total_seconds()})
        figures = await handlers.stats(rt, m.SupervisionQuery(period_from=opened - timedelta(days=1), period_to=opened + timedelta(days=1)))
        people = {row["person"]: row for row in figures["by"]["person"]}
        assert people["jiulian-director"]["on_time_rate"] == 1.0 and people["jiulian-director"]["median_hours_to_sign"] == 4.0
        assert people["jiulian-supervisor"]["open_overdue"] == 1 and people["jiulian-supervisor"]["signed"] == 0
        own = await handlers.stats(rt, m.SupervisionQuery(person_id="jiulian-director", period_from=opened - timedelta(days=1)))
        assert [row["person"] for row in own["by"]["person"]] == ["jiulian-director"]
        listed = await handlers.overdue(rt, m.SupervisionQuery())
        assert [(i["holders"], i["office"], i["escalation_level"]) for i in listed["items"]] == [(["jiulian-supervisor"], "村两委会签", 2)]
        assert listed["by_village"] == {"jiulian": 1} and listed["items"][0]["overdue_working_hours"] == 10.0  # Mon 2.5 + Tue 7 + Wed 0.5
    finally:
        await rt.client.close()


async def test_two_replicas_racing_fire_each_timer_once_and_a_restart_loses_none(mongo_uri: str) -> None:
    db_name = f"sla_{uuid.uuid4().hex[:8]}"
    first, second = make_runtime(mongo_uri, db_name), make_runtime(mongo_uri, db_name)
    try:
        opened = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # Monday
        events = [stage_opened(opened + timedelta(minutes=i)) for i in range(20)]
        for event in events:
            await handlers.on_stage_opened(first, event)
        assert await first.db.timers.count_documents({"status": "pending"}) == 80

        # Both replicas scan the same due reminders at once.
        moment = datetime(2026, 11, 23, 15, 59, tzinfo=SH)  # past every 50 % point, before every 2 h point
        counts = await asyncio.gather(scan(first, moment), scan(second, moment))
        assert sum(counts) == 20

        # One replica "crashes" (its client goes away); a new one starts later and fires what fell due.
        await first.client.close()
        restarted = make_runtime(mongo_uri, db_name)
        later = datetime(2026, 11, 25, 12, 0, tzinfo=SH)  # past every timer
        counts = await asyncio.gather(scan(restarted, later), scan(second, later))
        assert sum(counts) == 60
        bodies = await outbox(second)
        timer_ids = [b["timer_id"] for b in bodies if "timer_id" in b and b["subject"].split(".")[3] != "stage-overdue"]
        assert len(timer_ids) == len(set(timer_ids)) == 80, "every timer fired exactly once"
        assert await second.db.timers.count_documents({"status": "pending"}) == 0
        await restarted.client.close()
    finally:
        await second.client.close()


async def test_closing_the_stage_cancels_its_timers(mongo_uri: str) -> None:
    rt = make_runtime(mongo_uri, f"sla_{uuid.uuid4().hex[:8]}")
    try:
        opened = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
        event = stage_opened(opened)
        await handlers.on_stage_opened(rt, event)
        await handlers.on_stage_closed(
            rt, m.StageClosed(matter_id=event.matter_id, revision=1, stage=1, outcome="done", closed_at=opened + timedelta(hours=1))
        )
        assert await scan(rt, datetime(2027, 1, 1, tzinfo=UTC)) == 0
        assert await rt.db.timers.count_documents({"status": "cancelled"}) == 4
        # A close that overtakes its open: no timers are set at all.
        late = stage_opened(opened, matter_id=uuid.uuid4().hex)
        await handlers.on_stage_closed(
            rt, m.StageClosed(matter_id=late.matter_id, revision=1, stage=1, outcome="cancelled", closed_at=opened)
        )
        await handlers.on_stage_opened(rt, late)
        assert await rt.db.timers.count_documents({"deadline_id": f"{late.matter_id}:1:1"}) == 0
    finally:
        await rt.client.close()


async def test_due_scan_reads_only_what_is_due(mongo_uri: str) -> None:
    """Cost in proportion to what is due: the scan uses the (status, fire_at) index, not a collection scan."""
    rt = make_runtime(mongo_uri, f"sla_{uuid.uuid4().hex[:8]}")
    try:
        await timers.ensure_indexes(rt.db)
        base = datetime(2026, 11, 23, tzinfo=UTC)
        await rt.db.timers.insert_many(
            [
                {"_id": str(i), "deadline_id": "x", "kind": "overdue", "fire_at": base + timedelta(minutes=i), "status": "pending"}
                for i in range(2000)
            ]
        )
        plan = await rt.db.timers.find({"status": "pending", "fire_at": {"$lte": base + timedelta(minutes=4)}}).explain()
        text = str(plan)
        assert "IXSCAN" in text or "status_1_fire_at_1" in text, text[:2000]
    finally:
        await rt.client.close()


def matter_updated(event: m.StageOpened, version: int, waiting_on: list[str], status: str = "open") -> m.MatterUpdated:
    """routing's snapshot as far as sla-monitor reads it: the revision and each stage's holders."""
    stage = {"number": event.stage, "status": status, "waiting_on": waiting_on}
    return m.MatterUpdated(
        matter_id=event.matter_id, version=version, matter={"revision": event.revision, "stages": [stage]}, new_trail_entries=[]
    )


async def test_timers_and_the_board_go_to_whoever_routing_says_holds_the_stage(mongo_uri: str) -> None:
    """A transfer (转办) moves the director's task to a stand-in: reminders, the overdue board, the
    accountability record and the figures follow routing's `waiting_on`, not the assignees named at open;
    a late or repeated update changes nothing, and one that overtakes the open is kept."""
    rt = make_runtime(mongo_uri, f"sla_{uuid.uuid4().hex[:8]}")
    try:
        opened = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # Monday
        event = stage_opened(opened)
        await handlers.on_stage_opened(rt, event)
        # Before any update arrives: the assignees named at open who have not signed.
        assert await scan(rt, datetime(2026, 11, 23, 14, 30, tzinfo=SH)) == 1  # 50 % of 7 office hours
        await handlers.on_matter_updated(rt, matter_updated(event, 5, ["jiulian-standin", "jiulian-supervisor"]))
        await handlers.on_matter_updated(rt, matter_updated(event, 4, ["jiulian-director", "jiulian-supervisor"]))  # late
        await handlers.on_matter_updated(rt, matter_updated(event, 5, ["jiulian-standin", "jiulian-supervisor"]))  # again
        assert await scan(rt, datetime(2026, 11, 23, 16, 0, tzinfo=SH)) == 1  # 2 working hours before due
        # The stand-in signs; the supervisor is still holding it at due.
        signed_at = datetime(2026, 11, 23, 16, 30, tzinfo=SH)
        await handlers.on_signature_applied(
            rt,
            m.SignatureApplied(
                matter_id=event.matter_id, revision=1, seq=1, stage=1, signer_id="jiulian-standin", signature_hash="h", signed_at=signed_at
            ),
        )
        assert await scan(rt, datetime(2026, 11, 24, 9, 30, tzinfo=SH)) == 1  # due: overdue + level 1
        await handlers.on_matter_updated(rt, matter_updated(event, 6, ["jiulian-supervisor"]))
        assert await scan(rt, datetime(2026, 11, 25, 9, 30, tzinfo=SH)) == 1  # level 2

        fired = [(b["subject"].split(".")[3], b["holders"]) for b in (await outbox(rt))[1:]]
        assert fired == [
            ("reminder-due", ["jiulian-director", "jiulian-supervisor"]),
            ("reminder-due", ["jiulian-standin", "jiulian-supervisor"]),
            ("stage-overdue", ["jiulian-supervisor"]),
            ("escalation-raised", ["jiulian-supervisor"]),
            ("escalation-raised", ["jiulian-supervisor"]),
        ]
        await rt.db.test_clock.insert_one(
            {"_id": "offset", "seconds": (datetime(2026, 11, 25, 10, 0, tzinfo=SH) - m.utcnow()).total_seconds()}
        )
        board = await handlers.overdue(rt, m.SupervisionQuery())
        assert [i["holders"] for i in board["items"]] == [["jiulian-supervisor"]]
        assert (await handlers.overdue(rt, m.SupervisionQuery(person_id="jiulian-director")))["items"] == []
        figures = await handlers.stats(rt, m.SupervisionQuery(period_from=opened - timedelta(days=1), period_to=opened + timedelta(days=1)))
        people = {row["person"]: row for row in figures["by"]["person"]}
        assert people["jiulian-standin"]["signed"] == 1 and people["jiulian-standin"]["on_time"] == 1
        assert people["jiulian-supervisor"]["open_overdue"] == 1
        assert "jiulian-director" not in people, "the director passed the task on: neither signed nor overdue"

        # An update that overtakes the stage's open is kept; the open then adds its deadline beside it.
        early = stage_opened(opened, matter_id=uuid.uuid4().hex)
        await handlers.on_matter_updated(rt, matter_updated(early, 2, ["jiulian-supervisor"]))
        await handlers.on_stage_opened(rt, early)
        record = await rt.db.deadlines.find_one({"_id": f"{early.matter_id}:1:1"})
        assert record["waiting_on"] == ["jiulian-supervisor"] and record["assignees"] == early.assignees and "due_at" in record
    finally:
        await rt.client.close()
