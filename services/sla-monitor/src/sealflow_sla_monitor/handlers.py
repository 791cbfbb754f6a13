"""sla-monitor's handlers: a deadline per open stage, closed when the stage closes."""

from zoneinfo import ZoneInfo

from pymongo.asynchronous.client_session import AsyncClientSession

from sealflow_contracts import messages as m
from sealflow_runtime.inbox import claim_event
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime
from sealflow_sla_monitor.domain.calendar import add_working_days

CONSUMER = "sla-monitor"


def _deadline_id(matter_id: str, revision: int, stage: int) -> str:
    return f"{matter_id}:{revision}:{stage}"


async def on_stage_opened(rt: Runtime, event: m.StageOpened) -> None:
    local_open = event.opened_at.astimezone(ZoneInfo(rt.settings.timezone))
    due_at = add_working_days(local_open, event.deadline_working_days)

    async def work(session: AsyncClientSession) -> None:
        if not await claim_event(rt.db, session, event.event_id, CONSUMER):
            return
        key = _deadline_id(event.matter_id, event.revision, event.stage)
        # A close that overtook this open already wrote the record: keep its status.
        await rt.db.deadlines.update_one(
            {"_id": key},
            {
                "$set": {"due_at": due_at, "opened_at": event.opened_at, "assignees": event.assignees, "village_id": event.village_id},
                "$setOnInsert": {"matter_id": event.matter_id, "revision": event.revision, "stage": event.stage, "status": "open"},
            },
            upsert=True,
            session=session,
        )
        await stage_messages(
            rt.db, session, [m.DeadlineSet(matter_id=event.matter_id, revision=event.revision, stage=event.stage, due_at=due_at)]
        )

    await in_transaction(rt.client, work)
    rt.relay.wake()


async def on_stage_closed(rt: Runtime, event: m.StageClosed) -> None:
    await rt.db.deadlines.update_one(
        {"_id": _deadline_id(event.matter_id, event.revision, event.stage)},
        {
            "$set": {"status": event.outcome, "closed_at": event.closed_at},
            "$setOnInsert": {"matter_id": event.matter_id, "revision": event.revision, "stage": event.stage},
        },
        upsert=True,
    )
