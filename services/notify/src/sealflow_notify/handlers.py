"""notify's handlers: events become inbox entries for people, each exactly once (keyed by event id)."""

from pymongo.errors import DuplicateKeyError

from sealflow_contracts import messages as m
from sealflow_runtime.service import Runtime


async def _deliver(rt: Runtime, event: m.Envelope, person_id: str, kind: str, text: str, **extra) -> None:
    try:
        await rt.db.inbox.insert_one(
            {
                "_id": f"{event.event_id}:{person_id}",
                "person_id": person_id,
                "kind": kind,
                "matter_id": event.matter_id,
                "text": text,
                "created_at": event.occurred_at,
                "read": False,
                **extra,
            }
        )
    except DuplicateKeyError:
        pass  # redelivered: this notification exists already


async def on_task_assigned(rt: Runtime, event: m.TaskAssigned) -> None:
    await _deliver(rt, event, event.person_id, "task", f"待您签批：{event.title}（第{event.stage}步）", stage=event.stage, title=event.title)


async def on_matter_completed(rt: Runtime, event: m.MatterCompleted) -> None:
    await _deliver(
        rt,
        event,
        event.applicant_id,
        "completed",
        f"已办结：{event.title}，审批编号 {event.approval_number}",
        title=event.title,
        approval_number=event.approval_number,
    )


TURN_TEXT = {
    "returned": "已退回：{title}（第{stage}步，{actor}），原因：{reason}",
    "rejected": "已终止：{title}（第{stage}步，{actor}），原因：{reason}",
    "withdrawn": "申请人已撤回：{title}",
    "task_cancelled": "无需再签：{title}（第{stage}步已由{actor}签批）",
    "task_transferred": "已转办：{title}（第{stage}步，{from_person} → {to_person}），原因：{reason}",
    "revised": "已修改重新提交：{title}（第{revision}版）",
}


async def on_matter_turned(rt: Runtime, event: m.MatterTurned) -> None:
    text = TURN_TEXT[event.turn].format(
        title=event.title, stage=event.stage, actor=event.actor_id, reason=event.reason, revision=event.revision,
        from_person=event.from_person_id, to_person=event.to_person_id,
    )  # fmt: skip
    for person_id in event.recipients:
        await _deliver(
            rt, event, person_id, event.turn, text,
            title=event.title, stage=event.stage, revision=event.revision, actor_id=event.actor_id, reason=event.reason,
        )  # fmt: skip


async def inbox(rt: Runtime, query: m.InboxQuery) -> list[dict]:
    criteria = {"person_id": query.person_id} | ({"read": False} if query.unread_only else {})
    cursor = rt.db.inbox.find(criteria).sort("created_at", -1).limit(query.limit)
    return [{"id": d.pop("_id"), **d, "created_at": d["created_at"].isoformat()} async for d in cursor]
