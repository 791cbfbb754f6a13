"""sla-monitor's handlers: a deadline and its timers per open stage, signatures recorded for the figures,
timers fired into the outbox, and the supervision queries (overdue list, on-time statistics)."""

import logging
import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Gauge
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.inbox import claim_event
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime

from sealflow_sla_monitor.adapters import timers as store
from sealflow_sla_monitor.domain import timers as plan
from sealflow_sla_monitor.domain.calendar import WorkCalendar, parse_office_hours

CONSUMER = "sla-monitor"
OVERRIDES = "calendar_overrides"
FALLBACK_DAYS = Counter(
    "sealflow_sla_calendar_fallback_total",
    "Dates judged weekends-only because chinese-calendar has no data for their year: add overrides or upgrade it",
    ["year"],
)
FALLBACK_YEAR = Gauge("sealflow_sla_calendar_fallback_latest_year", "The latest year judged by the weekends-only fallback (0 = none)")


@dataclass
class Sla:
    """What the handlers share: the calendar (rebuilt when overrides change), reminder points, the clock."""

    tz: ZoneInfo
    office_hours: tuple
    points: tuple[plan.ReminderPoint, ...]
    supervisors: list[str]
    clock: store.Clock
    calendar: WorkCalendar = field(init=False)
    fallback_years: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.calendar = WorkCalendar(self.office_hours, {}, self._fell_back)

    def _fell_back(self, day: date) -> None:
        FALLBACK_DAYS.labels(str(day.year)).inc()
        if day.year not in self.fallback_years:
            self.fallback_years.add(day.year)
            FALLBACK_YEAR.set(max(self.fallback_years))
            logging.getLogger("sealflow.sla").warning("calendar fallback for %s", day.year)

    def warning(self) -> str | None:
        if not self.fallback_years:
            return None
        years = ", ".join(str(y) for y in sorted(self.fallback_years))
        return (
            f"工作日历缺少 {years} 年的法定节假日数据，已按周末计算；请管理员补录节假日和调休（calendar overrides）或升级 chinese-calendar"
        )

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


def sla_of(rt: Runtime) -> Sla:
    return rt.extras["sla"]


def build_sla(rt: Runtime) -> Sla:
    s = rt.settings
    return Sla(
        tz=ZoneInfo(s.timezone),
        office_hours=parse_office_hours(s.office_hours),
        points=plan.parse_reminder_points(s.reminder_points),
        supervisors=[p.strip() for p in s.supervisors.split(",") if p.strip()],
        clock=store.Clock(rt.db, s.sla_test_clock),
    )


async def load_overrides(rt: Runtime) -> None:
    sla = sla_of(rt)
    overrides = {date.fromisoformat(d["_id"]): d["working"] async for d in rt.db[OVERRIDES].find({})}
    sla.calendar = WorkCalendar(sla.office_hours, overrides, sla._fell_back)


def _deadline_id(matter_id: str, revision: int, stage: int) -> str:
    return f"{matter_id}:{revision}:{stage}"


async def on_stage_opened(rt: Runtime, event: m.StageOpened) -> None:
    sla = sla_of(rt)
    timers = plan.plan(sla.calendar, sla.local(event.opened_at), event.deadline_working_days, sla.points)
    due_at = timers[-2].fire_at  # the overdue timer fires at due
    key = _deadline_id(event.matter_id, event.revision, event.stage)

    async def work(session: AsyncClientSession) -> None:
        if not await claim_event(rt.db, session, event.event_id, CONSUMER):
            return
        # A close that overtook this open already wrote the record: keep its status, set no timers.
        await rt.db.deadlines.update_one(
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
        deadline = await rt.db.deadlines.find_one({"_id": key}, {"status": 1}, session=session)
        if deadline["status"] == "open":
            docs = store.timer_documents(key, [(t.kind, t.fire_at) for t in timers])
            await rt.db[store.TIMERS].insert_many(docs, session=session)
        await stage_messages(
            rt.db, session, [m.DeadlineSet(matter_id=event.matter_id, revision=event.revision, stage=event.stage, due_at=due_at)]
        )

    await in_transaction(rt.client, work)
    rt.relay.wake()


async def on_stage_closed(rt: Runtime, event: m.StageClosed) -> None:
    key = _deadline_id(event.matter_id, event.revision, event.stage)
    await rt.db.deadlines.update_one(
        {"_id": key},
        {
            "$set": {"status": event.outcome, "closed_at": event.closed_at},
            "$setOnInsert": {"matter_id": event.matter_id, "revision": event.revision, "stage": event.stage, "signed": []},
        },
        upsert=True,
    )
    await store.cancel_pending(rt.db, key)


async def on_signature_applied(rt: Runtime, event: m.SignatureApplied) -> None:
    """Who signed when: the figures' raw data, and who still holds the stage when a timer fires."""
    key = _deadline_id(event.matter_id, event.revision, event.stage)
    try:
        await rt.db.deadlines.update_one(
            {"_id": key, "signed.person_id": {"$ne": event.signer_id}},
            {
                "$push": {"signed": {"person_id": event.signer_id, "at": event.signed_at}},
                "$setOnInsert": {"matter_id": event.matter_id, "revision": event.revision, "stage": event.stage, "status": "open"},
            },
            upsert=True,
        )
    except DuplicateKeyError:
        pass  # redelivered: this signature is recorded already


def fire_timer(rt: Runtime):
    """The work done inside the transaction that claims a timer: the events it announces, and at level 2
    the accountability record."""
    sla = sla_of(rt)

    async def fire(session: AsyncClientSession, timer: dict[str, Any], now: datetime) -> None:
        deadline = await rt.db.deadlines.find_one({"_id": timer["deadline_id"]}, session=session)
        if deadline is None or deadline["status"] != "open":
            return
        signed = {s["person_id"] for s in deadline.get("signed", [])}
        holders = [p for p in deadline["assignees"] if p not in signed]
        if not holders:
            return  # everyone signed; the close is on its way
        common = {
            "matter_id": deadline["matter_id"],
            "revision": deadline["revision"],
            "stage": deadline["stage"],
            "stage_name": deadline.get("stage_name", ""),
            "title": deadline.get("title", ""),
            "village_id": deadline.get("village_id", ""),
            "matter_type": deadline.get("matter_type", ""),
            "holders": holders,
            "due_at": deadline["due_at"],
            "timer_id": timer["_id"],
            "occurred_at": now,
        }
        kind = timer["kind"]
        messages: list[m.Envelope]
        if kind.startswith("reminder:"):
            messages = [m.ReminderDue(**common, point=kind.split(":", 1)[1])]
        elif kind == plan.OVERDUE:
            await rt.db.deadlines.update_one({"_id": deadline["_id"]}, {"$set": {"escalation_level": 1}}, session=session)
            messages = [m.StageOverdue(**common), m.EscalationRaised(**common, level=1, supervisors=sla.supervisors)]
        else:
            record_id = f"acc:{deadline['_id']}"
            await rt.db.accountability.insert_one(
                {
                    "_id": record_id,
                    "deadline_id": deadline["_id"],
                    "holders": holders,
                    "opened_at": now,
                    "status": "open",
                    **{k: common[k] for k in ("matter_id", "stage", "stage_name", "title", "village_id", "due_at")},
                },
                session=session,
            )
            await rt.db.deadlines.update_one({"_id": deadline["_id"]}, {"$set": {"escalation_level": 2}}, session=session)
            messages = [m.EscalationRaised(**common, level=2, supervisors=sla.supervisors, accountability_id=record_id)]
        await stage_messages(rt.db, session, messages)

    return fire


# ---- supervision queries ---------------------------------------------------------------------------


async def overdue(rt: Runtime, query: m.SupervisionQuery) -> dict[str, Any]:
    """Who holds what past its deadline, since when, by village and office (the stage's post)."""
    sla = sla_of(rt)
    await sla.clock.refresh()
    now = sla.clock.now()
    criteria: dict[str, Any] = {"status": "open", "due_at": {"$lte": now}}
    if query.village_id:
        criteria["village_id"] = query.village_id
    items = []
    async for d in rt.db.deadlines.find(criteria).sort("due_at", 1).limit(5000):
        signed = {s["person_id"] for s in d.get("signed", [])}
        holders = [p for p in d["assignees"] if p not in signed]
        if query.person_id and query.person_id not in holders:
            continue
        items.append(
            {
                "matter_id": d["matter_id"],
                "title": d.get("title", ""),
                "village_id": d.get("village_id", ""),
                "matter_type": d.get("matter_type", ""),
                "stage": d["stage"],
                "office": d.get("stage_name", ""),
                "holders": holders,
                "opened_at": d["opened_at"].isoformat(),
                "due_at": d["due_at"].isoformat(),
                "overdue_working_hours": round(_hours(sla, d["due_at"], now), 2),
                "escalation_level": d.get("escalation_level", 0),
            }
        )
    return {
        "as_of": now.isoformat(),
        "items": items,
        "by_village": _count(items, "village_id"),
        "by_office": _count(items, "office"),
        "calendar_warning": sla.warning(),
    }


async def stats(rt: Runtime, query: m.SupervisionQuery) -> dict[str, Any]:
    """On-time figures per person, village, stage and matter type over the period (stages opened in it)."""
    sla = sla_of(rt)
    await sla.clock.refresh()
    now = sla.clock.now()
    period_to = query.period_to or now
    period_from = query.period_from or period_to - timedelta(days=30)
    if period_from >= period_to:
        raise DomainRefusal("invalid_request", "the period must start before it ends")
    criteria: dict[str, Any] = {"opened_at": {"$gte": period_from, "$lt": period_to}, "status": {"$ne": "cancelled"}}
    if query.village_id:
        criteria["village_id"] = query.village_id
    rows = []  # one per (stage, assignee) that signed or is overdue
    async for d in rt.db.deadlines.find(criteria).limit(200_000):
        if "opened_at" not in d:
            continue  # a close or signature that overtook its open: counted once the open arrives
        signed = {s["person_id"]: s["at"] for s in d.get("signed", [])}
        for person_id in d["assignees"]:
            if query.person_id and person_id != query.person_id:
                continue
            row = {
                "person": person_id,
                "village": d.get("village_id", ""),
                "stage": d.get("stage_name") or str(d["stage"]),
                "matter_type": d.get("matter_type", ""),
            }
            if person_id in signed:
                at = signed[person_id]
                rows.append(row | {"hours": _hours(sla, d["opened_at"], at), "on_time": at <= d["due_at"], "open_overdue": False})
            elif d["status"] == "open" and d["due_at"] <= now:
                rows.append(row | {"hours": None, "on_time": False, "open_overdue": True})
    return {
        "period_from": period_from.isoformat(),
        "period_to": period_to.isoformat(),
        "as_of": now.isoformat(),
        "by": {dim: _figures(rows, dim) for dim in ("person", "village", "stage", "matter_type")},
        "calendar_warning": sla.warning(),
    }


async def list_calendar_overrides(rt: Runtime) -> dict[str, Any]:
    return {
        "items": [
            {"day": d["_id"], "working": d["working"], "note": d.get("note", ""), "set_by": d.get("set_by")}
            async for d in rt.db[OVERRIDES].find({}).sort("_id", 1)
        ]
    }


async def set_calendar_override(rt: Runtime, cmd: m.CalendarOverride) -> dict[str, Any]:
    if cmd.working is None:
        await rt.db[OVERRIDES].delete_one({"_id": cmd.day.isoformat()})
    else:
        await rt.db[OVERRIDES].replace_one(
            {"_id": cmd.day.isoformat()},
            {"working": cmd.working, "note": cmd.note, "set_by": cmd.set_by, "set_at": m.utcnow()},
            upsert=True,
        )
    await load_overrides(rt)
    return {
        "overrides": [
            {"day": d["_id"], "working": d["working"], "note": d.get("note", "")} async for d in rt.db[OVERRIDES].find({}).sort("_id", 1)
        ]
    }


def _hours(sla: Sla, start: datetime, end: datetime) -> float:
    return sla.calendar.working_time_between(sla.local(start), sla.local(end)).total_seconds() / 3600


def _count(items: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return counts


def _figures(rows: list[dict[str, Any]], dim: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[dim], []).append(row)
    out = []
    for key, group in sorted(groups.items()):
        hours = sorted(r["hours"] for r in group if r["hours"] is not None)
        signed = len(hours)
        on_time = sum(1 for r in group if r["on_time"])
        out.append(
            {
                dim: key,
                "signed": signed,
                "on_time": on_time,
                "on_time_rate": round(on_time / signed, 4) if signed else None,
                "median_hours_to_sign": round(statistics.median(hours), 2) if hours else None,
                "p90_hours_to_sign": round(_percentile(hours, 0.9), 2) if hours else None,
                "overdue": sum(1 for r in group if not r["on_time"]),
                "open_overdue": sum(1 for r in group if r["open_overdue"]),
            }
        )
    return out


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below it."""
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


# ---- accountability records (问责) -------------------------------------------------------------------


async def accountability(rt: Runtime, req: m.AccountabilityRequest) -> dict[str, Any]:
    """List the records (newest first), or record a disposition: once per record, by a guarded update, so
    two officers deciding at once cannot overwrite each other (the second is told `conflict`)."""
    if req.action == "list":
        criteria: dict[str, Any] = {}
        if req.village_id:
            criteria["village_id"] = req.village_id
        if req.status:
            criteria["status"] = req.status
        cursor = rt.db.accountability.find(criteria).sort("opened_at", -1).limit(req.limit)
        return {"items": [_accountability_view(d) async for d in cursor]}
    if not req.accountability_id or not req.outcome or not req.note.strip():
        raise DomainRefusal("invalid_request", "处理问责记录需要记录编号、处理结果和处理说明")
    disposition = {"outcome": req.outcome, "note": req.note.strip(), "by": req.actor_id, "at": m.utcnow()}
    done = await rt.db.accountability.update_one(
        {"_id": req.accountability_id, "status": "open"}, {"$set": {"status": "disposed", "disposition": disposition}}
    )
    if done.modified_count != 1:
        if await rt.db.accountability.find_one({"_id": req.accountability_id}, {"_id": 1}) is None:
            raise DomainRefusal("not_found", f"没有问责记录 {req.accountability_id}")
        raise DomainRefusal("conflict", "这条问责记录已经处理过了")
    return _accountability_view(await rt.db.accountability.find_one({"_id": req.accountability_id}))


def _accountability_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = {"id": doc["_id"], "disposition": None, **{k: v for k, v in doc.items() if k not in ("_id", "deadline_id")}}
    if view["disposition"]:
        view["disposition"] = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view["disposition"].items()}
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view.items()}
