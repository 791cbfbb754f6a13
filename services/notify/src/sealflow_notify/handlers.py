"""notify's handlers: events become notifications for people — always in the in-app inbox, and on every
channel they subscribed to — each exactly once per event, recipient and channel (the ids are the keys)."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.service import Runtime

from sealflow_notify.adapters import deliveries
from sealflow_notify.adapters.channels import Channels, DeliveryFailed
from sealflow_notify.adapters.names import Names

SUBSCRIPTIONS = "subscriptions"


def _names(rt: Runtime) -> Names:
    return rt.extras["names"]


def matter_url(public_url: str, matter_id: str) -> str:
    """The matter's page in the console, where each notice leads."""
    return f"{public_url.rstrip('/')}/#/matters/{matter_id}" if matter_id else ""


async def _deliver(rt: Runtime, event: m.Envelope, person_id: str, kind: str, text: str, subject: str = "", **extra) -> None:
    url = matter_url(rt.settings.public_url, event.matter_id)
    try:
        await rt.db.inbox.insert_one(
            {
                "_id": f"{event.event_id}:{person_id}",
                "person_id": person_id,
                "kind": kind,
                "matter_id": event.matter_id,
                "text": text,
                "url": url,
                "created_at": event.occurred_at,
                # The inbox lists newest received first: the event's own time may run ahead of the wall clock
                # (sla-monitor's test clock) or behind it (a redelivery), and a notice must not sink below others.
                "received_at": m.utcnow(),
                "read": False,
                **extra,
            }
        )
    except DuplicateKeyError:
        pass  # redelivered: this notification exists already
    queued = False
    async for sub in rt.db[SUBSCRIPTIONS].find({"subscriber": person_id, "active": True}):
        if sub.get("kinds") and kind not in sub["kinds"]:
            continue
        payload = {
            "event_id": event.event_id,
            "kind": kind,
            "recipient": person_id,
            "matter_id": event.matter_id,
            "subject": subject or text.split("】", 1)[0].lstrip("【") or "Sealflow",
            "text": text,
            "url": url,
            "occurred_at": event.occurred_at.isoformat(),
            "data": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in extra.items()},
        }
        queued |= await deliveries.enqueue(
            rt.db,
            {
                "_id": f"{event.event_id}:{person_id}:{sub['channel']}:{sub['_id']}",
                "channel": sub["channel"],
                "target": sub["target"],
                "secret": sub.get("secret", ""),
                "payload": payload,
            },
        )
    if queued and "delivery_worker" in rt.extras:
        rt.extras["delivery_worker"].wake()


def _local(rt: Runtime, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d %H:%M")


async def on_task_assigned(rt: Runtime, event: m.TaskAssigned) -> None:
    await _deliver(
        rt, event, event.person_id, "task", f"待您签批：{event.title}（第{event.stage}步）", stage=event.stage, title=event.title
    )


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


def _stage_extra(event: m.ReminderDue | m.StageOverdue | m.EscalationRaised) -> dict[str, Any]:
    return {
        "stage": event.stage,
        "stage_name": event.stage_name,
        "title": event.title,
        "village_id": event.village_id,
        "holders": event.holders,
        "due_at": event.due_at,
    }


async def on_reminder_due(rt: Runtime, event: m.ReminderDue) -> None:
    text = f"【签批提醒】《{event.title}》第{event.stage}步「{event.stage_name}」将于 {_local(rt, event.due_at)} 到期，请及时签批。"
    for person_id in event.holders:
        await _deliver(rt, event, person_id, "reminder", text, point=event.point, **_stage_extra(event))


async def on_stage_overdue(rt: Runtime, event: m.StageOverdue) -> None:
    text = f"【超时提醒】《{event.title}》第{event.stage}步「{event.stage_name}」已于 {_local(rt, event.due_at)} 超过签批时限，请立即签批。"
    for person_id in event.holders:
        await _deliver(rt, event, person_id, "overdue", text, **_stage_extra(event))


async def on_escalation_raised(rt: Runtime, event: m.EscalationRaised) -> None:
    holders = await _names(rt).people(event.holders)
    village = await _names(rt).village(event.village_id)
    if event.level == 1:
        text = (
            f"【督办】《{event.title}》（{village}）第{event.stage}步「{event.stage_name}」"
            f"已超过签批时限（{_local(rt, event.due_at)}），尚未签批：{holders}。"
        )
    else:
        text = (
            f"【问责】《{event.title}》（{village}）第{event.stage}步「{event.stage_name}」超时已满一个工作日仍未签批："
            f"{holders}；已生成问责记录 {event.accountability_id}。"
        )
    for person_id in event.supervisors:
        await _deliver(
            rt, event, person_id, "escalation", text, level=event.level, accountability_id=event.accountability_id, **_stage_extra(event)
        )


async def on_urge_issued(rt: Runtime, event: m.UrgeIssued) -> None:
    text = f"【督办】镇纪委督办《{event.title}》第{event.stage}步：{event.message}"
    for person_id in event.holders:
        await _deliver(rt, event, person_id, "urge", text, stage=event.stage, title=event.title, supervisor_id=event.supervisor_id)


# The integrity rules as the discipline office names them.
RULE_NAMES = {
    "split_procurement": "拆分规避",
    "act_first": "先斩后奏",
    "rubber_stamp": "走过场",
    "counterparty_concentration": "交易对象集中",
}
DISCIPLINE_ROLE = "discipline"  # 镇纪委: every active member is told of every new integrity alert
MOST_TITLES = 5  # a concentration alert may name dozens of matters: the notice lists a few, the board all


def alert_text(rule: str, villages: list[str], titles: list[str], signer: str, summary: str) -> str:
    """The notice of a new integrity alert: the rule's Chinese name, the villages, the signer (走过场), the
    matters by title, and what was found — names, never ids."""
    listed = "、".join(f"《{t}》" for t in titles[:MOST_TITLES])
    if len(titles) > MOST_TITLES:
        listed += f"等{len(titles)}项"
    where = "、".join(v for v in villages if v)
    parts = [f"村：{where}" if where else "", f"签批人：{signer}" if signer else "", f"事项：{listed}" if listed else ""]
    return f"【廉政预警·{RULE_NAMES.get(rule, '其他风险')}】" + "；".join(p for p in parts if p) + f"。{summary}请及时核查处置。"


async def on_integrity_alert_raised(rt: Runtime, event: m.IntegrityAlertRaised) -> None:
    names = _names(rt)
    recipients = await names.holders(DISCIPLINE_ROLE)
    if not recipients:
        rt.log.warning("integrity alert with nobody in the discipline office to tell", alert_id=event.alert_id)
        return
    villages = [await names.village(v) for v in event.village_ids or ([event.village_id] if event.village_id else [])]
    signer = await names.person(event.person_id) if event.person_id else ""
    text = alert_text(event.rule, villages, event.matter_titles, signer, event.summary)
    for person_id in recipients:
        await _deliver(
            rt, event, person_id, "alert", text,
            alert_id=event.alert_id, rule=event.rule, village_id=event.village_id, matter_ids=event.matter_ids, raised_at=event.raised_at,
        )  # fmt: skip


TURN_TEXT = {
    "returned": "已退回：{title}（第{stage}步，{actor}），原因：{reason}",
    "rejected": "已终止：{title}（第{stage}步，{actor}），原因：{reason}",
    "withdrawn": "申请人已撤回：{title}",
    "task_cancelled": "无需再签：{title}（第{stage}步已由{actor}签批）",
    "task_transferred": "已转办：{title}（第{stage}步，{from_person} → {to_person}），原因：{reason}",
    "task_delegated": "代理签批：{title}（第{stage}步，{from_person} → {to_person}），{reason}",
    "revised": "已修改重新提交：{title}（第{revision}版）",
}


async def on_matter_turned(rt: Runtime, event: m.MatterTurned) -> None:
    names = _names(rt)
    reason = event.reason
    if event.from_person_id and event.from_person_id in reason:  # a delegation's reason names who is away by id
        reason = reason.replace(event.from_person_id, await names.person(event.from_person_id))
    text = TURN_TEXT[event.turn].format(
        title=event.title, stage=event.stage, actor=await names.person(event.actor_id), reason=reason, revision=event.revision,
        from_person=await names.person(event.from_person_id or ""), to_person=await names.person(event.to_person_id or ""),
    )  # fmt: skip
    for person_id in event.recipients:
        await _deliver(
            rt, event, person_id, event.turn, text,
            title=event.title, stage=event.stage, revision=event.revision, actor_id=event.actor_id, reason=event.reason,
        )  # fmt: skip


async def inbox(rt: Runtime, query: m.InboxQuery) -> list[dict]:
    criteria = {"person_id": query.person_id} | ({"read": False} if query.unread_only else {})
    if query.matter_id:
        criteria["matter_id"] = query.matter_id
    cursor = rt.db.inbox.find(criteria).sort([("received_at", -1), ("created_at", -1)]).limit(query.limit)
    return [_jsonable({"id": d.pop("_id"), **d}) async for d in cursor]


async def mark_read(rt: Runtime, cmd: m.InboxMarkRead) -> dict:
    # The person's id is in the filter: nobody marks someone else's notification.
    found = await rt.db.inbox.update_one(
        {"_id": cmd.notification_id, "person_id": cmd.person_id}, {"$set": {"read": True, "read_at": m.utcnow()}}
    )
    if found.matched_count != 1:
        raise DomainRefusal("notification_not_found", f"no notification {cmd.notification_id} in your inbox")
    return {"id": cmd.notification_id, "read": True}


async def put_subscription(rt: Runtime, cmd: m.SubscriptionPut) -> dict:
    if cmd.channel == "email" and "@" not in cmd.target:
        raise DomainRefusal("invalid_request", "an e-mail subscription needs an address")
    if cmd.channel in ("webhook", "dingtalk"):
        if not cmd.target.startswith(("http://", "https://")):
            raise DomainRefusal("invalid_request", f"a {cmd.channel} subscription needs an http(s) URL")
        if not cmd.secret:
            raise DomainRefusal("invalid_request", f"a {cmd.channel} subscription needs a signing secret")
    doc = cmd.model_dump(exclude={"id"}) | {"updated_at": m.utcnow()}
    await rt.db[SUBSCRIPTIONS].replace_one({"_id": cmd.id}, doc, upsert=True)
    return {"id": cmd.id, **cmd.model_dump(exclude={"id", "secret"})}


async def list_subscriptions(rt: Runtime, query: m.SubscriptionAdminRequest) -> dict:
    """Every subscription (or one subscriber's), secrets left out: the administrator sees who gets what, where."""
    criteria = {"subscriber": query.subscriber} if query.subscriber else {}
    cursor = rt.db[SUBSCRIPTIONS].find(criteria, {"secret": 0}).sort("_id", 1)
    return {"items": [_jsonable({"id": d.pop("_id"), **d}) async for d in cursor]}


async def test_subscription(rt: Runtime, cmd: m.SubscriptionAdminRequest, channels: Channels) -> dict:
    """Send one test message over the subscription's channel now, bypassing the queue, and say how it went;
    each test is kept (`subscription_tests`) with its outcome."""
    sub = await rt.db[SUBSCRIPTIONS].find_one({"_id": cmd.subscription_id})
    if sub is None:
        raise DomainRefusal("subscription_not_found", f"没有订阅 {cmd.subscription_id}")
    now = m.utcnow()
    test_id = f"test:{m.new_id()}"
    text = f"【Sealflow 测试消息】{await _names(rt).person(cmd.actor_id)} 于 {_local(rt, now)} 发送的测试：收到即说明此通道可用。"
    delivery = {
        "_id": test_id,
        "channel": sub["channel"],
        "target": sub["target"],
        "secret": sub.get("secret", ""),
        "payload": {
            "event_id": test_id, "kind": "test", "recipient": sub["subscriber"], "matter_id": "",
            "subject": "Sealflow 测试消息", "text": text, "occurred_at": now.isoformat(), "data": {"subscription_id": sub["_id"]},
        },
    }  # fmt: skip
    try:
        await channels.send(delivery)
        delivered, detail = True, "已送达"
    except DeliveryFailed as failed:
        delivered, detail = False, f"发送失败：{failed}"
    await rt.db.subscription_tests.insert_one(
        {"_id": test_id, "subscription_id": sub["_id"], "by": cmd.actor_id, "at": now, "delivered": delivered, "detail": detail}
    )
    return {"subscription_id": sub["_id"], "channel": sub["channel"], "delivered": delivered, "detail": detail, "at": now.isoformat()}


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in doc.items()}
