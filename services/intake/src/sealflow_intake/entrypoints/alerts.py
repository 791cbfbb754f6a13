"""Integrity alerts over HTTP (docs/rules.md §9): the discipline office and the administrator list them and dispose of
them (the disposition goes into each matter's trail, through routing); the administrator sets the thresholds."""

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from pymongo import ReturnDocument
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake import alerts
from sealflow_intake.auth import Person
from sealflow_intake.domain.integrity import Thresholds
from sealflow_intake.entrypoints.deps import Caller, Rt
from sealflow_intake.entrypoints.deps import ask as _ask
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1/supervision")
DISPOSITIONS = {"confirmed": "确认", "dismissed": "排除"}


class DispositionIn(BaseModel):
    status: Literal["confirmed", "dismissed"]
    reason: str = Field(min_length=1, max_length=2000)


class ThresholdsIn(BaseModel):
    version: int = Field(ge=0, description="the version last read (GET): a different current version is refused 409")
    thresholds: Thresholds


def _overseer(person: Person) -> None:
    if not person.oversees:
        raise ApiError("forbidden", "只有镇纪委或管理员可以查看和处置预警 (only the discipline office or the administrator)")


@router.get("/alerts")
async def list_alerts(
    rt: Rt,
    person: Caller,
    rule: Annotated[Literal["split_procurement", "act_first", "rubber_stamp", "counterparty_concentration"] | None, Query()] = None,
    village_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[Literal["open", "confirmed", "dismissed"] | None, Query()] = None,
) -> dict[str, Any]:
    """`{"items": [{"id", "rule", "village_id", "matter_ids", "evidence", "raised_at", "status"}]}`, newest first."""
    _overseer(person)
    query = {k: v for k, v in (("rule", rule), ("village_id", village_id), ("status", status)) if v is not None}
    items = [alerts.view(doc) async for doc in rt.db.alerts.find(query).sort("raised_at", -1).limit(500)]
    return {"items": items}


@router.post("/alerts/{alert_id}/disposition")
async def dispose(alert_id: str, body: DispositionIn, rt: Rt, person: Caller) -> dict[str, Any]:
    """Confirm or dismiss an alert; the disposition is written into the trail of every matter it names."""
    _overseer(person)
    doc = await rt.db.alerts.find_one({"_id": alert_id})
    if doc is None:
        raise ApiError("not_found", f"没有预警 {alert_id} (no such alert)")
    # One disposition per alert: the first one claims it, so two officers on stale pages cannot overwrite each
    # other. The same disposition asked again (a retry after a lost answer) goes through again: routing
    # writes one trail entry per matter for it whatever the number of tries.
    disposition = {"status": body.status, "reason": body.reason, "by": person.id, "at": m.utcnow().isoformat()}
    claimed = await rt.db.alerts.find_one_and_update(
        {"_id": alert_id, "disposition": {"$exists": False}},
        {"$set": {"status": body.status, "disposition": disposition}},
        return_document=ReturnDocument.AFTER,
    )
    earlier = (claimed or await rt.db.alerts.find_one({"_id": alert_id}))["disposition"]
    if (earlier["status"], earlier["reason"], earlier["by"]) != (body.status, body.reason, person.id):
        raise ApiError(
            "alert_already_disposed",
            f"这条预警已于 {earlier['at'][:16].replace('T', ' ')}（UTC）处置为「{DISPOSITIONS[earlier['status']]}」，不能再改 "
            "(the alert was already disposed of)",
        )
    disposition_id = "disposition:" + hashlib.sha256(f"{alert_id}\n{body.status}\n{body.reason}\n{person.id}".encode()).hexdigest()[:24]
    await _ask(
        rt,
        subjects.RPC_ALERT_DISPOSITION,
        m.AlertDisposition(
            actor_id=person.id,
            alert_id=alert_id,
            disposition_id=disposition_id,
            rule=doc["rule"],
            status=body.status,
            reason=body.reason,
            matter_ids=doc["matter_ids"],
        ),
    )
    return alerts.view(await rt.db.alerts.find_one({"_id": alert_id}))


@router.get("/alert-thresholds")
async def get_thresholds(rt: Rt, person: Caller) -> dict[str, Any]:
    _overseer(person)
    value, version = await alerts.thresholds(rt.db)
    return {"version": version, "thresholds": value.model_dump()}


@router.put("/alert-thresholds")
async def put_thresholds(body: ThresholdsIn, rt: Rt, person: Caller) -> dict[str, Any]:
    """The administrator's thresholds (versioned: send the version you read). The whole history is judged again
    by them at once, and every new event after."""
    if "admin" not in person.roles:
        raise ApiError("forbidden", "只有管理员可以修改预警阈值 (only the administrator sets alert thresholds)")
    version = await alerts.set_thresholds(rt.db, body.thresholds, body.version, person.id)
    if version is None:
        raise ApiError("conflict", "阈值已被他人修改，请刷新后再试 (the thresholds changed since you read them)")
    # The whole history judged by the new numbers (a town's matters: seconds; a province would do it in the background).
    raised = await alerts.reevaluate(rt)
    return {"version": version, "thresholds": body.thresholds.model_dump(), "alerts_raised_or_updated": raised}
