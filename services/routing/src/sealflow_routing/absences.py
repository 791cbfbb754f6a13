"""Absence delegation: a person registers a stand-in for a date range; stages that open in that range
give the stand-in their tasks (domain.matter._delegate). routing owns it because it owns the directory
that says who may stand in: someone holding every role of the absent person, in the same village (or
the same town roles) — the authority a transfer (转办) needs."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.service import Runtime

from sealflow_routing.adapters import store
from sealflow_routing.domain.directory import Directory, Person, same_authority
from sealflow_routing.domain.matter import StandIn

CHINA = ZoneInfo("Asia/Shanghai")
LONGEST = timedelta(days=366)
ADMIN_ROLE = "admin"


def china_today(now: datetime) -> date:
    """Absences are in the town's calendar days."""
    return now.astimezone(CHINA).date()


async def stand_ins_today(db: AsyncDatabase, today: date) -> dict[str, StandIn]:
    """Absences in force today, by absent person (the most recently registered if two overlap)."""
    day = today.isoformat()
    found: dict[str, StandIn] = {}
    cursor = db.absences.find({"starts_on": {"$lte": day}, "ends_on": {"$gte": day}, "cancelled_at": None}).sort("registered_at", 1)
    async for doc in cursor:
        found[doc["person_id"]] = StandIn(
            absence_id=doc["_id"], person_id=doc["person_id"], stand_in_id=doc["stand_in_id"], ends_on=doc["ends_on"]
        )
    return found


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in doc.items() if k != "_id"}}


async def handle(rt: Runtime, req: m.AbsenceRequest) -> Any:
    directory = await store.load_directory(rt.db)
    actor = directory.person(req.actor_id)
    if actor is None:
        raise DomainRefusal("unknown_person", f"{req.actor_id} is not in the org directory")
    is_admin = ADMIN_ROLE in actor.roles
    match req.action:
        case "list":
            criteria = {} if is_admin else {"$or": [{"person_id": actor.id}, {"stand_in_id": actor.id}]}
            return {"items": [_public(d) async for d in rt.db.absences.find(criteria).sort("starts_on", -1).limit(200)]}
        case "cancel":
            doc = await rt.db.absences.find_one({"_id": req.absence_id})
            if doc is None or not (is_admin or doc["person_id"] == actor.id):
                raise DomainRefusal("absence_not_found", f"no absence {req.absence_id} of yours")
            if doc["cancelled_at"] is None:
                # Stages already opened keep their stand-in; only stages opening from now on are affected.
                doc["cancelled_at"] = m.utcnow()
                await rt.db.absences.update_one({"_id": doc["_id"], "cancelled_at": None}, {"$set": {"cancelled_at": doc["cancelled_at"]}})
            return _public(doc)
        case "register":
            return await _register(rt, req, directory, actor, is_admin)
        case "candidates":
            person = directory.person(req.person_id or actor.id) if is_admin else actor
            if person is None:
                raise DomainRefusal("unknown_person", f"{req.person_id} is not in the org directory")
            return {"items": [{"id": p.id, "name": p.name, "roles": p.roles} for p in may_stand_in(directory, person)]}


def may_stand_in(directory: Directory, person: Person) -> list[Person]:
    """The only people a stand-in may be: those holding every role of `person` where they hold it (someone
    with no role has nothing to hand over)."""
    if not person.roles:
        return []
    return [other for other in directory.people if other.id != person.id and not authority_missing(directory, person, other)]


def authority_missing(directory: Directory, person: Person, stand_in: Person) -> list[str]:
    return [role for role in person.roles if not same_authority(directory, role, person.village_id, stand_in.id)]


async def _register(rt: Runtime, req: m.AbsenceRequest, directory, actor, is_admin: bool) -> dict[str, Any]:
    person_id = req.person_id or actor.id
    if person_id != actor.id and not is_admin:
        raise DomainRefusal("forbidden", "only the administrator registers an absence for someone else")
    person, stand_in = directory.person(person_id), directory.person(req.stand_in_id or "")
    if person is None:
        raise DomainRefusal("unknown_person", f"{person_id} is not in the org directory")
    if stand_in is None:
        raise DomainRefusal("invalid_absence", f"{req.stand_in_id} is not in the org directory")
    if stand_in.id == person.id:
        raise DomainRefusal("invalid_absence", "a person cannot stand in for themselves")
    if req.starts_on is None or req.ends_on is None or req.ends_on < req.starts_on:
        raise DomainRefusal("invalid_absence", "an absence needs starts_on and ends_on, ends_on not before starts_on")
    if req.ends_on - req.starts_on > LONGEST:
        raise DomainRefusal("invalid_absence", "an absence is at most a year; register the next one when it comes")
    if req.ends_on < china_today(m.utcnow()):
        raise DomainRefusal("invalid_absence", f"the absence ended on {req.ends_on.isoformat()}")
    if not req.reason.strip():
        raise DomainRefusal("reason_required", "an absence needs a reason")
    if not person.roles:
        raise DomainRefusal("invalid_absence", f"{person.id} holds no role: there is nothing to hand over")
    missing = authority_missing(directory, person, stand_in)
    if missing:
        raise DomainRefusal("not_same_authority", f"{stand_in.id} does not hold {', '.join(missing)} where {person.id} does")
    doc = {
        "_id": uuid.uuid4().hex,
        "person_id": person.id,
        "stand_in_id": stand_in.id,
        "starts_on": req.starts_on.isoformat(),
        "ends_on": req.ends_on.isoformat(),
        "reason": req.reason,
        "registered_by": actor.id,
        "registered_at": m.utcnow(),
        "cancelled_at": None,
    }
    await rt.db.absences.insert_one(doc)
    return _public(doc)
