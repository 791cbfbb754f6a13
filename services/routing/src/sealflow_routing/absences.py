"""Absence delegation: a person registers a stand-in for a date range; stages that open in that range
give the stand-in their tasks (domain.matter._delegate). routing owns it because it owns the directory
that says who may stand in: someone holding every role of the absent person, in the same village (or
the same town roles) — the authority a transfer (转办) needs."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal

from sealflow_routing.domain.directory import Directory, Person, same_authority
from sealflow_routing.ports import AbsenceBook, Clock, RoutingStore

CHINA = ZoneInfo("Asia/Shanghai")
LONGEST = timedelta(days=366)
ADMIN_ROLE = "admin"


def china_today(now: datetime) -> date:
    """Absences are in the town's calendar days."""
    return now.astimezone(CHINA).date()


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in doc.items() if k != "_id"}}


async def _actor(store: RoutingStore, actor_id: str) -> tuple[Directory, Person, bool]:
    """The directory, the caller in it, and whether they are the administrator (who may act for anyone)."""
    directory = await store.load_directory()
    actor = directory.person(actor_id)
    if actor is None:
        raise DomainRefusal("unknown_person", f"{actor_id} is not in the org directory")
    return directory, actor, ADMIN_ROLE in actor.roles


async def list_absences(req: m.ListAbsences, *, store: RoutingStore, absences: AbsenceBook) -> dict[str, Any]:
    _, actor, is_admin = await _actor(store, req.actor_id)
    return {"items": [_public(d) for d in await absences.find(None if is_admin else actor.id)]}


async def cancel(req: m.CancelAbsence, *, store: RoutingStore, absences: AbsenceBook, clock: Clock) -> dict[str, Any]:
    _, actor, is_admin = await _actor(store, req.actor_id)
    doc = await absences.get(req.absence_id)
    if doc is None or not (is_admin or doc["person_id"] == actor.id):
        raise DomainRefusal("absence_not_found", f"no absence {req.absence_id} of yours")
    if doc["cancelled_at"] is None:
        # Stages already opened keep their stand-in; only stages opening from now on are affected.
        doc["cancelled_at"] = clock()
        await absences.cancel(doc["_id"], doc["cancelled_at"])
    return _public(doc)


async def register(req: m.RegisterAbsence, *, store: RoutingStore, absences: AbsenceBook, clock: Clock) -> dict[str, Any]:
    directory, actor, is_admin = await _actor(store, req.actor_id)
    absence = new_absence(req, directory, actor, is_admin, clock())
    await absences.add(absence)
    return _public(absence)


async def candidates(req: m.StandInCandidates, *, store: RoutingStore) -> dict[str, Any]:
    directory, actor, is_admin = await _actor(store, req.actor_id)
    person = directory.person(req.person_id or actor.id) if is_admin else actor
    if person is None:
        raise DomainRefusal("unknown_person", f"{req.person_id} is not in the org directory")
    return {"items": [{"id": p.id, "name": p.name, "roles": p.roles} for p in may_stand_in(directory, person)]}


async def handle_legacy(req: m.AbsenceRequest, *, store: RoutingStore, absences: AbsenceBook, clock: Clock) -> Any:
    """The one-request-many-actions `AbsenceRequest` callers not yet moved still send: answered by the same
    handlers as the typed requests."""
    match req.action:
        case "list":
            return await list_absences(m.ListAbsences(actor_id=req.actor_id), store=store, absences=absences)
        case "cancel":
            cmd = m.CancelAbsence(actor_id=req.actor_id, absence_id=req.absence_id or "")
            return await cancel(cmd, store=store, absences=absences, clock=clock)
        case "candidates":
            return await candidates(m.StandInCandidates(actor_id=req.actor_id, person_id=req.person_id), store=store)
        case "register":
            await _actor(store, req.actor_id)  # an unknown caller is refused before their dates are looked at
            if req.stand_in_id is None or req.starts_on is None or req.ends_on is None:
                raise DomainRefusal("invalid_absence", "an absence needs stand_in_id, starts_on and ends_on")
            cmd = m.RegisterAbsence.model_validate(
                req.model_dump(include={"actor_id", "person_id", "stand_in_id", "starts_on", "ends_on", "reason"})
            )
            return await register(cmd, store=store, absences=absences, clock=clock)


def may_stand_in(directory: Directory, person: Person) -> list[Person]:
    """The only people a stand-in may be: those holding every role of `person` where they hold it (someone
    with no role has nothing to hand over)."""
    if not person.roles:
        return []
    return [other for other in directory.people if other.id != person.id and not authority_missing(directory, person, other)]


def authority_missing(directory: Directory, person: Person, stand_in: Person) -> list[str]:
    return [role for role in person.roles if not same_authority(directory, role, person.village_id, stand_in.id)]


def new_absence(req: m.RegisterAbsence, directory: Directory, actor: Person, is_admin: bool, now: datetime) -> dict[str, Any]:
    """The absence to store, once every rule holds (pure: the caller stores it)."""
    person_id = req.person_id or actor.id
    if person_id != actor.id and not is_admin:
        raise DomainRefusal("forbidden", "only the administrator registers an absence for someone else")
    person, stand_in = directory.person(person_id), directory.person(req.stand_in_id)
    if person is None:
        raise DomainRefusal("unknown_person", f"{person_id} is not in the org directory")
    if stand_in is None:
        raise DomainRefusal("invalid_absence", f"{req.stand_in_id} is not in the org directory")
    if stand_in.id == person.id:
        raise DomainRefusal("invalid_absence", "a person cannot stand in for themselves")
    if req.ends_on < req.starts_on:
        raise DomainRefusal("invalid_absence", "an absence needs starts_on and ends_on, ends_on not before starts_on")
    if req.ends_on - req.starts_on > LONGEST:
        raise DomainRefusal("invalid_absence", "an absence is at most a year; register the next one when it comes")
    if req.ends_on < china_today(now):
        raise DomainRefusal("invalid_absence", f"the absence ended on {req.ends_on.isoformat()}")
    if not req.reason.strip():
        raise DomainRefusal("reason_required", "an absence needs a reason")
    if not person.roles:
        raise DomainRefusal("invalid_absence", f"{person.id} holds no role: there is nothing to hand over")
    missing = authority_missing(directory, person, stand_in)
    if missing:
        raise DomainRefusal("not_same_authority", f"{stand_in.id} does not hold {', '.join(missing)} where {person.id} does")
    return {
        "_id": uuid.uuid4().hex,
        "person_id": person.id,
        "stand_in_id": stand_in.id,
        "starts_on": req.starts_on.isoformat(),
        "ends_on": req.ends_on.isoformat(),
        "reason": req.reason,
        "registered_by": actor.id,
        "registered_at": now,
        "cancelled_at": None,
    }
