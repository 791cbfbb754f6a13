"""Reading matters from intake's read model: who may read one, how it is shown (with its form), finding
matters, one's open tasks, and the trail as a person reads it."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal

from sealflow_runtime.service import Runtime

from sealflow_intake import labels
from sealflow_intake.adapters import readmodel
from sealflow_intake.adapters.signing import Signing
from sealflow_intake.auth import Authenticator, Person
from sealflow_intake.errors import ApiError
from sealflow_intake.service.names import person_name, seal_name

CHINA = timezone(timedelta(hours=8))


def may_read(matter: dict[str, Any], person: Person) -> bool:
    if person.oversees or matter["applicant_id"] == person.id:
        return True
    # A signer who transferred their task (转办) still reads what they handed over.
    return any(a["person_id"] == person.id or person.id in a.get("transferred_from", []) for s in matter["stages"] for a in s["assignees"])


async def readable_matter(rt: Runtime, matter_id: str, person: Person) -> dict[str, Any]:
    """The stored matter, if `person` may read it; `matter_not_found` otherwise."""
    matter = await rt.db.matters.find_one({"_id": matter_id}, {"_id": 0})
    if matter is None or not may_read(matter, person):
        # Not yours and not there look the same: ids of other villages' matters do not leak.
        raise ApiError("matter_not_found", "没有找到这个事项，或您无权查看")
    return matter


async def present(rt: Runtime, matter: dict[str, Any]) -> dict[str, Any]:
    """The matter with its form: kept with the stored matter (readmodel.keep_form), else (routing's reply to
    a request, or a matter stored before the form was kept there) read from the document."""
    matter = readmodel.with_overdue({k: v for k, v in matter.items() if k != "_id"})
    form = matter.pop("form", None) or await rt.db.documents.find_one({"_id": matter["id"]}, {"fields": 1, "attachments": 1})
    if form:
        matter["fields"] = form["fields"]
        matter["attachments"] = readmodel.attachment_refs(form["attachments"])
    return matter


@dataclass(frozen=True)
class Search:
    """What to narrow a search by; every filter given applies."""

    village_id: str | None = None
    status: Literal["in_review", "returned", "rejected", "withdrawn", "completed"] | None = None
    mine: bool = False
    matter_type: str | None = None
    applicant_id: str | None = None
    signer_id: str | None = None  # an assignee of any stage
    decided_by: str | None = None  # decided in it; `me` for the caller (已办)
    submitted_from: date | None = None  # China dates, inclusive
    submitted_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    text: str | None = None  # in the title
    limit: int = 50
    offset: int = 0


async def search(rt: Runtime, person: Person, wanted: Search) -> dict[str, Any]:
    """Matters the caller may read, newest first, one page: `{items, limit, offset, next_offset}`. Overseers
    (discipline, administrator) search all; everyone else only matters they applied for or hold a slot in."""
    clauses: list[dict[str, Any]] = []
    if wanted.mine or not person.oversees:
        clauses.append({"$or": [{"applicant_id": person.id}, {"stages.assignees.person_id": person.id}]})
    exact = ("village_id", "status", "matter_type", "applicant_id")
    clauses += [{k: getattr(wanted, k)} for k in exact if getattr(wanted, k)]
    if wanted.signer_id:
        clauses.append({"stages.assignees.person_id": wanted.signer_id})
    if wanted.decided_by:
        who = person.id if wanted.decided_by == "me" else wanted.decided_by
        # A decision of this revision, or of an earlier one that came back (what they signed stays 已办).
        decided = {"$elemMatch": {"person_id": who, "decision": {"$ne": None}}}
        clauses.append({"$or": [{"stages.assignees": decided}, {"previous_revisions.stages.assignees": decided}]})
    if wanted.submitted_from or wanted.submitted_to:
        # created_at is stored as UTC ISO text: compare with the UTC instants of the China days' bounds.
        bounds: dict[str, str] = {}
        if wanted.submitted_from:
            bounds["$gte"] = _china_day_start(wanted.submitted_from)
        if wanted.submitted_to:
            bounds["$lt"] = _china_day_start(wanted.submitted_to + timedelta(days=1))
        clauses.append({"created_at": bounds})
    if wanted.amount_min is not None or wanted.amount_max is not None:
        amount: dict[str, int] = {}
        if wanted.amount_min is not None:
            amount["$gte"] = wanted.amount_min
        if wanted.amount_max is not None:
            amount["$lte"] = wanted.amount_max
        clauses.append({"amount_fen": amount})
    if wanted.text:
        clauses.append({"title": {"$regex": re.escape(wanted.text)}})
    criteria = {"$and": clauses} if clauses else {}
    limit, offset = wanted.limit, wanted.offset
    # One more than asked tells whether there is a next page without counting every match.
    cursor = rt.db.matters.find(criteria, readmodel.LISTED).sort("created_at", -1).skip(offset).limit(limit + 1)
    items = [readmodel.with_overdue(doc) async for doc in cursor]
    more = len(items) > limit
    return {"items": items[:limit], "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}


def _china_day_start(day: date) -> str:
    start = datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%S")


async def tasks(rt: Runtime, person: Person) -> list[dict[str, Any]]:
    """The caller's open tasks, soonest deadline first (those without one last)."""
    cursor = rt.db.matters.find({"status": "in_review", "stages.assignees.person_id": person.id}, readmodel.LISTED)
    found = [t async for doc in cursor for t in readmodel.open_tasks(readmodel.with_overdue(doc), person.id)]
    found.sort(key=lambda t: (t["deadline"] is None, t["deadline"] or ""))
    return found


async def labelled_trail(rt: Runtime, authenticator: Authenticator, signing: Signing, matter_id: str) -> dict[str, Any]:
    """The trail; each entry also carries `label`, the Chinese line a person reads (names, not ids)."""
    found = await readmodel.trail(rt.db, matter_id)
    people: set[str] = set()
    seals: set[str] = set()
    for entry in found["entries"]:
        p, s = labels.ids_in(entry)
        people |= p
        seals |= s
    person_names = {pid: await person_name(authenticator, pid) for pid in people}
    seal_names = {sid: await seal_name(signing, sid) for sid in seals}
    for entry in found["entries"]:
        entry["label"] = labels.label(entry, person_names, seal_names)
    return found
