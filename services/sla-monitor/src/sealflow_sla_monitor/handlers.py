"""sla-monitor's handlers, each given what it uses (`bootstrap.Sla`): a deadline and its timers per open
stage, who holds it now and who signed when (kept on the deadline record), timers fired into the outbox,
the supervision queries (overdue board, on-time figures: worked out in `domain.figures`), calendar
overrides and the accountability records."""

from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.inbox import claim_event
from sealflow_runtime.outbox import stage_messages

from sealflow_sla_monitor.adapters import calendar as overrides
from sealflow_sla_monitor.adapters import timers as store
from sealflow_sla_monitor.bootstrap import Sla
from sealflow_sla_monitor.domain import figures
from sealflow_sla_monitor.domain import timers as plan
from sealflow_sla_monitor.domain.holders import holders, open_stage_holders

CONSUMER = "sla-monitor"


def _deadline_id(matter_id: str, revision: int, stage: int) -> str:
    return f"{matter_id}:{revision}:{stage}"


# ---- events ------------------------------------------------------------------------------------------


async def on_stage_opened(sla: Sla, event: m.StageOpened) -> None:
    timers = plan.plan(sla.calendar.current, sla.local(event.opened_at), event.deadline_working_days, sla.points)
    due_at = timers[-2].fire_at  # the overdue timer fires at due
    key = _deadline_id(event.matter_id, event.revision, event.stage)

    async def work(session: AsyncClientSession) -> None:
        if not await claim_event(sla.db, session, event.event_id, CONSUMER):
            return
        # A close that overtook this open already wrote the record: keep its status, set no timers.
        await sla.db.deadlines.update_one(
            {"_id": key},
            {
                "$set": {
                    "due_at": due_at,
                    "opened_at": event.opened_at,
                    "assignees": event.assignees,
                    "village_id": event.village_id,
                    "stage_name": event.name,
                    "title": event.title,
                    "matter_type": event.matter_type,
                    "working_days": event.deadline_working_days,
                },
                "$setOnInsert": {
                    "matter_id": event.matter_id,
                    "revision": event.revision,
                    "stage": event.stage,
                    "status": "open",
                    "signed": [],
                },
            },
            upsert=True,
            session=session,
        )
        deadline = await sla.db.deadlines.find_one({"_id": key}, {"status": 1}, session=session)
        if deadline["status"] == "open":
            docs = store.timer_documents(key, [(t.kind, t.fire_at) for t in timers])
            await sla.db[store.TIMERS].insert_many(docs, session=session)
        await stage_messages(
            sla.db, session, [m.DeadlineSet(matter_id=event.matter_id, revision=event.revision, stage=event.stage, due_at=due_at)]
        )

    await sla.transact(work)
    sla.wake_relay()


async def on_stage_closed(sla: Sla, event: m.StageClosed) -> None:
    key = _deadline_id(event.matter_id, event.revision, event.stage)
    await sla.db.deadlines.update_one(
        {"_id": key},
        {
            "$set": {"status": event.outcome, "closed_at": event.closed_at},
            "$setOnInsert": {"matter_id": event.matter_id, "revision": event.revision, "stage": event.stage, "signed": []},
        },
        upsert=True,
    )
    await store.cancel_pending(sla.db, key)


async def on_signature_applied(sla: Sla, event: m.SignatureApplied) -> None:
    """Who signed when: the figures' raw data (and a signer no longer holds the stage)."""
    key = _deadline_id(event.matter_id, event.revision, event.stage)
    try:
        await sla.db.deadlines.update_one(
            {"_id": key, "signed.person_id": {"$ne": event.signer_id}},
            {
                "$push": {"signed": {"person_id": event.signer_id, "at": event.signed_at}},
                "$setOnInsert": {"matter_id": event.matter_id, "revision": event.revision, "stage": event.stage, "status": "open"},
            },
            upsert=True,
        )
    except DuplicateKeyError:
        pass  # redelivered: this signature is recorded already


async def on_matter_updated(sla: Sla, event: m.MatterUpdated) -> None:
    """Who holds each open stage now, as routing published it (after a decision, a transfer, a stand-in),
    kept on the stage's deadline record for the timers and the overdue board. Only a newer update
    replaces it, so a redelivered or late one changes nothing."""
    revision = event.matter.get("revision")
    if revision is None:
        return
    for stage, waiting_on in open_stage_holders(event.matter):
        key = _deadline_id(event.matter_id, revision, stage)
        try:
            await sla.db.deadlines.update_one(
                {"_id": key, "$or": [{"holders_version": {"$exists": False}}, {"holders_version": {"$lt": event.version}}]},
                {
                    "$set": {"waiting_on": waiting_on, "holders_version": event.version},
                    "$setOnInsert": {"matter_id": event.matter_id, "revision": revision, "stage": stage, "status": "open", "signed": []},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a newer update is recorded already


def fire_timer(sla: Sla) -> store.FireWork:
    """The work done inside the transaction that claims a timer: the events it announces to whoever holds
    the stage, and at level 2 the accountability record."""

    async def fire(session: AsyncClientSession, timer: dict[str, Any], now: datetime) -> None:
        deadline = await sla.db.deadlines.find_one({"_id": timer["deadline_id"]}, session=session)
        if deadline is None or deadline["status"] != "open":
            return
        holding = holders(deadline)
        if not holding:
            return  # everyone has decided; the close is on its way
        common = {
            "matter_id": deadline["matter_id"],
            "revision": deadline["revision"],
            "stage": deadline["stage"],
            "stage_name": deadline.get("stage_name", ""),
            "title": deadline.get("title", ""),
            "village_id": deadline.get("village_id", ""),
            "matter_type": deadline.get("matter_type", ""),
            "holders": holding,
            "due_at": deadline["due_at"],
            "timer_id": timer["_id"],
            "occurred_at": now,
        }
        kind = timer["kind"]
        messages: list[m.Envelope]
        if kind.startswith("reminder:"):
            messages = [m.ReminderDue(**common, point=kind.split(":", 1)[1])]
        elif kind == plan.OVERDUE:
            await sla.db.deadlines.update_one({"_id": deadline["_id"]}, {"$set": {"escalation_level": 1}}, session=session)
            messages = [m.StageOverdue(**common), m.EscalationRaised(**common, level=1, supervisors=sla.supervisors)]
        else:
            record_id = f"acc:{deadline['_id']}"
            await sla.db.accountability.insert_one(
                {
                    "_id": record_id,
                    "deadline_id": deadline["_id"],
                    "holders": holding,
                    "opened_at": now,
                    "status": "open",
                    **{k: common[k] for k in ("matter_id", "stage", "stage_name", "title", "village_id", "due_at")},
                },
                session=session,
            )
            await sla.db.deadlines.update_one({"_id": deadline["_id"]}, {"$set": {"escalation_level": 2}}, session=session)
            messages = [m.EscalationRaised(**common, level=2, supervisors=sla.supervisors, accountability_id=record_id)]
        await stage_messages(sla.db, session, messages)

    return fire


# ---- supervision queries -----------------------------------------------------------------------------


async def overdue(sla: Sla, query: m.SupervisionQuery) -> dict[str, Any]:
    """Who holds what past its deadline, since when, by village and office (the stage's post)."""
    await sla.clock.refresh()
    now = sla.clock.now()
    criteria: dict[str, Any] = {"status": "open", "due_at": {"$lte": now}}
    if query.village_id:
        criteria["village_id"] = query.village_id
    deadlines = await sla.db.deadlines.find(criteria).sort("due_at", 1).limit(5000).to_list()
    board = figures.overdue_board(deadlines, now=now, hours=sla.working_hours, person_id=query.person_id)
    return {"as_of": now.isoformat(), **board, "calendar_warning": sla.calendar.warning()}


async def stats(sla: Sla, query: m.SupervisionQuery) -> dict[str, Any]:
    """On-time figures per person, village, stage and matter type over the period (stages opened in it)."""
    await sla.clock.refresh()
    now = sla.clock.now()
    period_to = query.period_to or now
    period_from = query.period_from or period_to - timedelta(days=30)
    if period_from >= period_to:
        raise DomainRefusal("invalid_request", "the period must start before it ends")
    criteria: dict[str, Any] = {"opened_at": {"$gte": period_from, "$lt": period_to}, "status": {"$ne": "cancelled"}}
    if query.village_id:
        criteria["village_id"] = query.village_id
    rows: list[figures.Row] = []
    async for d in sla.db.deadlines.find(criteria).limit(200_000):
        rows.extend(figures.rows(d, now=now, hours=sla.working_hours, person_id=query.person_id))
    return {
        "period_from": period_from.isoformat(),
        "period_to": period_to.isoformat(),
        "as_of": now.isoformat(),
        "by": {dim: figures.figures(rows, dim) for dim in figures.DIMENSIONS},
        "calendar_warning": sla.calendar.warning(),
    }


# ---- calendar overrides ------------------------------------------------------------------------------


async def list_calendar_overrides(sla: Sla) -> dict[str, Any]:
    return {"items": await overrides.list_overrides(sla.db)}


async def set_calendar_override(sla: Sla, cmd: m.CalendarOverride) -> dict[str, Any]:
    if cmd.working is None:
        await sla.db[overrides.OVERRIDES].delete_one({"_id": cmd.day.isoformat()})
    else:
        await sla.db[overrides.OVERRIDES].replace_one(
            {"_id": cmd.day.isoformat()},
            {"working": cmd.working, "note": cmd.note, "set_by": cmd.set_by, "set_at": m.utcnow()},
            upsert=True,
        )
    await sla.calendar.reload(sla.db)
    return {"overrides": [{k: d[k] for k in ("day", "working", "note")} for d in await overrides.list_overrides(sla.db)]}


# ---- accountability records (问责) -------------------------------------------------------------------


async def accountability(sla: Sla, req: m.AccountabilityRequest) -> dict[str, Any]:
    """List the records (newest first), or record a disposition: once per record, by a guarded update, so
    two officers deciding at once cannot overwrite each other (the second is told `conflict`)."""
    if req.action == "list":
        criteria: dict[str, Any] = {}
        if req.village_id:
            criteria["village_id"] = req.village_id
        if req.status:
            criteria["status"] = req.status
        cursor = sla.db.accountability.find(criteria).sort("opened_at", -1).limit(req.limit)
        return {"items": [_accountability_view(d) async for d in cursor]}
    if not req.accountability_id or not req.outcome or not req.note.strip():
        raise DomainRefusal("invalid_request", "处理问责记录需要记录编号、处理结果和处理说明")
    disposition = {"outcome": req.outcome, "note": req.note.strip(), "by": req.actor_id, "at": m.utcnow()}
    done = await sla.db.accountability.update_one(
        {"_id": req.accountability_id, "status": "open"}, {"$set": {"status": "disposed", "disposition": disposition}}
    )
    if done.modified_count != 1:
        if await sla.db.accountability.find_one({"_id": req.accountability_id}, {"_id": 1}) is None:
            raise DomainRefusal("not_found", f"没有问责记录 {req.accountability_id}")
        raise DomainRefusal("conflict", "这条问责记录已经处理过了")
    return _accountability_view(await sla.db.accountability.find_one({"_id": req.accountability_id}))


def _accountability_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = {"id": doc["_id"], "disposition": None, **{k: v for k, v in doc.items() if k not in ("_id", "deadline_id")}}
    if view["disposition"]:
        view["disposition"] = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view["disposition"].items()}
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view.items()}
