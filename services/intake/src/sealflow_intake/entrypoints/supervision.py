"""Supervision (码上督): overdue items and on-time figures from sla-monitor, a supervisor's urge notice
(督办), calendar overrides, and marking inbox notifications read. Figures are read-only: the discipline
inspector and the administrator see everyone's; anyone else sees only their own."""

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages

from sealflow_intake.adapters import readmodel
from sealflow_intake.auth import Person
from sealflow_intake.entrypoints.deps import Caller, Rt
from sealflow_intake.entrypoints.deps import ask as _ask
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1")
URGERS = {"discipline", "admin"}


class UrgeIn(BaseModel):
    matter_id: str = Field(min_length=1, max_length=64)
    stage: int | None = Field(default=None, ge=1)
    message: str = Field(default="", max_length=500)


class CalendarDayIn(BaseModel):
    working: bool | None  # true: a make-up working day; false: a holiday; null: remove the override
    note: str = Field(default="", max_length=200)


def _subject_person(person: Person, person_id: str | None) -> str | None:
    """Whose figures the caller may read: everyone's for oversight, otherwise only their own."""
    if person.oversees:
        return person_id
    if person_id and person_id != person.id:
        raise ApiError("forbidden", "you may see only your own figures")
    return person.id


@router.get("/supervision/overdue", response_model=None)
async def overdue(
    rt: Rt, person: Caller, village_id: str | None = None, person_id: str | None = None, format: Literal["json", "csv"] = "json"
) -> Any:
    result = await _ask(
        rt, subjects.RPC_SLA_OVERDUE, m.SupervisionQuery(village_id=village_id, person_id=_subject_person(person, person_id))
    )
    if format == "csv":
        header = [
            "matter_id",
            "title",
            "village_id",
            "matter_type",
            "office",
            "stage",
            "holders",
            "opened_at",
            "due_at",
            "overdue_working_hours",
            "escalation_level",
        ]
        rows = [[i[k] if k != "holders" else ";".join(i[k]) for k in header] for i in result["items"]]
        return _csv("overdue.csv", header, rows)
    return result


@router.get("/supervision/stats", response_model=None)
async def stats(
    rt: Rt,
    person: Caller,
    period_from: Annotated[datetime | None, Query(alias="from")] = None,
    period_to: Annotated[datetime | None, Query(alias="to")] = None,
    village_id: str | None = None,
    person_id: str | None = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    for moment in (period_from, period_to):
        if moment is not None and moment.tzinfo is None:
            raise ApiError("invalid_request", "from/to need a time zone, e.g. 2026-11-01T00:00:00+08:00")
    query = m.SupervisionQuery(
        period_from=period_from, period_to=period_to, village_id=village_id, person_id=_subject_person(person, person_id)
    )
    result = await _ask(rt, subjects.RPC_SLA_STATS, query)
    if format == "csv":
        header = [
            "dimension",
            "key",
            "signed",
            "on_time",
            "on_time_rate",
            "median_hours_to_sign",
            "p90_hours_to_sign",
            "overdue",
            "open_overdue",
        ]
        rows = [[dim, row[dim], *(row[k] for k in header[2:])] for dim, group in result["by"].items() for row in group]
        return _csv("stats.csv", header, rows)
    return result


@router.post("/supervision/urge", status_code=202)
async def urge(body: UrgeIn, rt: Rt, person: Caller) -> dict[str, Any]:
    """A 督办 notice to whoever holds the open stage: recorded in the matter's trail by routing and
    delivered by notify, both from the event staged here."""
    if not URGERS & set(person.roles):
        raise ApiError("forbidden", "only the discipline inspector or the administrator issues 督办 notices")
    matter = await rt.db.matters.find_one({"_id": body.matter_id}, {"_id": 0})
    if matter is None:
        raise ApiError("matter_not_found", f"no matter {body.matter_id}")
    open_stages = [s for s in matter["stages"] if s["status"] == "open"]
    stage = next((s for s in open_stages if body.stage in (None, s["number"])), None)
    if matter["status"] != "in_review" or stage is None:
        raise ApiError("stage_not_open", f"matter {body.matter_id} has no open stage {body.stage or ''} to urge".replace("  ", " "))
    holders = readmodel.waiting_on(stage)
    notice = m.UrgeIssued(
        matter_id=body.matter_id,
        stage=stage["number"],
        supervisor_id=person.id,
        holders=holders,
        title=matter["title"],
        message=body.message.strip() or "请尽快签批",
    )

    async def work(session: AsyncClientSession) -> None:
        await stage_messages(rt.db, session, [notice])

    await in_transaction(rt.client, work)
    rt.relay.wake()
    return {
        "notice_id": notice.event_id,
        "matter_id": notice.matter_id,
        "stage": notice.stage,
        "holders": holders,
        "message": notice.message,
    }


@router.put("/supervision/calendar/{day}")
async def calendar_override(day: date, body: CalendarDayIn, rt: Rt, person: Caller) -> dict[str, Any]:
    """The administrator corrects the working-day calendar (e.g. next year's holidays before the
    chinese-calendar package knows them)."""
    if "admin" not in person.roles:
        raise ApiError("forbidden", "only the administrator edits the working-day calendar")
    return await _ask(rt, subjects.RPC_SLA_CALENDAR, m.CalendarOverride(day=day, working=body.working, note=body.note, set_by=person.id))


@router.post("/inbox/{notification_id}/read")
async def mark_read(notification_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _ask(rt, subjects.RPC_INBOX_MARK_READ, m.InboxMarkRead(person_id=person.id, notification_id=notification_id))


class SubscriptionIn(BaseModel):
    subscriber: str | None = Field(default=None, max_length=64)  # default: the caller; others need the administrator
    channel: Literal["webhook", "email", "dingtalk"]
    target: str = Field(min_length=3, max_length=500)
    secret: str = Field(default="", max_length=200)
    kinds: list[Literal["task", "completed", "reminder", "overdue", "escalation", "urge", "alert"]] = Field(default_factory=list)
    active: bool = True


@router.put("/subscriptions/{subscription_id}")
async def put_subscription(
    subscription_id: Annotated[str, Path(max_length=64)], body: SubscriptionIn, rt: Rt, person: Caller
) -> dict[str, Any]:
    """Channel preferences, stored as data in notify: the caller's own, or anyone's for the administrator."""
    subscriber = body.subscriber or person.id
    if subscriber != person.id and "admin" not in person.roles:
        raise ApiError("forbidden", "only the administrator sets someone else's channels")
    if body.channel != "email" and "admin" not in person.roles:
        # notify POSTs to whatever URL is stored: only the administrator may point it somewhere.
        raise ApiError("forbidden", "webhook and robot URLs are registered by the administrator")
    cmd = m.SubscriptionPut(id=subscription_id, set_by=person.id, **body.model_dump() | {"subscriber": subscriber})
    return await _ask(rt, subjects.RPC_NOTIFY_SUBSCRIPTION, cmd)


def _csv(filename: str, header: list[str], rows: list[list[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    # A BOM so spreadsheet programs read the Chinese text as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
