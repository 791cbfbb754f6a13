"""Integrity alerts (SPEC §9), evaluated by intake as matters change: intake's read model holds every matter's
form, route and decisions and the `viewed` facts it records, which is everything the rules read. The rules are
pure (domain/integrity.py); this module gathers their facts, keeps the alerts (one per key: a pattern seen
again updates its alert, never raises a second) and the administrator's thresholds."""

import time
from datetime import date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import rpc_call
from sealflow_runtime.service import Runtime

from sealflow_intake.domain import integrity as rules

SETTINGS_ID = "thresholds"
_FORMS: dict[str, Any] = {"at": 0.0, "meanings": {}}


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.views.create_index([("person_id", 1), ("matter_id", 1)])
    await db.alerts.create_index([("rule", 1), ("status", 1)])
    await db.matters.create_index([("village_id", 1), ("matter_type", 1)])


async def record_view(db: AsyncDatabase, person_id: str, matter_id: str, what: str) -> None:
    """A `viewed` fact: this person opened the matter's document or an attachment (the rubber-stamp rule reads it)."""
    await db.views.insert_one({"person_id": person_id, "matter_id": matter_id, "what": what, "at": m.utcnow()})


async def thresholds(db: AsyncDatabase) -> tuple[rules.Thresholds, int]:
    doc = await db.alert_settings.find_one({"_id": SETTINGS_ID})
    if doc is None:
        # The pilot's policy threshold (500,000 元 brings in the principal) for the procurement types.
        return rules.Thresholds(split_amount_fen={"service_procurement": 50_000_000, "village_project": 50_000_000}), 0
    return rules.Thresholds.model_validate(doc["thresholds"]), doc["version"]


async def set_thresholds(db: AsyncDatabase, value: rules.Thresholds, if_match: int, actor_id: str) -> int | None:
    """Versioned like every administrator's change: a stale version changes nothing (None)."""
    current = await db.alert_settings.find_one({"_id": SETTINGS_ID})
    version = current["version"] if current else 0
    if if_match != version:
        return None
    doc = {"thresholds": value.model_dump(), "version": version + 1, "changed_by": actor_id, "changed_at": m.utcnow()}
    if current is None:
        await db.alert_settings.insert_one({"_id": SETTINGS_ID, **doc})
    else:
        done = await db.alert_settings.update_one({"_id": SETTINGS_ID, "version": version}, {"$set": doc})
        if done.modified_count != 1:
            return None
    return version + 1


async def _meanings(rt: Runtime) -> dict[str, dict[str, str]]:
    """matter type → {meaning: field key}, from routing's forms (read at most once a minute)."""
    if time.monotonic() - _FORMS["at"] > 60 or not _FORMS["meanings"]:
        reply = await rpc_call(rt.broker, subjects.RPC_ADMIN, m.AdminRequest(actor_id="system", action="list_matter_types"))
        if reply.ok:
            _FORMS["meanings"] = {
                t["id"]: {f["meaning"]: f["key"] for f in t["form"]["fields"] if f.get("meaning")} for t in reply.result["items"]
            }
            _FORMS["at"] = time.monotonic()
    return _FORMS["meanings"]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def matter_facts(matter: dict[str, Any], meanings: dict[str, str], fields: dict[str, Any]) -> rules.MatterFacts:
    party = fields.get(meanings.get("counterparty", "counterparty"))
    return rules.MatterFacts(
        matter_id=matter["id"],
        village_id=matter["village_id"],
        matter_type=matter["matter_type"],
        amount_fen=matter["amount_fen"],
        submitted_at=_when(matter["created_at"]),
        counterparty=str(party) if party else None,
        service_start=_date(fields.get(meanings.get("service_start", "service_start"))),
    )


async def _approvals(db: AsyncDatabase, person_id: str) -> list[rules.Approval]:
    views: dict[str, list[datetime]] = {}
    async for view in db.views.find({"person_id": person_id}, {"matter_id": 1, "at": 1}):
        views.setdefault(view["matter_id"], []).append(_when(view["at"]).replace(tzinfo=None))
    approvals = []
    async for matter in db.matters.find({"stages.assignees.person_id": person_id}, {"id": 1, "stages": 1}):
        for stage in matter["stages"]:
            for slot in stage["assignees"]:
                if (
                    slot["person_id"] == person_id
                    and slot.get("decision") == "approve"
                    and slot.get("decided_at")
                    and stage.get("opened_at")
                ):
                    decided = _when(slot["decided_at"])
                    seen = any(at <= decided.replace(tzinfo=None) for at in views.get(matter["id"], []))
                    approvals.append(
                        rules.Approval(
                            person_id=person_id,
                            matter_id=matter["id"],
                            reached_at=_when(stage["opened_at"]),
                            decided_at=decided,
                            viewed=seen,
                        )
                    )
    return approvals


async def evaluate(rt: Runtime, matter_id: str, entry_types: set[str]) -> list[rules.Alert]:
    """Run the rules a change can affect: a submission or revision (split, act first, concentration), an approval
    (rubber stamp). Returns the alerts raised or updated."""
    submitted = bool(entry_types & {"matter.submitted", "matter.revised"})
    approved = "decision.approve" in entry_types
    if not (submitted or approved):
        return []
    matter = await rt.db.matters.find_one({"_id": matter_id})
    if matter is None:
        return []
    limits, _ = await thresholds(rt.db)
    found: list[rules.Alert] = []
    if submitted:
        meanings = await _meanings(rt)
        docs = await rt.db.matters.find(
            {"village_id": matter["village_id"], "matter_type": matter["matter_type"], "status": {"$nin": ["rejected", "withdrawn"]}}
        ).to_list()
        # The form as submitted: intake keeps it in `documents` before routing is asked, so it is there already.
        forms = {
            d["_id"]: d.get("fields") or {} async for d in rt.db.documents.find({"_id": {"$in": [d["_id"] for d in docs]}}, {"fields": 1})
        }
        peers = [
            matter_facts(doc, meanings.get(doc["matter_type"], {}), forms.get(doc["_id"]) or (doc.get("form") or {}).get("fields") or {})
            for doc in docs
        ]
        own = next((p for p in peers if p.matter_id == matter_id), None)
        found += [a for a in rules.split_procurement(peers, limits) if matter_id in a.matter_ids]
        found += [a for a in rules.counterparty_concentration(peers, limits, m.utcnow()) if matter_id in a.matter_ids]
        if own is not None and (alert := rules.act_first(own)):
            found.append(alert)
    if approved:
        people = {s["person_id"] for stage in matter["stages"] for s in stage["assignees"] if s.get("decision") == "approve"}
        for person in sorted(people):
            found += [a for a in rules.rubber_stamp(await _approvals(rt.db, person), limits) if matter_id in a.matter_ids]
    for alert in found:
        await keep(rt.db, alert)
    return found


async def reevaluate(rt: Runtime) -> int:
    """Every rule over the whole history, after the thresholds changed: new patterns are raised (kept alerts and
    their dispositions stay; an alert is never deleted). Returns how many alerts were raised or updated."""
    limits, _ = await thresholds(rt.db)
    meanings = await _meanings(rt)
    docs = await rt.db.matters.find({"status": {"$nin": ["rejected", "withdrawn"]}}).to_list()
    forms = {d["_id"]: d.get("fields") or {} async for d in rt.db.documents.find({}, {"fields": 1})}
    facts = [
        matter_facts(doc, meanings.get(doc["matter_type"], {}), forms.get(doc["_id"]) or (doc.get("form") or {}).get("fields") or {})
        for doc in docs
    ]
    found = rules.split_procurement(facts, limits) + rules.counterparty_concentration(facts, limits, m.utcnow())
    found += [a for f in facts if (a := rules.act_first(f))]
    people = {s["person_id"] for doc in docs for stage in doc["stages"] for s in stage["assignees"] if s.get("decision") == "approve"}
    for person in sorted(people):
        found += rules.rubber_stamp(await _approvals(rt.db, person), limits)
    for alert in found:
        await keep(rt.db, alert)
    return len(found)


async def keep(db: AsyncDatabase, alert: rules.Alert) -> None:
    now = m.utcnow()
    await db.alerts.update_one(
        {"_id": alert.key},
        {
            "$set": {
                "rule": alert.rule,
                "village_id": alert.village_id,
                "matter_ids": alert.matter_ids,
                "evidence": alert.evidence,
                "updated_at": now,
            },
            "$setOnInsert": {"raised_at": now, "status": "open"},
        },
        upsert=True,
    )


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "rule": doc["rule"],
        "village_id": doc["village_id"],
        "matter_ids": doc["matter_ids"],
        "evidence": doc["evidence"],
        "raised_at": _when(doc["raised_at"]).isoformat(),
        "status": doc["status"],
        **({"disposition": doc["disposition"]} if doc.get("disposition") else {}),
    }
